"""Saying interest from two tabs at the same moment (PostgreSQL, real transactions)."""

import threading

import pytest
from sqlalchemy import func, select

from portal.beneficiaries.models import Beneficiary
from portal.events.models import Event
from portal.extensions import db
from portal.offers import services
from portal.offers.models import Offer, OfferInterest
from portal.pathway.models import PathwayStep
from tests.factories import make_beneficiary, make_offer, make_organisation

pytestmark = pytest.mark.postgres_only


def _in_context(app, work):
    with app.app_context():
        try:
            return work()
        finally:
            db.session.remove()


def _counts(offer_id: int) -> tuple[int, int, int]:
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count()).where(OfferInterest.offer_id == offer_id)),
        db.session.scalar(select(func.count()).where(PathwayStep.offer_id == offer_id)),
        db.session.scalar(select(func.count()).where(Event.type == "offer.interest")),
    )


def _say(person_id: int, offer_id: int, message: str) -> services.Interest:
    person, offer = db.session.get(Beneficiary, person_id), db.session.get(Offer, offer_id)
    return services.express_interest(person, offer, message)


def test_the_second_of_two_overlapping_transactions_finds_the_first_ones_interest(app):
    """The first has inserted but not committed when the second looks and inserts: the
    second waits on the unique index, then finds the first's row instead of failing."""
    organisation = make_organisation()
    person_id = make_beneficiary(organisation).id
    offer_id = make_offer(organisation).id
    first_inserted, second_started, may_commit = (threading.Event() for _ in range(3))
    results: dict[str, tuple[int, bool]] = {}
    errors: list[BaseException] = []

    def first():
        result = _say(person_id, offer_id, "Premier onglet")
        first_inserted.set()
        second_started.wait(10)
        may_commit.wait(10)
        db.session.commit()
        results["first"] = (result.interest.id, result.created)

    def second():
        first_inserted.wait(10)
        second_started.set()
        result = _say(person_id, offer_id, "Second onglet")  # blocks until the first commits
        db.session.commit()
        results["second"] = (result.interest.id, result.created)

    def guarded(work):
        def run():
            try:
                _in_context(app, work)
            except BaseException as error:  # reported below
                errors.append(error)

        return run

    threads = [threading.Thread(target=guarded(work)) for work in (first, second)]
    for thread in threads:
        thread.start()
    second_started.wait(10)
    threads[1].join(0.5)  # the second is now waiting on the first's uncommitted row
    assert threads[1].is_alive(), "the second did not wait for the first"
    may_commit.set()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert results["first"][1] is True and results["second"][1] is False
    assert results["first"][0] == results["second"][0]
    assert _counts(offer_id) == (1, 1, 1)
    interest = db.session.scalars(select(OfferInterest)).one()
    assert interest.message == "Premier onglet"


def _taps_at_once(app, person_id: int, offer_id: int, taps: int) -> list[bool]:
    """`taps` threads, each its own session and transaction, say interest at one moment."""
    start = threading.Barrier(taps)
    created: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        start.wait(10)
        result = _say(person_id, offer_id, f"Tap {n}")
        db.session.commit()
        with lock:
            created.append(result.created)

    def tap(n: int) -> None:
        try:
            _in_context(app, lambda: work(n))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=tap, args=(n,)) for n in range(taps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    return created


def test_ten_taps_at_once_give_one_interest_one_step_one_event(app):
    organisation = make_organisation()
    person_id = make_beneficiary(organisation).id
    offer_ids = [make_offer(organisation, title=f"Offre {n}").id for n in range(5)]
    for offer_id in offer_ids:
        created = _taps_at_once(app, person_id, offer_id, 10)
        assert sorted(created) == [False] * 9 + [True]
        interests, steps, _events = _counts(offer_id)
        assert (interests, steps) == (1, 1)
    assert _counts(offer_ids[0])[2] == len(offer_ids)  # one event per offer, no more

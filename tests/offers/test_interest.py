"""'Ça m'intéresse': one interest, one planned step, one event, however many times it is said."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.caseload import todo
from portal.core.clock import paris_today
from portal.events.models import Event, EventRecipient
from portal.extensions import db
from portal.offers import services
from portal.offers.models import OfferInterest
from portal.pathway.models import PathwayStep, StepKind, StepSource, StepStatus
from tests.conftest import Browser
from tests.factories import (
    make_beneficiary,
    make_counsellor,
    make_offer,
    make_organisation,
    make_pathway,
)
from tests.offers.conftest import api_of, text_of

HTMX = {"HX-Request": "true"}
MESSAGE = "Je suis libre le matin, je n'ai pas de voiture."


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _interest_events() -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.type == "offer.interest")))


@pytest.fixture
def setting(app):
    """Amina, followed by the Bas-Rhin and a PLIE; an offer the department published."""
    person, department, plie = make_pathway()
    offer = make_offer(department, external_id="O-42", title="Immersion en boulangerie")
    return person, department, plie, offer


def _say_interest(sign_in, person, offer, message=MESSAGE, **kwargs):
    browser = Browser(sign_in(person))
    url = f"/offres/{offer.id}/interet"
    return browser, browser.submit(url, {"message": message}, page=f"/offres/{offer.id}", **kwargs)


def test_saying_interest_records_it_adds_a_planned_step_and_tells_the_back_office(setting, sign_in):
    person, department, plie, offer = setting
    steps_before = _count(PathwayStep)
    browser, response = _say_interest(sign_in, person, offer)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/offres/{offer.id}#interet"

    interest = db.session.scalars(select(OfferInterest)).one()
    assert (interest.offer_id, interest.beneficiary_id) == (offer.id, person.id)
    assert interest.message == MESSAGE
    assert interest.acknowledged_at is None

    assert _count(PathwayStep) == steps_before + 1
    step = db.session.scalars(select(PathwayStep).where(PathwayStep.offer_id == offer.id)).one()
    assert step.beneficiary_id == person.id
    assert step.status is StepStatus.PLANNED
    assert step.source is StepSource.PORTAL
    assert step.kind is StepKind.IMMERSION
    assert step.title == "Immersion en boulangerie"
    assert step.organisation_name == offer.provider_name
    assert (step.starts_on, step.ends_on) == (offer.starts_on, offer.ends_on)
    assert step.organisation_id == department.id  # the publisher follows her

    (event,) = _interest_events()
    assert event.beneficiary_id == person.id
    assert event.data["offer"]["id"] == offer.id
    assert event.data["offer"]["external_id"] == "O-42"
    assert event.data["offer"]["organisation"] == department.slug
    assert event.data["offer"]["kind"] == "immersion"
    assert event.data["offer"]["title"] == "Immersion en boulangerie"
    assert event.data["message"] == MESSAGE
    assert event.data["step_external_id"] == step.external_id

    page = text_of(browser.get(f"/offres/{offer.id}"))
    assert "C'est noté : cette offre vous intéresse" in page
    assert f"Votre message : {MESSAGE}" in page
    assert "Karim Benali" in page  # who knows now
    assert "Ça m'intéresse" not in page  # no second button
    # And on her pathway, as a planned step.
    assert "Immersion en boulangerie" in text_of(browser.get("/accueil"))


def test_the_event_reaches_every_organisation_following_the_person_and_no_other(
    setting, sign_in, client
):
    person, department, plie, offer = setting
    stranger = make_organisation(slug="stranger")
    _say_interest(sign_in, person, offer)
    external_ids = {f.organisation_id: f.external_id for f in person.follow_ups}
    for organisation in (department, plie):
        events = [e for e in api_of(client, organisation).events() if e["type"] == "offer.interest"]
        assert len(events) == 1, organisation.slug
        assert events[0]["beneficiary_external_id"] == external_ids[organisation.id]
        assert events[0]["data"]["offer"] == {
            "id": offer.id,
            "external_id": "O-42",
            "organisation": department.slug,
            "kind": "immersion",
            "title": "Immersion en boulangerie",
        }
        assert events[0]["data"]["message"] == MESSAGE
    assert api_of(client, stranger).events() == []


def test_an_offer_from_an_organisation_that_does_not_follow_the_person(app, sign_in, client):
    person, department, plie = make_pathway()
    publisher = make_organisation(slug="greta-alsace")
    offer = make_offer(publisher, external_id="G-1", kind="training", title="Cariste")
    _say_interest(sign_in, person, offer, message="")
    step = db.session.scalars(select(PathwayStep).where(PathwayStep.offer_id == offer.id)).one()
    assert step.organisation_id in (department.id, plie.id)  # someone who follows her
    (event,) = _interest_events()
    assert event.data["offer"]["organisation"] == "greta-alsace"
    assert event.data["message"] is None
    assert api_of(client, publisher).events() == []  # it does not follow her
    recipients = db.session.scalars(
        select(EventRecipient.organisation_id).where(EventRecipient.event_id == event.id)
    ).all()
    assert sorted(recipients) == sorted([department.id, plie.id])


@pytest.mark.parametrize(
    ("offer_kind", "step_kind"),
    [
        ("immersion", StepKind.IMMERSION),
        ("training", StepKind.TRAINING),
        ("volunteering", StepKind.VOLUNTEERING),
        ("job", StepKind.EMPLOYMENT),
    ],
)
def test_the_step_kind_follows_the_offer_kind(app, offer_kind, step_kind):
    organisation = make_organisation()
    person = make_beneficiary(organisation)
    offer = make_offer(organisation, kind=offer_kind, title=f"Une offre {offer_kind}")
    result = services.express_interest(person, offer, None)
    db.session.commit()
    assert result.created is True
    step = db.session.scalars(select(PathwayStep).where(PathwayStep.offer_id == offer.id)).one()
    assert (step.kind, step.title, step.status) == (
        step_kind,
        f"Une offre {offer_kind}",
        StepStatus.PLANNED,
    )


def test_an_offer_without_dates_gives_a_step_without_dates(app):
    organisation = make_organisation()
    person = make_beneficiary(organisation)
    offer = make_offer(organisation, starts_on=None, ends_on=paris_today() + timedelta(days=9))
    services.express_interest(person, offer, "  ")
    db.session.commit()
    step = db.session.scalars(select(PathwayStep).where(PathwayStep.offer_id == offer.id)).one()
    assert (step.starts_on, step.ends_on) == (None, None)
    assert db.session.scalars(select(OfferInterest)).one().message is None  # blank is none


def test_saying_it_twice_does_nothing_more(setting, sign_in):
    person, department, plie, offer = setting
    browser, first = _say_interest(sign_in, person, offer)
    counts = (_count(OfferInterest), _count(PathwayStep), _count(Event))
    url = f"/offres/{offer.id}/interet"
    # The form is gone from the page; a second post (another tab, a replay) changes nothing.
    again = browser.submit(url, {"message": "Finalement, plutôt l'après-midi."})
    assert again.status_code == 302
    again = browser.submit(url, {"message": MESSAGE}, headers=HTMX)
    assert again.status_code == 200
    assert (_count(OfferInterest), _count(PathwayStep), _count(Event)) == counts
    assert (counts[0], len(_interest_events())) == (1, 1)
    assert db.session.scalars(select(OfferInterest)).one().message == MESSAGE
    assert services.express_interest(person, offer, "Encore").created is False
    db.session.commit()
    assert (_count(OfferInterest), _count(PathwayStep), _count(Event)) == counts


def test_with_htmx_the_answer_is_the_notice_alone(setting, sign_in):
    person, _department, _plie, offer = setting
    _browser, response = _say_interest(sign_in, person, offer, headers=HTMX)
    assert response.status_code == 200
    fragment = text_of(response)
    assert "<html" not in fragment
    assert "C'est noté : cette offre vous intéresse" in fragment
    assert _count(OfferInterest) == 1


def test_a_message_over_1000_characters_is_refused_and_kept(setting, sign_in):
    person, _department, _plie, offer = setting
    typed = "Je voudrais en savoir plus. " * 40  # 1 120 characters
    browser, response = _say_interest(sign_in, person, offer, message=typed)
    assert response.status_code == 422
    page = text_of(response)
    assert "1 000 caractères au plus." in page
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1)
    assert textarea.strip() == typed.strip()
    assert (_count(OfferInterest), len(_interest_events())) == (0, 0)
    # 1000 exactly is fine.
    _browser, accepted = _say_interest(sign_in, person, offer, message="a" * 1000)
    assert accepted.status_code == 302
    assert db.session.scalars(select(OfferInterest)).one().message == "a" * 1000


def test_with_htmx_a_refused_message_comes_back_as_a_fragment_htmx_swaps(setting, sign_in):
    """htmx swaps no 4xx answer by default: the error must come as a success, as the
    sign-in forms do, or the person sees nothing happen."""
    person, _department, _plie, offer = setting
    typed = "x" * 1001
    _browser, response = _say_interest(sign_in, person, offer, message=typed, headers=HTMX)
    fragment = text_of(response)
    assert "<html" not in fragment
    assert "1 000 caractères au plus." in fragment and typed in fragment
    assert 200 <= response.status_code < 300
    assert _count(OfferInterest) == 0


def test_the_message_is_optional_in_the_browser_too(setting, sign_in):
    """A browser refuses to send a form whose field carries `required`, whatever its value."""
    person, _department, _plie, offer = setting
    page = sign_in(person).get(f"/offres/{offer.id}").get_data(as_text=True)
    textarea = re.search(r"<textarea[^>]*>", page).group(0)
    assert not re.search(r"\srequired(=|\s|>)", textarea), textarea


def test_nobody_signed_in_is_sent_to_sign_in_and_nothing_is_recorded(setting, browser):
    _person, _department, _plie, offer = setting
    page = text_of(browser.get(f"/offres/{offer.id}"))
    assert "Se connecter pour dire « Ça m'intéresse »" in page
    response = browser.submit(
        f"/offres/{offer.id}/interet", {"message": MESSAGE}, page=f"/offres/{offer.id}"
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion?next=")
    assert f"/offres/{offer.id}/interet" in response.headers["Location"].replace("%2F", "/")
    assert _count(OfferInterest) == 0


def test_a_counsellor_cannot_say_interest(setting, sign_in):
    _person, department, _plie, offer = setting
    browser = Browser(sign_in(make_counsellor(department)))
    page = browser.get(f"/offres/{offer.id}").get_data(as_text=True)
    assert f'action="/offres/{offer.id}/interet"' not in page  # no button for them
    response = browser.submit(f"/offres/{offer.id}/interet", {"message": MESSAGE})
    assert response.status_code == 403
    assert (_count(OfferInterest), len(_interest_events())) == (0, 0)


@pytest.mark.parametrize("how", ["withdrawn", "expired", "finished", "missing"])
def test_an_offer_no_longer_visible_is_a_404(setting, sign_in, how):
    person, _department, _plie, offer = setting
    browser = Browser(sign_in(person))
    page = f"/offres/{offer.id}"
    token_page = browser.get(page)
    assert token_page.status_code == 200
    offer_id = offer.id
    if how == "withdrawn":
        services.withdraw_offer(offer)
    elif how == "expired":
        offer.expires_on = paris_today() - timedelta(days=1)
    elif how == "finished":
        offer.ends_on = paris_today() - timedelta(days=1)
    else:
        offer_id = 999_999
    db.session.commit()
    response = browser.submit(f"/offres/{offer_id}/interet", {"message": MESSAGE}, page="/accueil")
    assert response.status_code == 404
    assert (_count(OfferInterest), len(_interest_events())) == (0, 0)


def test_interest_said_before_a_withdrawal_is_kept(setting, sign_in):
    person, _department, _plie, offer = setting
    _say_interest(sign_in, person, offer)
    services.withdraw_offer(offer)
    db.session.commit()
    assert _count(OfferInterest) == 1
    assert sign_in(person).get(f"/offres/{offer.id}").status_code == 404


# -- Taking an interest back (contract v1.1: offer.interest_withdrawn) -------------------------


def test_an_interest_taken_back_removes_its_step_and_tells_the_back_office(setting, sign_in):
    person, department, plie, offer = setting
    browser, _ = _say_interest(sign_in, person, offer)
    [said] = _interest_events()
    page = browser.get(f"/offres/{offer.id}").get_data(as_text=True)
    assert (
        "Cette offre ne m&#39;intéresse plus" in page or "Cette offre ne m'intéresse plus" in page
    )
    response = browser.submit(f"/offres/{offer.id}/interet/retirer", {}, page=f"/offres/{offer.id}")
    assert response.headers["Location"] == f"/offres/{offer.id}#interet"
    assert _count(OfferInterest) == 0
    assert (
        db.session.scalars(select(PathwayStep).where(PathwayStep.offer_id == offer.id)).all() == []
    )
    [withdrawn] = db.session.scalars(
        select(Event).where(Event.type == "offer.interest_withdrawn")
    ).all()
    assert withdrawn.data == said.data  # the same data as the interest, as the contract says
    recipients = db.session.scalars(
        select(EventRecipient.organisation_id).where(EventRecipient.event_id == withdrawn.id)
    ).all()
    assert sorted(recipients) == sorted([department.id, plie.id])
    page = browser.get(f"/offres/{offer.id}").get_data(as_text=True)
    assert "ne vous intéresse plus" in page
    # Said again later: a new interest and a new planned step, as the first time.
    _say_interest(sign_in, person, offer)
    assert _count(OfferInterest) == 1


def test_a_started_activity_is_not_taken_back(setting, sign_in):
    person, _department, _plie, offer = setting
    browser, _ = _say_interest(sign_in, person, offer)
    step = db.session.scalars(select(PathwayStep).where(PathwayStep.offer_id == offer.id)).one()
    step.status = StepStatus.IN_PROGRESS
    db.session.commit()
    page = browser.get(f"/offres/{offer.id}").get_data(as_text=True)
    assert "ne m&#39;intéresse plus" not in page and "ne m'intéresse plus" not in page
    browser.client.post(f"/offres/{offer.id}/interet/retirer", data={})  # no token: refused
    assert _count(OfferInterest) == 1
    assert services.withdraw_interest(person, offer) is False
    assert _count(OfferInterest) == 1


def test_the_counsellors_to_do_no_longer_lists_a_taken_back_interest(setting, sign_in):
    person, department, _plie, offer = setting
    _say_interest(sign_in, person, offer)
    counsellor = make_counsellor(department)
    assert todo.new_interests(counsellor, False, 5).count == 1
    assert services.withdraw_interest(person, offer) is True
    db.session.commit()
    assert todo.new_interests(counsellor, False, 5).count == 0

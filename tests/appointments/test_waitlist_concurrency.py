"""Two waitlisted people tap the SMS link for the same freed slot at the same instant
(PostgreSQL, real transactions): one moves there, the other is told it is gone."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.appointments import services
from portal.appointments.models import Appointment, AppointmentStatus, WaitlistOffer
from portal.extensions import db
from tests.conftest import post_at_once
from tests.factories import make_beneficiary, make_counsellor, make_organisation, make_slot

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": False}


def test_two_people_taking_one_freed_slot_at_once(sign_in, working_hours):
    organisation = make_organisation()
    counsellor = make_counsellor(organisation)
    people, appointments = [], []
    for days in (5, 6):
        person = make_beneficiary(organisation)
        appointment = services.book(person, make_slot(counsellor, timedelta(days=days)).id)
        services.join_waitlist(appointment)
        people.append(person)
        appointments.append(appointment)
    freed = services.book(make_beneficiary(organisation), make_slot(counsellor).id)
    db.session.commit()
    services.cancel(freed, by="beneficiary")
    db.session.commit()
    offers = db.session.scalars(select(WaitlistOffer).order_by(WaitlistOffer.id)).all()
    assert len(offers) == 2
    slot_id = freed.slot_id

    urls = [f"/rendez-vous/plus-tot/{offer.id}" for offer in offers]
    clients = [sign_in(person) for person in people]
    responses = post_at_once(list(zip(clients, urls, strict=True)))
    answers = {
        url: (response.status_code, response.headers.get("Location", ""))
        for url, response in zip(urls, responses, strict=True)
    }

    assert sorted(status for status, _ in answers.values()) == [302, 302], answers  # no 500
    winners = [url for url, (_, where) in answers.items() if where.endswith("?fait=1")]
    losers = [url for url, (_, where) in answers.items() if where == url]
    assert (len(winners), len(losers)) == (1, 1), answers
    [loser] = losers
    client = clients[urls.index(loser)]
    page = client.get(loser).get_data(as_text=True)
    assert "Quelqu'un l'a pris avant vous." in page
    db.session.expire_all()
    live = db.session.scalars(
        select(Appointment).where(
            Appointment.slot_id == slot_id,
            Appointment.status == AppointmentStatus.REQUESTED,
        )
    ).all()
    assert len(live) == 1
    # The one who was too late keeps their appointment as it was.
    kept = [a for a in appointments if a.status is AppointmentStatus.REQUESTED]
    assert len(kept) == 1

"""Fifty people tap the same slot at the same moment (PostgreSQL, real transactions)."""

import re

import pytest
from sqlalchemy import select

from portal.appointments.models import Appointment
from portal.extensions import db
from tests.conftest import post_at_once
from tests.factories import make_beneficiary, make_counsellor, make_organisation, make_slot

pytestmark = pytest.mark.postgres_only
PEOPLE = 50


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": False}


def test_fifty_people_booking_one_slot_get_one_appointment_and_49_other_slots(sign_in):
    organisation = make_organisation()
    counsellor = make_counsellor(organisation)
    slot = make_slot(counsellor)
    make_slot(counsellor, starts_in=slot.starts_at - slot.created_at)  # somewhere to go instead
    slot_id = slot.id
    pages = [
        (sign_in(make_beneficiary(organisation)), f"/rendez-vous/creneaux/{slot.id}")
        for _ in range(PEOPLE)
    ]
    answers = _status_and_location(post_at_once(pages))

    assert len(answers) == PEOPLE
    assert all(status == 302 for status, _ in answers), answers  # no 500, no error page
    winners = [
        location for _, location in answers if re.match(r"^/rendez-vous/\d+\?fait=1$", location)
    ]
    losers = [location for _, location in answers if location.startswith("/rendez-vous/nouveau")]
    assert (len(winners), len(losers)) == (1, PEOPLE - 1)
    db.session.expire_all()
    booked = db.session.scalars(select(Appointment).where(Appointment.slot_id == slot_id)).all()
    assert len(booked) == 1


def test_two_bookings_at_the_same_instant_do_not_pass_the_cap_together(sign_in):
    """With two appointments to come, a person taps two slots at once in two browsers:
    one booking goes through, the other is refused (the person's row is locked)."""
    from datetime import timedelta

    from portal.appointments.services import book

    organisation = make_organisation()
    counsellor = make_counsellor(organisation)
    person = make_beneficiary(organisation)
    for n in range(organisation.max_upcoming_appointments - 1):
        book(person, make_slot(counsellor, starts_in=timedelta(days=3, hours=n)).id)
    db.session.commit()
    targets = [make_slot(counsellor, starts_in=timedelta(days=5, hours=n)).id for n in range(2)]
    answers = [
        response.headers.get("Location", "") for response in _tap_at_once(sign_in, person, targets)
    ]
    db.session.expire_all()
    live = db.session.scalars(
        select(Appointment).where(
            Appointment.beneficiary_id == person.id, Appointment.slot_id.in_(targets)
        )
    ).all()
    assert len(live) == 1, answers
    assert sorted(answers)[0] == "/rendez-vous/", answers


def test_two_slots_at_the_same_hour_tapped_at_once_make_one_appointment(sign_in):
    """One person, two browsers, two counsellors' slots at the same hour: one booking."""
    from datetime import timedelta

    organisation = make_organisation()
    person = make_beneficiary(organisation)
    targets = [
        make_slot(make_counsellor(organisation), starts_in=timedelta(days=3)).id for _ in range(2)
    ]
    statuses = [response.status_code for response in _tap_at_once(sign_in, person, targets)]
    db.session.expire_all()
    live = db.session.scalars(
        select(Appointment).where(Appointment.beneficiary_id == person.id)
    ).all()
    assert len(live) == 1
    assert sorted(statuses) == [302, 409], statuses


def _tap_at_once(sign_in, person, slot_ids: list[int]) -> list:
    """The person, signed in in one browser per slot, taps "book" in all at the same instant."""
    return post_at_once([(sign_in(person), f"/rendez-vous/creneaux/{id_}") for id_ in slot_ids])


def _status_and_location(responses) -> list[tuple[int, str]]:
    return [(r.status_code, r.headers.get("Location", "")) for r in responses]


SESSION_PEOPLE, SESSION_SEATS = 200, 10


def _race_for_a_session(sign_in, people: int, seats: int) -> tuple[int, list[tuple[int, str]]]:
    """`people` people tap "book" on a session of `seats` seats at the same instant, in
    real concurrent transactions: (the session's id, each one's status and redirect)."""
    organisation = make_organisation()
    session = make_slot(make_counsellor(organisation), capacity=seats, title="Réunion")
    session_id = session.id
    pages = [
        (sign_in(make_beneficiary(organisation)), f"/rendez-vous/creneaux/{session_id}")
        for _ in range(people)
    ]
    answers = _status_and_location(post_at_once(pages))
    assert len(answers) == people
    assert all(status == 302 for status, _ in answers), answers  # no 500, no error page
    return session_id, answers


def _seats_taken(session_id: int) -> list[int]:
    db.session.expire_all()
    return sorted(
        db.session.scalars(select(Appointment.seat).where(Appointment.slot_id == session_id))
    )


def test_two_hundred_people_racing_for_ten_seats_get_ten_appointments(sign_in):
    """Ten get a seat each, never an eleventh; the 190 others are told it was just taken."""
    session_id, answers = _race_for_a_session(sign_in, SESSION_PEOPLE, SESSION_SEATS)
    winners = [
        location for _, location in answers if re.match(r"^/rendez-vous/\d+\?fait=1$", location)
    ]
    told_taken = [loc for _, loc in answers if loc.startswith("/rendez-vous/nouveau")]
    assert (len(winners), len(told_taken)) == (SESSION_SEATS, SESSION_PEOPLE - SESSION_SEATS)
    assert _seats_taken(session_id) == list(range(1, SESSION_SEATS + 1))


def test_as_many_people_as_seats_booking_at_once_all_get_one(sign_in):
    """Nobody is told "taken" while a seat is left: the slot's row is locked while a seat
    is chosen, so two bookings never pick the same free seat and one of them fail."""
    session_id, answers = _race_for_a_session(sign_in, SESSION_SEATS, SESSION_SEATS)
    assert all(re.match(r"^/rendez-vous/\d+\?fait=1$", loc) for _, loc in answers), answers
    assert _seats_taken(session_id) == list(range(1, SESSION_SEATS + 1))

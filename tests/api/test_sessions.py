"""Collective sessions through the API (contract v1.1): capacity, title, seats left."""

import pytest
from sqlalchemy import select

from portal.appointments import services
from portal.appointments.models import Appointment, AppointmentStatus
from portal.extensions import db
from portal.sms.models import SmsKind, SmsMessage
from tests.api.conftest import assert_problem
from tests.factories import in_days, person_of, put_beneficiary, slot_body

TITLE = "Réunion d'information : vos droits et devoirs"


def _session(org_a, capacity: int = 10, **overrides) -> dict:
    response = org_a.api.put(
        "/slots/REUNION-1", slot_body(org_a, capacity=capacity, title=TITLE, **overrides)
    )
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return response.get_json()


def _book(org_a, count: int) -> list[int]:
    """`count` people of org_a take a seat of REUNION-1, as they would on their page."""
    slot = services.slot_by_external_id(org_a.organisation, "REUNION-1")
    ids = []
    for n in range(count):
        put_beneficiary(org_a, f"DOS-{n}", phone=f"+3369876540{n}")
        ids.append(services.book(person_of(org_a, f"DOS-{n}"), slot.id).id)
    db.session.commit()
    return ids


def test_a_session_says_its_capacity_title_and_seats_left(org_a):
    created = _session(org_a)
    assert (created["capacity"], created["title"]) == (10, TITLE)
    assert (created["appointments_count"], created["seats_left"], created["is_booked"]) == (
        0,
        10,
        False,
    )
    _book(org_a, 3)
    read = org_a.api.get("/slots/REUNION-1").get_json()
    assert (read["appointments_count"], read["seats_left"], read["is_booked"]) == (3, 7, True)


def test_a_slot_without_capacity_has_one_seat_and_no_title(org_a):
    created = org_a.api.put("/slots/S-1", slot_body(org_a)).get_json()
    assert (created["capacity"], created["title"], created["seats_left"]) == (1, None, 1)
    assert created["appointments_count"] == 0


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"capacity": 0}, "/capacity"),
        ({"capacity": 201}, "/capacity"),
        ({"capacity": "3"}, "/capacity"),
        ({"capacity": 2.5}, "/capacity"),
        ({"title": "x" * 121}, "/title"),
        ({"title": ""}, "/title"),
    ],
)
def test_capacity_and_title_outside_their_rules_are_422(org_a, overrides, field):
    body = slot_body(org_a, **{"capacity": 5, "title": TITLE, **overrides})
    assert_problem(org_a.api.put("/slots/S-1", body), 422, field)


def test_reserved_for_is_only_for_a_one_seat_slot(org_a):
    put_beneficiary(org_a, "DOS-1")
    body = slot_body(org_a, capacity=3, reserved_for="DOS-1")
    assert_problem(org_a.api.put("/slots/S-1", body), 422, "/reserved_for")
    assert org_a.api.put("/slots/S-1", slot_body(org_a, reserved_for="DOS-1")).status_code == 201


def test_capacity_never_goes_below_the_live_bookings(org_a):
    _session(org_a, capacity=5)
    first, second, third = _book(org_a, 3)
    db.session.get(Appointment, first).status = AppointmentStatus.CANCELLED
    db.session.commit()
    response = org_a.api.put("/slots/REUNION-1", slot_body(org_a, capacity=1, title=TITLE))
    assert_problem(response, 409)
    # Two live bookings on seats 2 and 3: two seats are enough, the third moves down.
    lowered = _session(org_a, capacity=2)
    assert (lowered["capacity"], lowered["appointments_count"], lowered["seats_left"]) == (2, 2, 0)
    db.session.expire_all()
    assert sorted(db.session.get(Appointment, i).seat for i in (second, third)) == [1, 2]


def test_a_booked_session_keeps_its_time_and_counsellor(org_a):
    _session(org_a)
    _book(org_a, 1)
    moved = slot_body(org_a, capacity=10, title=TITLE, starts_at=in_days(9))
    assert_problem(org_a.api.put("/slots/REUNION-1", moved), 409)
    renamed = _session(org_a, capacity=12)
    assert (renamed["capacity"], renamed["seats_left"]) == (12, 11)


def test_a_booked_session_is_not_withdrawn_without_cancel_booking(org_a):
    _session(org_a)
    _book(org_a, 2)
    assert_problem(org_a.api.delete("/slots/REUNION-1"), 409)
    assert org_a.api.get("/slots/REUNION-1").get_json()["appointments_count"] == 2


def test_cancel_booking_cancels_every_booking_each_with_its_event_and_sms(org_a):
    _session(org_a)
    booked = _book(org_a, 3)
    assert org_a.api.delete("/slots/REUNION-1?cancel_booking=true").status_code == 204
    db.session.expire_all()
    assert {db.session.get(Appointment, i).status for i in booked} == {AppointmentStatus.CANCELLED}
    events = [e for e in org_a.api.events() if e["type"] == "appointment.cancelled"]
    assert sorted(e["beneficiary_external_id"] for e in events) == ["DOS-0", "DOS-1", "DOS-2"]
    messages = db.session.scalars(
        select(SmsMessage).where(SmsMessage.kind == SmsKind.APPOINTMENT_CANCELLED)
    ).all()
    assert sorted(m.to for m in messages) == ["+33698765400", "+33698765401", "+33698765402"]

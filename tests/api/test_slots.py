"""Slots: a counsellor's offered times, pushed by the back office."""

from datetime import date, datetime, timedelta

import pytest
from dateutil.easter import easter
from sqlalchemy import select

from portal.appointments.models import Appointment, AppointmentStatus
from portal.extensions import db
from portal.sms.models import SmsKind, SmsMessage
from tests.api.conftest import assert_problem
from tests.factories import book, in_days, put_beneficiary, slot_body

SLOT_FIELDS = {
    "counsellor_email",
    "starts_at",
    "duration_minutes",
    "mode",
    "location",
    "purpose",
    "reserved_for",
}


def test_put_creates_then_replaces_a_slot(org_a):
    body = slot_body(org_a)
    created = org_a.api.put("/slots/S-1", body)
    assert created.status_code == 201, created.get_data(as_text=True)
    slot = created.get_json()
    assert SLOT_FIELDS <= set(slot)
    assert datetime.fromisoformat(slot["starts_at"]) == datetime.fromisoformat(body["starts_at"])
    assert {k: slot[k] for k in SLOT_FIELDS - {"starts_at"}} == {
        k: body[k] for k in SLOT_FIELDS - {"starts_at"}
    }
    assert org_a.api.get("/slots/S-1").get_json() == slot

    again = org_a.api.put("/slots/S-1", body)
    assert again.status_code == 200
    assert again.get_json() == slot

    put_beneficiary(org_a, "DOS-1")
    replaced = org_a.api.put(
        "/slots/S-1",
        slot_body(
            org_a,
            starts_at=in_days(8, hour=14),
            duration_minutes=45,
            mode="video",
            location=None,
            purpose="contract",
            reserved_for="DOS-1",
        ),
    )
    assert replaced.status_code == 200, replaced.get_data(as_text=True)
    got = org_a.api.get("/slots/S-1").get_json()
    assert (got["duration_minutes"], got["mode"], got["location"], got["purpose"]) == (
        45,
        "video",
        None,
        "contract",
    )
    assert got["reserved_for"] == "DOS-1"
    assert datetime.fromisoformat(got["starts_at"]) == datetime.fromisoformat(in_days(8, hour=14))
    assert org_a.api.events() == []


def test_the_counsellor_email_is_matched_whatever_its_case(org_a):
    body = slot_body(org_a, counsellor_email=org_a.counsellor.email.upper())
    assert org_a.api.put("/slots/S-1", body).status_code == 201


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"counsellor_email": "nobody@example.org"}, "/counsellor_email"),
        (
            {"starts_at": (datetime.now().astimezone() - timedelta(hours=1)).isoformat()},
            "/starts_at",
        ),
        ({"starts_at": "2026-03-02T09:30:00"}, "/starts_at"),
        ({"starts_at": "next tuesday"}, "/starts_at"),
        ({"duration_minutes": 9}, "/duration_minutes"),
        ({"duration_minutes": 241}, "/duration_minutes"),
        ({"duration_minutes": "30"}, "/duration_minutes"),
        ({"duration_minutes": 30.5}, "/duration_minutes"),
        ({"mode": "carrier-pigeon"}, "/mode"),
        ({"mode": "in_person", "location": None}, "/location"),
        ({"purpose": "coffee"}, "/purpose"),
        ({"room": "B12"}, "/room"),
        ({"reserved_for": "bad id"}, "/reserved_for"),
    ],
    ids=[
        "unknown-counsellor",
        "past",
        "no-offset",
        "not-a-date",
        "duration-9",
        "duration-241",
        "duration-string",
        "duration-float",
        "mode",
        "in-person-without-location",
        "purpose",
        "unknown-field",
        "reserved-for-pattern",
    ],
)
def test_an_invalid_slot_is_422_naming_the_field(org_a, overrides, field):
    response = org_a.api.put("/slots/S-1", slot_body(org_a, **overrides))
    assert_problem(response, 422, field)
    assert_problem(org_a.api.get("/slots/S-1"), 404)


def test_a_counsellor_of_another_organisation_is_unknown(org_a, org_b):
    response = org_a.api.put(
        "/slots/S-1", slot_body(org_a, counsellor_email=org_b.counsellor.email)
    )
    assert_problem(response, 422, "/counsellor_email")


def test_a_reservation_for_someone_the_organisation_does_not_follow_is_422(org_a, org_b):
    put_beneficiary(org_b, "B-1")
    response = org_a.api.put("/slots/S-1", slot_body(org_a, reserved_for="B-1"))
    assert_problem(response, 422)


@pytest.mark.parametrize("minutes", [10, 240])
def test_the_duration_bounds_are_accepted(org_a, minutes):
    assert (
        org_a.api.put("/slots/S-1", slot_body(org_a, duration_minutes=minutes)).status_code == 201
    )


def _next_christmas_year() -> int:
    today = date.today()
    return today.year if today < date(today.year, 12, 19) else today.year + 1


def _next_good_friday() -> date:
    year = date.today().year
    while easter(year) - timedelta(days=2) <= date.today() + timedelta(days=1):
        year += 1
    return easter(year) - timedelta(days=2)


# {Y}: the next year whose late December is still ahead (2026 when written, as in the brief:
# 26 December 2026), {Y1} the year after, {GF} the next Good Friday (2027-03-26 then).
HOLIDAYS = [
    ("67", "{Y}-12-26T10:00:00+01:00", True),  # Saint-Étienne, Alsace-Moselle only
    ("67", "{GF}T10:00:00+01:00", True),  # Vendredi saint, Alsace-Moselle only
    ("29", "{Y}-12-26T10:00:00+01:00", False),
    ("29", "{GF}T10:00:00+01:00", False),
    ("29", "{Y}-12-25T10:00:00+01:00", True),  # Noël, everywhere
    ("29", "{Y1}-01-01T10:00:00+01:00", True),
    # The day is the day in Paris: 23:30 UTC on the 24th is Christmas Day there.
    ("29", "{Y}-12-24T23:30:00Z", True),
    ("29", "{Y}-12-25T23:30:00+00:00", False),  # 26 December, 00:30 in Paris
    ("67", "{Y}-12-26T23:30:00Z", False),  # 27 December in Paris
    ("974", "{Y}-12-20T10:00:00+04:00", True),  # Fête de l'abolition, La Réunion
    ("67", "{Y}-12-20T10:00:00+01:00", False),
]


@pytest.mark.parametrize("department, starts_at, refused", HOLIDAYS)
def test_no_slot_on_a_public_holiday_of_the_department(make_tenant, department, starts_at, refused):
    year = _next_christmas_year()
    starts_at = starts_at.format(Y=year, Y1=year + 1, GF=_next_good_friday().isoformat())
    tenant = make_tenant(f"dep-{department}", department)
    response = tenant.api.put("/slots/S-1", slot_body(tenant, starts_at=starts_at))
    if refused:
        problem = assert_problem(response, 422, "/starts_at")
        assert "holiday" in problem["detail"] or "férié" in problem["detail"], problem
    else:
        assert response.status_code == 201, response.get_data(as_text=True)


def test_a_free_slot_is_withdrawn(org_a):
    org_a.api.put("/slots/S-1", slot_body(org_a))
    response = org_a.api.delete("/slots/S-1")
    assert response.status_code == 204
    assert response.get_data() == b""
    assert_problem(org_a.api.get("/slots/S-1"), 404)
    assert_problem(org_a.api.delete("/slots/S-1"), 404)
    assert org_a.api.events() == []


def test_a_withdrawn_slot_can_be_put_again(org_a):
    org_a.api.put("/slots/S-1", slot_body(org_a))
    org_a.api.delete("/slots/S-1")
    response = org_a.api.put("/slots/S-1", slot_body(org_a))
    assert response.status_code == 201
    assert org_a.api.get("/slots/S-1").status_code == 200


@pytest.fixture
def booked(org_a):
    put_beneficiary(org_a, "DOS-1", phone="06 98 76 54 32")
    appointment = book(org_a, "DOS-1", slot_external_id="S-1", status=AppointmentStatus.CONFIRMED)
    return appointment.id


def test_a_booked_slot_is_not_withdrawn_without_cancel_booking(org_a, booked):
    for query in ("", "?cancel_booking=false"):
        assert_problem(org_a.api.delete(f"/slots/S-1{query}"), 409)
    assert org_a.api.get("/slots/S-1").status_code == 200
    assert db.session.get(Appointment, booked).status is AppointmentStatus.CONFIRMED
    assert org_a.api.events() == []
    assert db.session.scalars(select(SmsMessage)).all() == []


def test_cancel_booking_cancels_tells_the_person_and_emits_the_event(
    working_hours, org_a, booked, runner, fake_twilio
):
    response = org_a.api.delete("/slots/S-1?cancel_booking=true")
    assert response.status_code == 204, response.get_data(as_text=True)
    assert_problem(org_a.api.get("/slots/S-1"), 404)
    assert db.session.get(Appointment, booked).status is AppointmentStatus.CANCELLED

    events = org_a.api.events()
    assert [(e["type"], e["beneficiary_external_id"]) for e in events] == [
        ("appointment.cancelled", "DOS-1")
    ]
    listed = org_a.api.get("/appointments").get_json()["appointments"]
    assert [(a["id"], a["status"]) for a in listed] == [(booked, "cancelled")]

    messages = db.session.scalars(select(SmsMessage)).all()
    assert [(m.to, m.kind) for m in messages] == [("+33698765432", SmsKind.APPOINTMENT_CANCELLED)]
    runner.invoke(args=["worker", "--once"])
    received = fake_twilio.wait_for(1)
    assert [m.to for m in received] == ["+33698765432"]


@pytest.mark.parametrize("value", ["yes", "1", "TRUEISH"])
def test_cancel_booking_takes_true_or_false(org_a, booked, value):
    response = org_a.api.delete(f"/slots/S-1?cancel_booking={value}")
    assert response.status_code in (409, 422)
    assert_problem(response, response.status_code)
    assert db.session.get(Appointment, booked).status is AppointmentStatus.CONFIRMED


@pytest.mark.parametrize("external_id", ["a%20b", "S" * 65, "%C3%A9"])
def test_a_slot_external_id_outside_the_pattern_is_422(org_a, external_id):
    response = org_a.api.put(f"/slots/{external_id}", slot_body(org_a))
    assert response.status_code in (404, 422)
    assert_problem(response, response.status_code)

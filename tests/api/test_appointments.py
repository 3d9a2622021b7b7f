"""GET /appointments and POST /appointments/{id}/status."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.appointments.models import Appointment, AppointmentStatus, Slot, SlotMode, SlotPurpose
from portal.core.clock import utcnow
from portal.extensions import db
from tests.api.conftest import assert_problem
from tests.factories import book, person_of, put_beneficiary

APPOINTMENT_FIELDS = {
    "id",
    "slot_external_id",
    "beneficiary_external_id",
    "starts_at",
    "mode",
    "location",
    "status",
    "status_reason",
    "booked_at",
    "updated_at",
}
PARIS = ZoneInfo("Europe/Paris")


def _page(tenant, **params):
    response = tenant.api.get("/appointments", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_the_list_has_the_contract_fields(org_a):
    put_beneficiary(org_a, "DOS-1")
    appointment = book(org_a, "DOS-1", slot_external_id="S-1", status_reason=None)
    slot = db.session.get(Slot, appointment.slot_id)
    page = _page(org_a)
    assert page["next_after"] is None
    [item] = page["appointments"]
    assert APPOINTMENT_FIELDS <= set(item)
    assert item["id"] == appointment.id
    assert item["slot_external_id"] == "S-1"
    assert item["beneficiary_external_id"] == "DOS-1"
    assert datetime.fromisoformat(item["starts_at"]) == slot.starts_at
    assert datetime.fromisoformat(item["starts_at"]).tzinfo is not None
    assert (item["mode"], item["location"]) == ("in_person", slot.location)
    assert (item["status"], item["status_reason"]) == ("requested", None)
    assert datetime.fromisoformat(item["booked_at"]).tzinfo is not None
    assert datetime.fromisoformat(item["updated_at"]).tzinfo is not None


def test_the_list_is_the_organisations_own(org_a, org_b):
    put_beneficiary(org_a, "A-1", caf_number="1234567")
    put_beneficiary(org_b, "B-1", caf_number="1234567")
    mine = book(org_a, "A-1")
    theirs = book(org_b, "B-1")
    assert [a["id"] for a in _page(org_a)["appointments"]] == [mine.id]
    assert [(a["id"], a["beneficiary_external_id"]) for a in _page(org_b)["appointments"]] == [
        (theirs.id, "B-1")
    ]


@pytest.fixture
def three(org_a):
    """DOS-1: yesterday (attended), in 2 days (confirmed), in 10 days (requested)."""
    put_beneficiary(org_a, "DOS-1")
    past = book(org_a, "DOS-1", starts_in=-timedelta(days=1), status=AppointmentStatus.ATTENDED)
    soon = book(org_a, "DOS-1", starts_in=timedelta(days=2), status=AppointmentStatus.CONFIRMED)
    later = book(org_a, "DOS-1", starts_in=timedelta(days=10))
    return past.id, soon.id, later.id


def test_the_status_filter(org_a, three):
    past, soon, later = three
    assert [a["id"] for a in _page(org_a, status="confirmed")["appointments"]] == [soon]
    assert [a["id"] for a in _page(org_a, status="attended")["appointments"]] == [past]
    assert [a["id"] for a in _page(org_a, status="requested")["appointments"]] == [later]
    assert _page(org_a, status="cancelled")["appointments"] == []
    assert [a["id"] for a in _page(org_a)["appointments"]] == [past, soon, later]


@pytest.mark.parametrize(
    "name, value",
    [
        ("status", "booked"),
        ("from", "tomorrow"),
        ("to", "2026-02-30"),
        ("after", "-1"),
        ("after", "x"),
    ],
)
def test_a_bad_filter_is_422(org_a, name, value):
    assert_problem(org_a.api.get("/appointments", query_string={name: value}), 422)


def test_the_from_and_to_filters(org_a, three):
    past, soon, later = three
    now = datetime.now(PARIS)
    today = now.date().isoformat()
    in_five_days = (now + timedelta(days=5)).isoformat()
    assert [a["id"] for a in _page(org_a, **{"from": today})["appointments"]] == [soon, later]
    assert [a["id"] for a in _page(org_a, to=today)["appointments"]] == [past]
    assert [
        a["id"]
        for a in _page(org_a, **{"from": now.isoformat(), "to": in_five_days})["appointments"]
    ] == [soon]
    utc_now = datetime.now(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")
    assert [a["id"] for a in _page(org_a, **{"from": utc_now})["appointments"]] == [soon, later]


def test_from_is_inclusive_and_to_exclusive(org_a, three):
    past, soon, later = three
    starts = db.session.get(Slot, db.session.get(Appointment, soon).slot_id).starts_at
    exact = starts.astimezone(PARIS).isoformat()
    assert soon in [a["id"] for a in _page(org_a, **{"from": exact})["appointments"]]
    assert soon not in [a["id"] for a in _page(org_a, to=exact)["appointments"]]


def test_pages_of_500_with_a_cursor(org_a):
    put_beneficiary(org_a, "DOS-1")
    person = person_of(org_a, "DOS-1")
    start = utcnow().replace(microsecond=0) + timedelta(days=3)
    slots = [
        Slot(
            organisation_id=org_a.organisation.id,
            external_id=f"S-{n}",
            counsellor=org_a.counsellor,
            starts_at=start + timedelta(minutes=30 * n),
            duration_minutes=30,
            mode=SlotMode.PHONE,
            purpose=SlotPurpose.FOLLOW_UP,
        )
        for n in range(503)
    ]
    db.session.add_all(slots)
    db.session.add_all(Appointment(slot=slot, beneficiary=person) for slot in slots)
    db.session.commit()

    first = _page(org_a)
    assert len(first["appointments"]) == 500
    assert first["next_after"] is not None
    second = _page(org_a, after=first["next_after"])
    assert len(second["appointments"]) == 3
    assert second["next_after"] is None
    ids = [a["id"] for a in first["appointments"] + second["appointments"]]
    assert len(set(ids)) == 503
    assert ids == sorted(ids)


def test_next_after_is_null_under_500(org_a, three):
    page = _page(org_a)
    assert len(page["appointments"]) == 3
    assert page["next_after"] is None


# -- Status changes -----------------------------------------------------------------------


def _status(tenant, appointment_id, status, reason=None):
    return tenant.api.post(
        f"/appointments/{appointment_id}/status", {"status": status, "reason": reason}
    )


def test_requested_to_confirmed(org_a, org_b):
    put_beneficiary(org_a, "DOS-1")
    appointment = book(org_a, "DOS-1", slot_external_id="S-1")
    response = _status(org_a, appointment.id, "confirmed", "À l'accueil du 2e étage")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert APPOINTMENT_FIELDS <= set(body)
    assert (body["id"], body["status"], body["status_reason"]) == (
        appointment.id,
        "confirmed",
        "À l'accueil du 2e étage",
    )
    assert body["beneficiary_external_id"] == "DOS-1"
    assert db.session.get(Appointment, appointment.id).status is AppointmentStatus.CONFIRMED
    [event] = org_a.api.events()
    assert event["type"] == "appointment.confirmed"
    assert event["beneficiary_external_id"] == "DOS-1"

    # The same again changes nothing and emits nothing.
    again = _status(org_a, appointment.id, "confirmed", "À l'accueil du 2e étage")
    assert again.status_code == 200
    assert len(org_a.api.events()) == 1


def test_requested_to_declined(org_a):
    put_beneficiary(org_a, "DOS-1")
    appointment = book(org_a, "DOS-1")
    assert _status(org_a, appointment.id, "declined", "Conseillère absente").status_code == 200
    assert [e["type"] for e in org_a.api.events()] == ["appointment.declined"]


@pytest.mark.parametrize("outcome", ["attended", "no_show", "excused"])
def test_an_outcome_after_the_start(org_a, outcome):
    put_beneficiary(org_a, "DOS-1")
    appointment = book(
        org_a, "DOS-1", starts_in=-timedelta(hours=2), status=AppointmentStatus.CONFIRMED
    )
    response = _status(org_a, appointment.id, outcome)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == outcome
    assert [e["type"] for e in org_a.api.events()] == [f"appointment.{outcome}"]


@pytest.mark.parametrize("outcome", ["attended", "no_show", "excused"])
def test_an_outcome_before_the_start_is_409(org_a, outcome):
    put_beneficiary(org_a, "DOS-1")
    appointment = book(
        org_a, "DOS-1", starts_in=timedelta(hours=2), status=AppointmentStatus.CONFIRMED
    )
    assert_problem(_status(org_a, appointment.id, outcome), 409)
    assert db.session.get(Appointment, appointment.id).status is AppointmentStatus.CONFIRMED
    assert org_a.api.events() == []


@pytest.mark.parametrize("status", ["confirmed", "declined", "attended", "no_show", "excused"])
@pytest.mark.parametrize(
    "starts_in", [timedelta(days=1), -timedelta(days=1)], ids=["future", "past"]
)
def test_nothing_follows_a_cancellation(org_a, status, starts_in):
    put_beneficiary(org_a, "DOS-1")
    appointment = book(org_a, "DOS-1", starts_in=starts_in, status=AppointmentStatus.CANCELLED)
    assert_problem(_status(org_a, appointment.id, status), 409)
    assert db.session.get(Appointment, appointment.id).status is AppointmentStatus.CANCELLED
    assert org_a.api.events() == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({"status": "cancelled"}, "/status"),
        ({"status": "requested"}, "/status"),
        ({"status": "done"}, "/status"),
        ({"status": None}, "/status"),
        ({}, "/status"),
        ({"status": "confirmed", "why": "x"}, "/why"),
        ({"status": "confirmed", "reason": 42}, "/reason"),
    ],
)
def test_an_invalid_status_body_is_422(org_a, body, field):
    put_beneficiary(org_a, "DOS-1")
    appointment = book(org_a, "DOS-1")
    assert_problem(org_a.api.post(f"/appointments/{appointment.id}/status", body), 422, field)
    assert db.session.get(Appointment, appointment.id).status is AppointmentStatus.REQUESTED


@pytest.mark.parametrize(
    "appointment_id", ["999999", "0", "abc", "-1", "1.5", "99999999999999999999999"]
)
def test_an_unknown_appointment_is_404(org_a, appointment_id):
    response = org_a.api.post(f"/appointments/{appointment_id}/status", {"status": "confirmed"})
    assert_problem(response, 404)


def test_malformed_json_on_a_status_is_400(org_a):
    put_beneficiary(org_a, "DOS-1")
    appointment = book(org_a, "DOS-1")
    response = org_a.api.post(
        f"/appointments/{appointment.id}/status",
        data=b"{status: confirmed}",
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 400)

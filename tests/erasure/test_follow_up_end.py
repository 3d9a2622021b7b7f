"""DELETE /beneficiaries/{id}: one organisation lets go; the last one erases the person."""

from datetime import timedelta

from sqlalchemy import func, select

from portal.appointments.models import Appointment, AppointmentStatus
from portal.auth.models import SignInCode
from portal.beneficiaries.models import Beneficiary
from portal.core.clock import utcnow
from portal.events.models import Event
from portal.extensions import db
from portal.sms.models import SmsMessage
from tests.api.conftest import assert_problem
from tests.factories import beneficiary_body, book, person_of, put_beneficiary, step_body


def _two_organisations_follow(org_a, org_b):
    put_beneficiary(org_a, "A-1", caf_number="1234567", phone="06 55 44 33 22")
    put_beneficiary(org_b, "B-1", caf_number="1234567", phone="06 55 44 33 22")
    org_a.api.put("/beneficiaries/A-1/steps/A-S1", step_body(title="Étape de A"))
    org_b.api.put("/beneficiaries/B-1/steps/B-S1", step_body(title="Étape de B"))
    return person_of(org_a, "A-1").id


def test_one_organisation_ending_its_follow_up(org_a, org_b):
    person_id = _two_organisations_follow(org_a, org_b)
    a_future = book(org_a, "A-1", starts_in=timedelta(days=3), status=AppointmentStatus.CONFIRMED)
    a_past = book(org_a, "A-1", starts_in=-timedelta(days=3), status=AppointmentStatus.ATTENDED)
    b_future = book(org_b, "B-1", starts_in=timedelta(days=4))
    a_future_id, a_past_id, b_future_id = a_future.id, a_past.id, b_future.id

    response = org_a.api.delete("/beneficiaries/A-1")
    assert response.status_code == 204, response.get_data(as_text=True)
    assert response.get_data() == b""

    # A's link and steps are gone.
    assert_problem(org_a.api.get("/beneficiaries/A-1"), 404)
    assert_problem(org_a.api.delete("/beneficiaries/A-1"), 404)
    seen_by_b = org_b.api.get("/beneficiaries/B-1").get_json()
    assert seen_by_b["id"] == person_id
    assert seen_by_b["followed_by"] == [org_b.slug]
    steps = org_b.api.get("/beneficiaries/B-1/steps").get_json()["steps"]
    assert [s["title"] for s in steps] == ["Étape de B"]

    # A's future appointment was cancelled, with its event; the others are as they were.
    assert db.session.get(Appointment, a_future_id).status is AppointmentStatus.CANCELLED
    assert db.session.get(Appointment, a_past_id).status is AppointmentStatus.ATTENDED
    assert db.session.get(Appointment, b_future_id).status is AppointmentStatus.REQUESTED
    cancelled = [e for e in org_a.api.events() if e["type"] == "appointment.cancelled"]
    assert len(cancelled) == 1
    assert cancelled[0]["beneficiary_external_id"] == "A-1"
    assert cancelled[0]["data"].get("appointment_id") in (None, a_future_id)
    # B followed the person too: it hears of the cancellation, under its own id.
    b_events = [e for e in org_b.api.events() if e["type"] == "appointment.cancelled"]
    assert [e["beneficiary_external_id"] for e in b_events] == ["B-1"]
    # And the person itself is still there, untouched.
    assert db.session.get(Beneficiary, person_id) is not None


def test_a_put_after_the_end_of_a_follow_up_links_the_person_again(org_a, org_b):
    person_id = _two_organisations_follow(org_a, org_b)
    assert org_a.api.delete("/beneficiaries/A-1").status_code == 204
    response = org_a.api.put(
        "/beneficiaries/A-1", beneficiary_body(caf_number="1234567", phone="06 55 44 33 22")
    )
    assert response.status_code == 201
    assert response.get_json()["id"] == person_id
    assert sorted(response.get_json()["followed_by"]) == sorted([org_a.slug, org_b.slug])
    # A's old steps did not come back with the link.
    steps = org_a.api.get("/beneficiaries/A-1/steps").get_json()["steps"]
    assert [s["title"] for s in steps] == ["Étape de B"]


def test_the_last_organisation_letting_go_erases_the_person(org_a, org_b, runner):
    person_id = _two_organisations_follow(org_a, org_b)
    appointment = book(org_a, "A-1", starts_in=timedelta(days=3))
    # Something personal in every place erasure must reach: an SMS, a sign-in code, events.
    assert org_a.api.post("/beneficiaries/A-1/invitation").status_code == 202
    db.session.add(
        SignInCode(phone="+33655443322", code_hash="x", expires_at=utcnow() + timedelta(minutes=5))
    )
    db.session.add(
        SignInCode(phone="+33600000009", code_hash="y", expires_at=utcnow() + timedelta(minutes=5))
    )
    db.session.commit()
    confirmed = org_a.api.post(
        f"/appointments/{appointment.id}/status", {"status": "confirmed", "reason": "Vu avec Amina"}
    )
    assert confirmed.status_code == 200
    event_ids = [e["id"] for e in org_a.api.events()]
    assert event_ids

    assert org_a.api.delete("/beneficiaries/A-1").status_code == 204
    assert db.session.get(Beneficiary, person_id) is not None
    assert org_b.api.delete("/beneficiaries/B-1").status_code == 204

    assert db.session.get(Beneficiary, person_id) is None
    assert_problem(org_b.api.get("/beneficiaries/B-1"), 404)
    messages = db.session.scalars(select(SmsMessage)).all()
    assert messages, "the invitation SMS row is kept for statistics"
    for message in messages:
        assert message.body == ""
        assert "55443322" not in message.to
        assert message.beneficiary_id is None
    phones = db.session.scalars(select(SignInCode.phone)).all()
    assert phones == ["+33600000009"]
    events = db.session.scalars(select(Event).order_by(Event.id)).all()
    assert set(event_ids) <= {e.id for e in events}, "events are kept for statistics"
    for event in events:
        assert event.beneficiary_id is None
        assert event.data == {}
    assert db.session.scalar(select(func.count()).select_from(Appointment)) >= 1
    for row in db.session.scalars(select(Appointment)):
        assert row.beneficiary_id is None
    # The feeds no longer name the person either.
    for tenant in (org_a, org_b):
        for event in tenant.api.events():
            assert event["beneficiary_external_id"] is None
            assert event["data"] == {}


def test_erasure_keeps_the_sign_in_codes_of_a_number_someone_else_uses(org_a):
    put_beneficiary(org_a, "A-1", phone="06 55 44 33 22")
    put_beneficiary(org_a, "A-2", phone="06 55 44 33 22", role="conjoint", first_name="Karim")
    db.session.add(
        SignInCode(phone="+33655443322", code_hash="x", expires_at=utcnow() + timedelta(minutes=5))
    )
    db.session.commit()
    assert org_a.api.delete("/beneficiaries/A-1").status_code == 204
    assert db.session.scalars(select(SignInCode.phone)).all() == ["+33655443322"]
    assert org_a.api.get("/beneficiaries/A-2").status_code == 200

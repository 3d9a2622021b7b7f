"""Bookings the organisation confirms at once: `confirmed` straight away, the events the
contract names (requested, then confirmed), one SMS, nothing for a counsellor to answer."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.appointments import services
from portal.appointments.models import AppointmentStatus, SlotPurpose
from portal.caseload import todo
from portal.events.models import Event
from portal.extensions import db
from portal.sms.models import SmsKind, SmsMessage
from portal.sms.outbox import REMINDER_KINDS
from tests.conftest import Browser
from tests.factories import make_beneficiary, make_counsellor, make_organisation, make_slot


@pytest.fixture
def setting(app):
    organisation = make_organisation(department_code="67")
    organisation.purposes_confirmed_at_once = ["orientation"]
    counsellor = make_counsellor(organisation, email="claire@example.org")
    person = make_beneficiary(organisation)
    person.follow_ups[0].referent_name = person.follow_ups[0].referent_email = None
    db.session.commit()  # not oriented yet: offered orientation slots
    return organisation, counsellor, person


def _event_types() -> list[str]:
    return list(db.session.scalars(select(Event.type).order_by(Event.id)))


def _notices() -> list[SmsMessage]:
    """The SMS about a change, reminders aside."""
    return [
        message
        for message in db.session.scalars(select(SmsMessage).order_by(SmsMessage.id))
        if message.kind not in REMINDER_KINDS
    ]


def _requests_to_answer(counsellor) -> int:
    return todo.requests_to_answer(counsellor, mine=False, limit=10).count


def test_an_instant_purpose_is_confirmed_at_once_with_one_sms_and_no_to_do(setting):
    _organisation, counsellor, person = setting
    slot = make_slot(counsellor, purpose=SlotPurpose.ORIENTATION)
    appointment = services.book(person, slot.id)
    db.session.commit()
    assert appointment.status is AppointmentStatus.CONFIRMED
    assert appointment.confirmed_at is not None
    assert _event_types() == ["appointment.requested", "appointment.confirmed"]
    confirmed = db.session.scalars(select(Event).where(Event.type == "appointment.confirmed")).one()
    assert confirmed.data["by"] == services.CONFIRMED_BY_RULE
    [sms] = _notices()
    assert sms.kind is SmsKind.APPOINTMENT_CONFIRMED and "RDV confirmé" in sms.body
    assert _requests_to_answer(counsellor) == 0


def test_another_purpose_still_waits_for_a_counsellor(setting):
    organisation, counsellor, person = setting
    slot = make_slot(counsellor, purpose=SlotPurpose.OTHER)
    appointment = services.book(person, slot.id)
    db.session.commit()
    assert appointment.status is AppointmentStatus.REQUESTED
    assert _event_types() == ["appointment.requested"]
    assert [sms.kind for sms in _notices()] == [SmsKind.APPOINTMENT_REQUESTED]
    assert _requests_to_answer(counsellor) == 1
    # The rule is the organisation's: once it confirms this purpose at once, so it is.
    organisation.purposes_confirmed_at_once = ["orientation", "other"]
    db.session.commit()
    other = make_slot(counsellor, starts_in=timedelta(days=5), purpose=SlotPurpose.OTHER)
    assert services.book(person, other.id).status is AppointmentStatus.CONFIRMED


def test_a_move_onto_an_instant_slot_is_confirmed_with_one_sms(setting):
    _organisation, counsellor, person = setting
    waiting = make_slot(counsellor, purpose=SlotPurpose.OTHER)
    instant = make_slot(counsellor, starts_in=timedelta(days=4), purpose=SlotPurpose.ORIENTATION)
    appointment = services.book(person, waiting.id)
    db.session.commit()
    before = len(_notices())
    moved = services.reschedule(appointment, instant.id)
    db.session.commit()
    assert moved.status is AppointmentStatus.CONFIRMED
    assert _event_types()[-2:] == ["appointment.rescheduled", "appointment.confirmed"]
    [sms] = _notices()[before:]
    assert sms.kind is SmsKind.APPOINTMENT_RESCHEDULED
    assert "confirmé" in sms.body and "Un SMS vous dira" not in sms.body
    assert _requests_to_answer(counsellor) == 0


def test_a_move_onto_a_waiting_slot_waits(setting):
    _organisation, counsellor, person = setting
    instant = make_slot(counsellor, purpose=SlotPurpose.ORIENTATION)
    waiting = make_slot(counsellor, starts_in=timedelta(days=4), purpose=SlotPurpose.OTHER)
    appointment = services.book(person, instant.id)
    db.session.commit()
    moved = services.reschedule(appointment, waiting.id)
    db.session.commit()
    assert moved.status is AppointmentStatus.REQUESTED
    assert _event_types()[-1] == "appointment.rescheduled"
    assert "Un SMS vous dira" in _notices()[-1].body


def test_the_pages_say_confirmed_instead_of_waiting(setting, sign_in):
    _organisation, counsellor, person = setting
    slot = make_slot(counsellor, purpose=SlotPurpose.ORIENTATION)
    browser = Browser(sign_in(person))
    summary = browser.get(f"/rendez-vous/creneaux/{slot.id}").get_data(as_text=True)
    assert "Il sera confirmé tout de suite" in summary and "Prendre ce rendez-vous" in summary
    booked = browser.submit(f"/rendez-vous/creneaux/{slot.id}", {})
    detail = browser.get(booked.headers["Location"]).get_data(as_text=True)
    assert "Rendez-vous confirmé" in detail
    assert "En attente de confirmation" not in detail and "doit la confirmer" not in detail
    waiting = make_slot(counsellor, starts_in=timedelta(days=4), purpose=SlotPurpose.OTHER)
    summary = browser.get(f"/rendez-vous/creneaux/{waiting.id}").get_data(as_text=True)
    assert "Votre conseiller doit le confirmer" in summary
    assert "Demander ce rendez-vous" in summary

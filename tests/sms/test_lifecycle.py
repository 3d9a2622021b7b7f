"""The whole life of an appointment gives exactly the expected SMS, in order, on time.

Time is moved with time-machine; the real twilio client talks to the fake on 127.0.0.1.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from portal.appointments import services as appointments
from portal.appointments.models import AppointmentStatus
from portal.extensions import db
from portal.sms.models import SmsKind, SmsMessage, SmsStatus
from portal.sms.sender import send_due
from tests.factories import make_beneficiary, make_counsellor, make_organisation, make_slot

PARIS = ZoneInfo("Europe/Paris")


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def _at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def _setting(language="fr"):
    organisation = make_organisation(department_code="29")
    organisation.sms_sender_name = "Dep. Finistere"
    counsellor = make_counsellor(organisation)
    person = make_beneficiary(organisation, phone="+33612345678", language=language)
    return organisation, counsellor, person


def _booked(starts_at: datetime):
    """A person of an organisation in Finistère who booked a slot starting then."""
    _organisation, counsellor, person = _setting()
    appointment = appointments.book(person, make_slot(counsellor, starts_at=starts_at).id)
    db.session.commit()
    return counsellor, person, appointment


def _kinds() -> list[SmsKind]:
    return list(
        db.session.scalars(
            select(SmsMessage.kind)
            .where(SmsMessage.status == SmsStatus.SENT)
            .order_by(SmsMessage.sent_at, SmsMessage.id)
        )
    )


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", ["demande de RDV", "RDV confirmé", "rappel", "aujourd'hui"]),
        ("ar", ["\u0645\u0648\u0639\u062f"] * 4),  # "موعد" (appointment) in every message
    ],
)
def test_book_confirm_and_two_reminders(app, fake_twilio, language, words):
    with _at(paris(2026, 11, 23, 10, 0)):
        _organisation, counsellor, person = _setting(language)
        slot = make_slot(counsellor, starts_at=paris(2026, 11, 26, 10, 30))
        appointment = appointments.book(person, slot.id)
        db.session.commit()
        assert send_due() == 1
    with _at(paris(2026, 11, 23, 11, 0)):
        appointments.set_status(appointment, AppointmentStatus.CONFIRMED, None, by="counsellor")
        db.session.commit()
        assert send_due() == 1
    with _at(paris(2026, 11, 24, 10, 29)):
        assert send_due() == 0  # the 48-hour reminder is not due yet
    with _at(paris(2026, 11, 24, 10, 31)):
        assert send_due() == 1
    with _at(paris(2026, 11, 26, 8, 1)):
        assert send_due() == 1
    with _at(paris(2026, 11, 26, 11, 0)):
        assert send_due() == 0

    received = fake_twilio.wait_for(4)
    assert len(received) == 4
    assert [m.to for m in received] == ["+33612345678"] * 4
    for message, word in zip(received, words, strict=True):
        assert word in message.body, message.body
        assert "RSA" not in message.body
    assert _kinds() == [
        SmsKind.APPOINTMENT_REQUESTED,
        SmsKind.APPOINTMENT_CONFIRMED,
        SmsKind.REMINDER_48H,
        SmsKind.REMINDER_DAY,
    ]


def test_no_reminder_for_a_cancelled_appointment(app, fake_twilio):
    with _at(paris(2026, 11, 23, 10, 0)):
        counsellor, person, appointment = _booked(paris(2026, 11, 26, 10, 30))
        send_due()
        appointments.cancel_by_beneficiary(appointment)
        db.session.commit()
        send_due()
    for moment in (paris(2026, 11, 24, 11, 0), paris(2026, 11, 26, 8, 30)):
        with _at(moment):
            send_due()
    assert _kinds() == [SmsKind.APPOINTMENT_REQUESTED, SmsKind.APPOINTMENT_CANCELLED]
    dropped = db.session.scalars(
        select(SmsMessage).where(SmsMessage.status == SmsStatus.DROPPED)
    ).all()
    assert {m.kind for m in dropped} == {SmsKind.REMINDER_48H, SmsKind.REMINDER_DAY}


def test_a_moved_appointment_is_reminded_at_its_new_time_only(app, fake_twilio):
    with _at(paris(2026, 11, 23, 10, 0)):
        counsellor, person, first = _booked(paris(2026, 11, 26, 10, 30))
        moved = appointments.reschedule(
            first, make_slot(counsellor, starts_at=paris(2026, 11, 27, 14, 0)).id
        )
        db.session.commit()
        send_due()
    with _at(paris(2026, 11, 26, 8, 30)):
        send_due()  # the old morning reminder: dropped
    with _at(paris(2026, 11, 27, 8, 30)):
        send_due()
    kinds = _kinds()
    assert kinds.count(SmsKind.REMINDER_DAY) == 1
    reminder = db.session.scalars(
        select(SmsMessage).where(
            SmsMessage.kind == SmsKind.REMINDER_DAY, SmsMessage.status == SmsStatus.SENT
        )
    ).one()
    assert reminder.appointment_id == moved.id


def test_a_confirmation_at_night_waits_for_the_morning(app, fake_twilio):
    with _at(paris(2026, 11, 23, 10, 0)):
        counsellor, person, appointment = _booked(paris(2026, 11, 27, 10, 30))
        send_due()
    with _at(paris(2026, 11, 23, 21, 30)):
        appointments.set_status(appointment, AppointmentStatus.CONFIRMED, None, by="counsellor")
        db.session.commit()
        assert send_due() == 0
    with _at(paris(2026, 11, 24, 8, 0, 30)):
        assert send_due() == 1
    assert _kinds()[-1] is SmsKind.APPOINTMENT_CONFIRMED


def test_a_reminder_that_would_arrive_after_the_start_is_dropped(app, fake_twilio):
    # An outage: the worker comes back after the appointment started.
    with _at(paris(2026, 11, 23, 10, 0)):
        _organisation, counsellor, person = _setting()
        appointments.book(person, make_slot(counsellor, starts_at=paris(2026, 11, 26, 10, 30)).id)
        db.session.commit()
    with _at(paris(2026, 11, 26, 11, 0)):
        send_due()
    assert fake_twilio.messages == []
    statuses = set(db.session.scalars(select(SmsMessage.status)))
    assert statuses == {SmsStatus.DROPPED}


def test_a_provider_failing_three_times_then_working_delivers_once(app, fake_twilio):
    with _at(paris(2026, 11, 23, 10, 0)) as traveller:
        _organisation, counsellor, person = _setting()
        appointments.book(person, make_slot(counsellor, starts_at=paris(2026, 11, 30, 10, 30)).id)
        db.session.commit()
        fake_twilio.fail_next(3, status=503)
        for _ in range(4):
            send_due()
            traveller.shift(600)  # past any backoff of the first attempts
    message = db.session.scalars(
        select(SmsMessage).where(SmsMessage.kind == SmsKind.APPOINTMENT_REQUESTED)
    ).one()
    assert (message.status, message.attempts) == (SmsStatus.SENT, 4)
    assert len(fake_twilio.wait_for(1)) == 1

"""The outbox and its two backends, with the real twilio client against the loopback fake."""

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.core.clock import utcnow
from portal.events.models import Event
from portal.extensions import db
from portal.sms.models import PRIORITY_REMINDER, PRIORITY_SIGN_IN, SmsKind, SmsMessage, SmsStatus
from portal.sms.outbox import queue_sms
from portal.sms.sender import MAX_ATTEMPTS, send_due, send_now
from tests.factories import make_beneficiary


def _queue(to="+33612345678", body="Dep. Bas-Rhin : RDV confirme mardi 3 mars a 10 h 30.", **kw):
    message = queue_sms(to=to, body=body, kind=kw.pop("kind", SmsKind.APPOINTMENT_CONFIRMED), **kw)
    db.session.commit()
    return message


def test_a_queued_message_is_sent_through_twilio_once(app, fake_twilio):
    message = _queue()
    assert send_due() == 1
    assert send_due() == 0
    received = fake_twilio.wait_for(1)
    assert [(m.to, m.body, m.sender) for m in received] == [
        ("+33612345678", message.body, "+33757000000")
    ]
    db.session.refresh(message)
    assert message.status is SmsStatus.SENT
    assert message.provider_id == received[0].sid
    assert message.segments == 1
    assert message.attempts == 1
    assert message.sent_at is not None


def test_segments_are_those_twilio_counted(app, fake_twilio):
    long_arabic = _queue(body="موعدك " * 20, language="ar")
    send_due()
    db.session.refresh(long_arabic)
    assert long_arabic.segments == 2


def test_a_messaging_service_replaces_the_sender_number(app, fake_twilio):
    app.config["TWILIO_MESSAGING_SERVICE_SID"] = "MG" + "1" * 32
    app.extensions.pop("sms_backend", None)
    _queue()
    send_due()
    received = fake_twilio.wait_for(1)[0]
    assert (received.sender, received.messaging_service_sid) == (None, "MG" + "1" * 32)


def test_a_provider_outage_is_retried_later(app, fake_twilio):
    fake_twilio.fail_next(1, status=503)
    message = _queue()
    assert send_due() == 1
    db.session.refresh(message)
    assert message.status is SmsStatus.QUEUED
    assert message.next_attempt_at > utcnow()
    assert "503" in message.last_error
    assert fake_twilio.messages == []

    message.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert send_due() == 1
    db.session.refresh(message)
    assert message.status is SmsStatus.SENT
    assert message.attempts == 2
    assert len(fake_twilio.wait_for(1)) == 1


def test_an_unreachable_provider_is_retried(app, fake_twilio):
    app.config["TWILIO_API_BASE"] = "http://127.0.0.1:9"  # nothing listens on discard
    app.extensions.pop("sms_backend", None)
    message = _queue()
    send_due()
    db.session.refresh(message)
    assert message.status is SmsStatus.QUEUED
    assert "unreachable" in message.last_error


def test_a_permanent_error_is_not_retried_and_tells_the_back_office(app, fake_twilio):
    person = make_beneficiary(phone="+33612345678")
    fake_twilio.fail_next(1, status=400, code=21211)
    message = _queue(beneficiary=person)
    send_due()
    db.session.refresh(message)
    assert message.status is SmsStatus.FAILED
    assert message.attempts == 1
    event = db.session.scalars(select(Event).where(Event.type == "sms.failed")).one()
    assert event.beneficiary_id == person.id
    assert event.data["sms_id"] == message.id


def test_after_the_last_attempt_the_message_fails(app, fake_twilio):
    message = _queue()
    message.attempts = MAX_ATTEMPTS - 1
    db.session.commit()
    fake_twilio.fail_next(1, status=500)
    send_due()
    db.session.refresh(message)
    assert message.status is SmsStatus.FAILED


def test_a_message_past_its_use_is_dropped_not_sent(app, fake_twilio):
    message = _queue(send_before=utcnow() - timedelta(minutes=1))
    send_due()
    db.session.refresh(message)
    assert message.status is SmsStatus.DROPPED
    assert fake_twilio.wait_for(1, timeout=0.2) == []


def test_sign_in_codes_go_before_reminders(app, fake_twilio):
    for n in range(3):
        _queue(to=f"+3361234567{n}", kind=SmsKind.REMINDER_48H, priority=PRIORITY_REMINDER)
    _queue(to="+33699999999", kind=SmsKind.SIGN_IN_CODE, priority=PRIORITY_SIGN_IN)
    send_due(limit=1)
    assert [m.to for m in fake_twilio.wait_for(1)] == ["+33699999999"]


def test_a_message_not_yet_due_waits(app, fake_twilio):
    _queue(due_at=utcnow() + timedelta(hours=1))
    assert send_due() == 0


def test_a_message_claimed_by_another_worker_is_left_alone(app, fake_twilio):
    message = _queue()
    message.status = SmsStatus.SENDING
    message.claimed_at = utcnow()
    db.session.commit()
    assert send_now(message.id) is None
    assert send_due() == 0


def test_a_message_left_mid_send_by_a_dead_worker_is_recovered(app, fake_twilio):
    message = _queue()
    message.status = SmsStatus.SENDING
    message.claimed_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    assert send_due() == 1
    db.session.refresh(message)
    assert message.status is SmsStatus.SENT


@pytest.fixture
def app_config(request):
    return {"SMS_BACKEND": "console"} if "console" in request.node.name else {}


def test_the_console_backend_prints_the_message(app, caplog, fake_twilio):
    message = _queue(body="Votre code de connexion : 123456.")
    with caplog.at_level(logging.WARNING, logger="portal.sms.console"):
        send_due()
    assert "+33612345678" in caplog.text and "123456" in caplog.text
    db.session.refresh(message)
    assert message.status is SmsStatus.SENT
    assert fake_twilio.messages == []


def test_an_unknown_backend_name_is_refused(app):
    from portal.sms.backends import make_backend

    app.config["SMS_BACKEND"] = "carrier-pigeon"
    with pytest.raises(RuntimeError, match="SMS_BACKEND"):
        make_backend(app)


def test_the_outbox_refuses_a_number_not_in_e164(app):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        _queue(to="0612345678")
    db.session.rollback()
    assert db.session.scalars(select(SmsMessage)).all() == []

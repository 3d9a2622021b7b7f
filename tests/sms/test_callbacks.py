"""Twilio's signed callbacks: delivery reports, STOP and START."""

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from portal.events.models import Event
from portal.extensions import db
from portal.sms.models import SmsKind, SmsMessage, SmsStatus
from portal.sms.outbox import queue_sms
from portal.sms.sender import send_due
from tests.factories import make_beneficiary

BASE = "https://portail.test"


def _post(client, fake_twilio, path: str, params: dict, signed: bool = True):
    signature = RequestValidator(fake_twilio.auth_token).compute_signature(BASE + path, params)
    headers = {"X-Twilio-Signature": signature if signed else "forged"}
    return client.post(path, data=params, headers=headers, base_url=BASE)


def _sent_message(person=None) -> SmsMessage:
    message = queue_sms(
        to="+33612345678", body="Bonjour", kind=SmsKind.APPOINTMENT_CONFIRMED, beneficiary=person
    )
    db.session.commit()
    send_due()
    db.session.refresh(message)
    return message


def test_the_status_callback_url_is_given_to_twilio(app, fake_twilio):
    _sent_message()
    assert fake_twilio.wait_for(1)[0].status_callback == BASE + "/sms/twilio/status"


def test_a_signed_delivery_report_is_recorded_and_never_goes_backwards(client, fake_twilio):
    message = _sent_message()
    for status in ("sent", "delivered", "sent", "queued"):
        response = _post(
            client,
            fake_twilio,
            "/sms/twilio/status",
            {"MessageSid": message.provider_id, "MessageStatus": status},
        )
        assert response.status_code == 204
    db.session.refresh(message)
    assert message.status is SmsStatus.DELIVERED


@pytest.mark.parametrize("path", ["/sms/twilio/status", "/sms/twilio/inbound"])
def test_unsigned_or_forged_callbacks_are_refused(client, fake_twilio, path):
    params = {
        "MessageSid": "SM1",
        "MessageStatus": "delivered",
        "From": "+33612345678",
        "Body": "STOP",
    }
    assert _post(client, fake_twilio, path, params, signed=False).status_code == 403
    assert client.post(path, data=params, base_url=BASE).status_code == 403


def test_an_undelivered_report_tells_the_back_office(client, fake_twilio):
    person = make_beneficiary(phone="+33612345678")
    message = _sent_message(person)
    _post(
        client,
        fake_twilio,
        "/sms/twilio/status",
        {"MessageSid": message.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30003"},
    )
    db.session.refresh(message)
    assert message.status is SmsStatus.UNDELIVERED
    assert db.session.scalars(select(Event.type)).all() == ["sms.failed"]


@pytest.mark.parametrize(
    "body", ["STOP", "stop", "Stop.", " arret ", "Arrêt", "ARRÊT !", "STOP SMS", "stop sms"]
)
def test_stop_in_any_spelling_opts_the_person_out(client, fake_twilio, body):
    person = make_beneficiary(phone="+33612345678")
    response = _post(
        client, fake_twilio, "/sms/twilio/inbound", {"From": "+33612345678", "Body": body}
    )
    assert response.status_code == 200
    db.session.refresh(person)
    assert person.sms_opted_out
    assert db.session.scalars(select(Event.type)).all() == ["beneficiary.sms_opted_out"]


def test_a_stop_from_a_shared_number_opts_out_both_and_start_opts_back_in(client, fake_twilio):
    first = make_beneficiary(phone="+33612345678", first_name="Amina")
    second = make_beneficiary(phone="+33612345678", first_name="Youssef")
    other = make_beneficiary(phone="+33699999999")
    _post(client, fake_twilio, "/sms/twilio/inbound", {"From": "+33612345678", "Body": "STOP"})
    for person in (first, second, other):
        db.session.refresh(person)
    assert (first.sms_opted_out, second.sms_opted_out, other.sms_opted_out) == (True, True, False)
    _post(client, fake_twilio, "/sms/twilio/inbound", {"From": "+33612345678", "Body": "Start"})
    db.session.refresh(first)
    assert not first.sms_opted_out
    types = db.session.scalars(select(Event.type).order_by(Event.id)).all()
    assert types == ["beneficiary.sms_opted_out"] * 2 + ["beneficiary.sms_opted_in"] * 2


def test_other_answers_change_nothing(client, fake_twilio):
    person = make_beneficiary(phone="+33612345678")
    _post(
        client,
        fake_twilio,
        "/sms/twilio/inbound",
        {"From": "+33612345678", "Body": "Merci, stop pour aujourd'hui"},
    )
    db.session.refresh(person)
    assert not person.sms_opted_out


def test_after_stop_only_sign_in_codes_are_sent(app, fake_twilio):
    person = make_beneficiary(phone="+33612345678")
    person.sms_opted_out = True
    db.session.commit()
    queue_sms(to=person.phone, body="Rappel", kind=SmsKind.REMINDER_DAY, beneficiary=person)
    queue_sms(to=person.phone, body="Code 123456", kind=SmsKind.SIGN_IN_CODE, beneficiary=person)
    db.session.commit()
    send_due()
    assert [m.body for m in fake_twilio.wait_for(1)] == ["Code 123456"]


def test_the_settings_page_switches_sms_off_and_on(sign_in, app):
    from tests.conftest import Browser

    person = make_beneficiary()
    browser = Browser(sign_in(person))
    assert "Ne plus recevoir les SMS de rendez-vous" in browser.get("/parametres").get_data(
        as_text=True
    )
    browser.submit("/parametres", {"sms": "off"})
    db.session.refresh(person)
    assert person.sms_opted_out
    browser.submit("/parametres", {"sms": "on"})
    db.session.refresh(person)
    assert not person.sms_opted_out
    types = db.session.scalars(select(Event.type).order_by(Event.id)).all()
    assert types == ["beneficiary.sms_opted_out", "beneficiary.sms_opted_in"]

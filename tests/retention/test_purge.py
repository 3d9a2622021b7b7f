"""The purge on a cohort of known ages, with the clock frozen: exactly what is past its
period goes, nothing else, and the indicators count the same before and after."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal.appointments.models import AppointmentStatus
from portal.audit import services as audit
from portal.audit.models import AuditEntry
from portal.auth.models import SignInCode
from portal.auth.services import request_sign_in_code
from portal.events.models import (
    DeliveryStatus,
    Event,
    EventRecipient,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from portal.events.services import record_event
from portal.extensions import db
from portal.indicators import services as indicators
from portal.indicators.models import AppointmentFact, SmsDayCount
from portal.retention import services as retention
from portal.retention.services import months_before
from portal.sms.models import SmsKind, SmsMessage, SmsStatus
from tests.factories import (
    make_appointment,
    make_beneficiary,
    make_counsellor,
    make_organisation,
    make_slot,
)

NOW = datetime(2027, 3, 15, 11, 0, tzinfo=UTC)  # a Monday, 12:00 in Paris
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def made(moment: datetime):
    """The clock at `moment`: rows made inside get it as their date."""
    return time_machine.travel(moment, tick=False)


def _sms(organisation, person, moment, status=SmsStatus.DELIVERED, **fields) -> int:
    with made(moment):
        message = SmsMessage(
            to=person.phone,
            body="Bonjour Amina, rendez-vous lundi à 10 h.",
            kind=SmsKind.APPOINTMENT_CONFIRMED,
            organisation_id=organisation.id,
            beneficiary_id=person.id,
            status=status,
            segments=1,
            sent_at=None if status == SmsStatus.QUEUED else moment + timedelta(minutes=1),
            **fields,
        )
        db.session.add(message)
        db.session.commit()
        return message.id


def _event(person, moment) -> int:
    with made(moment):
        event = record_event("beneficiary.updated", person, {"fields": ["phone"]})
        db.session.commit()
        return event.id


def _delivery(event_id: int, status: DeliveryStatus, attempts_at: list[datetime]) -> int:
    delivery = db.session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.event_id == event_id)
    )
    delivery.status = status
    for moment in attempts_at:
        delivery.attempts_log.append(
            WebhookAttempt(attempted_at=moment, status_code=500, duration_ms=12)
        )
    db.session.commit()
    return delivery.id


def _audit(counsellor, person, moment) -> int:
    with made(moment):
        audit.record(counsellor, audit.PERSON_VIEWED, "203.0.113.7", person_id=person.id)
        db.session.commit()
    return db.session.scalar(select(func.max(AuditEntry.id)))


@pytest.fixture
def cohort(app):
    """Each kind of row just past its period ("old") and just within it ("young")."""
    organisation = make_organisation()
    counsellor = make_counsellor(organisation)
    person = make_beneficiary(organisation)
    db.session.add(
        WebhookEndpoint(
            organisation_id=organisation.id, url="https://example.org/hook", secret="s" * 32
        )
    )
    db.session.commit()
    ids = {}
    with made(NOW - 25 * HOUR):
        request_sign_in_code("+33612340001")
        db.session.commit()
    with made(NOW - 23 * HOUR):
        request_sign_in_code("+33612340002")
        db.session.commit()
    ids["sms_old"] = _sms(organisation, person, NOW - 91 * DAY)
    ids["sms_old_failed"] = _sms(organisation, person, NOW - 91 * DAY, SmsStatus.FAILED)
    ids["sms_old_queued"] = _sms(organisation, person, NOW - 91 * DAY, SmsStatus.QUEUED)
    ids["sms_young"] = _sms(organisation, person, NOW - 89 * DAY)
    # A reminder delivered before an appointment: the indicators read it.
    with made(NOW):
        slot = make_slot(counsellor, starts_in=-(100 * DAY))
    with made(NOW - 102 * DAY):
        appointment = make_appointment(slot, person, status=AppointmentStatus.ATTENDED)
    ids["reminder"] = _sms(
        organisation,
        person,
        NOW - 101 * DAY,
        appointment_id=appointment.id,
    )
    reminder = db.session.get(SmsMessage, ids["reminder"])
    reminder.kind = SmsKind.REMINDER_48H
    db.session.commit()

    ids["event_old"] = _event(person, months_before(NOW, 13) - DAY)
    ids["event_young"] = _event(person, months_before(NOW, 13) + DAY)
    ids["event_anonymous"] = _event(None, months_before(NOW, 13) - DAY)
    ids["delivery_old_done"] = _delivery(
        _event(person, NOW - 95 * DAY), DeliveryStatus.DELIVERED, [NOW - 95 * DAY]
    )
    ids["delivery_old_failed_recent_try"] = _delivery(
        _event(person, NOW - 95 * DAY), DeliveryStatus.FAILED, [NOW - 95 * DAY, NOW - 80 * DAY]
    )
    ids["delivery_old_pending"] = _delivery(
        _event(person, NOW - 95 * DAY), DeliveryStatus.PENDING, [NOW - 94 * DAY]
    )
    ids["audit_old"] = _audit(counsellor, person, months_before(NOW, 12) - HOUR)
    ids["audit_young"] = _audit(counsellor, person, months_before(NOW, 12) + HOUR)
    return {"organisation": organisation, "person": person, **ids}


def _indicator_state(organisation_id: int):
    start, end = date(2026, 1, 1), date(2027, 3, 31)
    return (
        indicators.sms_figures(organisation_id, start, end),
        indicators.appointment_figures(organisation_id, start, end),
    )


def _summaries():
    """The rows PostgreSQL's triggers keep for the indicators."""
    return (
        sorted(
            (row.day, row.status, row.messages, row.segments)
            for row in db.session.scalars(select(SmsDayCount))
        ),
        sorted(
            (fact.appointment_id, fact.status, fact.reminded)
            for fact in db.session.scalars(select(AppointmentFact))
        ),
    )


def _bodies() -> dict[int, str]:
    return dict(db.session.execute(select(SmsMessage.id, SmsMessage.body)).all())


def test_the_purge_removes_exactly_what_is_past_its_period(cohort):
    before = _indicator_state(cohort["organisation"].id)
    with made(NOW):
        done = retention.purge()
        db.session.commit()
    assert done == {
        "sign_in_codes": 1,
        "sms_bodies": 3,  # old delivered, old failed, the old reminder; not the queued one
        "webhook_attempts": 3,
        "webhook_deliveries": 1,
        # the other events are younger than 13 months, or about nobody
        "events": 1,
        "audit_entries": 1,
    }
    assert db.session.scalars(select(SignInCode.phone)).all() == ["+33612340002"]
    bodies = _bodies()
    emptied = {
        key for key in ("sms_old", "sms_old_failed", "reminder") if bodies[cohort[key]] == ""
    }
    assert emptied == {"sms_old", "sms_old_failed", "reminder"}
    assert bodies[cohort["sms_young"]] and bodies[cohort["sms_old_queued"]]
    old_message = db.session.get(SmsMessage, cohort["sms_old"])
    assert (old_message.status, old_message.kind, old_message.to) == (
        SmsStatus.DELIVERED,
        SmsKind.APPOINTMENT_CONFIRMED,
        cohort["person"].phone,
    )

    old = db.session.get(Event, cohort["event_old"])
    assert (old.type, old.data, old.beneficiary_id) == ("beneficiary.updated", {}, None)
    assert old.occurred_at == months_before(NOW, 13) - DAY
    assert db.session.scalars(
        select(EventRecipient.external_id).where(EventRecipient.event_id == old.id)
    ).all() == [None]
    young = db.session.get(Event, cohort["event_young"])
    assert (young.data, young.beneficiary_id) == ({"fields": ["phone"]}, cohort["person"].id)
    assert db.session.scalars(
        select(EventRecipient.external_id).where(EventRecipient.event_id == young.id)
    ).all() != [None]
    assert db.session.get(Event, cohort["event_anonymous"]).data == {"fields": ["phone"]}

    assert db.session.get(WebhookDelivery, cohort["delivery_old_done"]) is None
    kept = db.session.get(WebhookDelivery, cohort["delivery_old_failed_recent_try"])
    assert [attempt.attempted_at for attempt in kept.attempts_log] == [NOW - 80 * DAY]
    pending = db.session.get(WebhookDelivery, cohort["delivery_old_pending"])
    assert pending is not None and pending.attempts_log == []
    # The two other events' deliveries (pending, no attempt) are still there.
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 4

    assert db.session.scalars(select(AuditEntry.id)).all() == [cohort["audit_young"]]
    # What the indicators count did not move.
    assert _indicator_state(cohort["organisation"].id) == before


@pytest.mark.postgres_only
def test_the_summaries_the_triggers_keep_do_not_move(cohort):
    before = _summaries()
    # The reminder counts, and its trigger would hear of a change to its row.
    assert [reminded for _id, _status, reminded in before[1]] == [True]
    assert before[0]  # SMS days counted
    with made(NOW):
        retention.purge()
        db.session.commit()
    assert _summaries() == before


def test_a_second_run_finds_nothing(cohort):
    with made(NOW):
        retention.purge()
        db.session.commit()
        bodies = _bodies()
        assert set(retention.purge().values()) == {0}
        db.session.commit()
    assert _bodies() == bodies


def test_nothing_goes_before_its_time(cohort):
    """Two days earlier the SMS 91 days old, the event 13 months and a day old and the
    audit row 12 months and an hour old were all within their period."""
    with made(NOW - 2 * DAY):
        done = retention.purge()
    assert done == {
        "sign_in_codes": 0,
        "sms_bodies": 1,  # the reminder, 101 days old
        "webhook_attempts": 3,  # 93 and 92 days old then
        "webhook_deliveries": 1,
        "events": 0,
        "audit_entries": 0,
    }


def test_the_periods_come_from_the_configuration(cohort, app):
    app.config["RETENTION_SMS_BODY_DAYS"] = 88
    app.config["RETENTION_AUDIT_MONTHS"] = 24
    with made(NOW):
        done = retention.purge()
    assert done["sms_bodies"] == 4 and done["audit_entries"] == 0


def test_the_command_prints_what_it_did(cohort, runner):
    with made(NOW):
        result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "Purged: sign_in_codes 1, sms_bodies 3, webhook_attempts 3, webhook_deliveries 1, "
        "events 1, audit_entries 1."
    )
    with made(NOW):
        again = runner.invoke(args=["purge"])
    assert "sign_in_codes 0, sms_bodies 0" in again.output


def test_the_worker_purges_once_then_waits_a_day(cohort, app):
    from portal.cli import DailyPurge

    daily = DailyPurge()
    with time_machine.travel(NOW, tick=False) as traveller:
        daily()
        assert db.session.scalar(select(func.count()).select_from(SignInCode)) == 1
        with made(NOW - 24 * HOUR):  # a new code, old enough to go at the next pass
            request_sign_in_code("+33612340003")
            db.session.commit()
        traveller.shift(HOUR)
        daily()
        assert db.session.scalar(select(func.count()).select_from(SignInCode)) == 2
        traveller.shift(24 * HOUR)
        daily()
        assert db.session.scalar(select(func.count()).select_from(SignInCode)) == 0


@pytest.mark.postgres_only
def test_two_purges_at_once_remove_each_row_once(cohort, app):
    start = threading.Barrier(2)
    results: list[dict] = []
    errors: list[BaseException] = []

    def run():
        with app.app_context(), made(NOW):
            try:
                start.wait()
                results.append(retention.purge())
                db.session.commit()
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    totals = {kind: sum(result[kind] for result in results) for kind in retention.KINDS}
    assert totals == {
        "sign_in_codes": 1,
        "sms_bodies": 3,
        "webhook_attempts": 3,
        "webhook_deliveries": 1,
        "events": 1,
        "audit_entries": 1,
    }
    assert {0} in [set(result.values()) for result in results]  # one waited, then found none


def test_months_before_keeps_the_day_or_takes_the_months_last():
    assert months_before(datetime(2027, 3, 15, 11, tzinfo=UTC), 13) == datetime(
        2026, 2, 15, 11, tzinfo=UTC
    )
    assert months_before(datetime(2027, 3, 31, tzinfo=UTC), 1) == datetime(2027, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2027, 1, 10, tzinfo=UTC), 24) == datetime(2025, 1, 10, tzinfo=UTC)


def test_a_failed_daily_purge_is_tried_again_an_hour_later(cohort, app, monkeypatch):
    from portal.cli import DailyPurge

    daily = DailyPurge()
    real_purge = retention.purge

    def failing():
        raise RuntimeError("database away")

    monkeypatch.setattr(retention, "purge", failing)
    with time_machine.travel(NOW, tick=False) as traveller:
        with pytest.raises(RuntimeError):
            daily()
        db.session.rollback()
        monkeypatch.setattr(retention, "purge", real_purge)
        traveller.shift(30 * 60)
        daily()  # too soon: the code 25 hours old is still there
        assert db.session.scalar(select(func.count()).select_from(SignInCode)) == 2
        traveller.shift(31 * 60)
        daily()  # both codes are past 24 hours by now
        assert db.session.scalar(select(func.count()).select_from(SignInCode)) == 0

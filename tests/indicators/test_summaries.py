"""The summaries the indicators read on PostgreSQL (appointment_fact, sms_day_count) are
kept by triggers: they must equal the facts after any writes, concurrent ones included,
and `flask indicators rebuild` must make them again from the facts."""

import random
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from portal.appointments.models import AppointmentStatus
from portal.core.clock import paris_day, utcnow
from portal.extensions import db
from portal.indicators import services as indicators
from portal.indicators.models import AppointmentFact, SmsDayCount
from portal.indicators.summaries import live_appointment_facts
from portal.sms.models import SmsMessage, SmsStatus
from tests.factories import make_appointment, make_beneficiary, make_slot
from tests.indicators.conftest import MARCH
from tests.indicators.test_definitions import EXPECTED_APPOINTMENTS, EXPECTED_SMS, _close

pytestmark = pytest.mark.postgres_only
COUNTED = (SmsStatus.SENT, SmsStatus.DELIVERED, SmsStatus.UNDELIVERED, SmsStatus.FAILED)
COLUMNS = [column.name for column in AppointmentFact.__table__.columns]


def _kept_appointments() -> set[tuple]:
    db.session.expire_all()
    columns = [getattr(AppointmentFact, name) for name in COLUMNS]
    return {tuple(row) for row in db.session.execute(select(*columns))}


def _live_appointments() -> set[tuple]:
    live = live_appointment_facts().subquery()
    return {tuple(row) for row in db.session.execute(select(*[live.c[name] for name in COLUMNS]))}


def _kept_sms() -> Counter:
    rows = db.session.scalars(select(SmsDayCount).where(SmsDayCount.messages != 0))
    return Counter({(r.organisation_id, r.day, r.status): (r.messages, r.segments) for r in rows})


def _live_sms() -> Counter:
    counts: dict[tuple, list[int]] = {}
    for message in db.session.scalars(select(SmsMessage)):
        if message.organisation_id is None or message.status not in COUNTED:
            continue
        key = (message.organisation_id, paris_day(message.created_at), message.status.value)
        pair = counts.setdefault(key, [0, 0])
        pair[0] += 1
        pair[1] += message.segments or 0
    return Counter({key: tuple(pair) for key, pair in counts.items()})


def _assert_summaries_equal_the_facts() -> None:
    assert _kept_appointments() == _live_appointments()
    assert _kept_sms() == _live_sms()


def test_the_summaries_equal_the_facts_and_a_rebuild_makes_them_again(cohort, org_a, runner):
    _assert_summaries_equal_the_facts()
    assert len(_kept_appointments()) == 32
    # Lost or wrong (a restore, a bug, a manual fix in the database): rebuilt from the facts.
    db.session.execute(text("DELETE FROM appointment_fact WHERE status = 'attended'"))
    db.session.execute(text("UPDATE sms_day_count SET messages = messages + 7"))
    db.session.commit()
    assert _kept_sms() != _live_sms()
    result = runner.invoke(args=["indicators", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "appointments: 100 %" in result.output and "sms: 100 %" in result.output
    assert "Indicators rebuilt: 32 appointments, 20 SMS." in result.output
    _assert_summaries_equal_the_facts()
    figures = indicators.indicators(org_a.organisation.id, *MARCH).payload()
    _close(figures["appointments"], EXPECTED_APPOINTMENTS)
    assert figures["sms"] == EXPECTED_SMS


def _retrying(engine, work) -> None:
    """One transaction of a writer; PostgreSQL may end one of two crossing transactions
    (a deadlock): the portal's writer would try again, so does this one."""
    for _attempt in range(20):
        try:
            with engine.begin() as connection:
                work(connection)
            return
        except DBAPIError as error:
            if "deadlock" not in str(error):
                raise


def test_the_summaries_stay_exact_under_concurrent_writes(org_a):
    """Eight writers at once on the same appointments, slots and day: reminders
    delivered, outcomes recorded, slots moved, messages written and failing."""
    person = make_beneficiary(org_a.organisation)
    starts = utcnow().replace(microsecond=0) + timedelta(days=1)
    slots = [make_slot(org_a.counsellor, starts_at=starts + timedelta(hours=n)) for n in range(6)]
    appointments = [
        make_appointment(slot, person, status=AppointmentStatus.CONFIRMED) for slot in slots
    ]
    slot_ids = [slot.id for slot in slots]
    appointment_ids = [appointment.id for appointment in appointments]
    organisation_id = org_a.organisation.id
    engine = db.engine  # the threads have no application context
    writers, rounds = 8, 15
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def insert_sms(connection, chance, appointment_id=None, kind="appointment_confirmed"):
        connection.execute(
            text(
                "INSERT INTO sms_message (organisation_id, appointment_id, to_number, body,"
                " kind, language, priority, status, attempts, next_attempt_at, created_at,"
                " sent_at, segments, updated_at) VALUES (:org, :appointment, '+33600000000',"
                " '', :kind, 'fr', 1, :status, 1, now(), now(), now() - interval '1 day',"
                " :segments, now())"
            ),
            {
                "org": organisation_id,
                "appointment": appointment_id,
                "kind": kind,
                "status": chance.choice(["sent", "queued", "delivered"]),
                "segments": chance.choice([1, 2, None]),
            },
        )

    def write(seed: int) -> None:
        chance = random.Random(seed)  # noqa: S311 # the mix of writes, no secret
        try:
            barrier.wait()
            for _ in range(rounds):
                appointment_id = chance.choice(appointment_ids)
                move = chance.random()
                if move < 0.3:  # a reminder delivered (or sent) for an appointment
                    _retrying(
                        engine, lambda c, a=appointment_id: insert_sms(c, chance, a, "reminder_48h")
                    )
                elif move < 0.5:  # an outcome recorded, or undone
                    status = chance.choice(["attended", "no_show", "excused", "confirmed"])
                    _retrying(
                        engine,
                        lambda c, a=appointment_id, s=status: c.execute(
                            text("UPDATE appointment SET status = :s WHERE id = :a"),
                            {"s": s, "a": a},
                        ),
                    )
                elif move < 0.65:  # a slot moved, before or after its reminders
                    slot_id, hours = chance.choice(slot_ids), chance.choice([-72, 72])
                    _retrying(
                        engine,
                        lambda c, s=slot_id, h=hours: c.execute(
                            text(
                                "UPDATE slot SET starts_at = starts_at + make_interval("
                                "hours => :h) WHERE id = :s"
                            ),
                            {"h": h, "s": s},
                        ),
                    )
                elif move < 0.85:  # delivery reports, as the provider's callbacks come
                    status = chance.choice(["delivered", "undelivered", "failed"])
                    _retrying(
                        engine,
                        lambda c, s=status: c.execute(
                            text(
                                "UPDATE sms_message SET status = :s WHERE id IN (SELECT id"
                                " FROM sms_message WHERE status IN ('sent', 'queued')"
                                " ORDER BY random() LIMIT 2)"
                            ),
                            {"s": s},
                        ),
                    )
                else:  # another message of the day
                    _retrying(engine, lambda c: insert_sms(c, chance))
        except BaseException as error:  # the main thread reports it
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert _kept_appointments() == _live_appointments()
    assert _kept_sms() == _live_sms()
    assert sum(messages for messages, _ in _kept_sms().values()) > 0

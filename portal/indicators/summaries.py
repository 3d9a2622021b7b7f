"""The summaries the indicators read on PostgreSQL, and how to make them again.

`appointment_fact` (one row per appointment) and `sms_day_count` (per organisation, Paris
day and status) are kept by triggers in the same transaction as the facts, whatever
writes them; the definitions are the SQL functions of migration 7c1e0b5f2a91
(indicators_fill_appointments, indicators_fill_sms). SQLite has no triggers here: the
indicators read `live_appointment_facts()` and the messages themselves.
"""

from collections.abc import Callable

from sqlalchemy import Float, Select, and_, case, cast, exists, func, select, text

from portal.appointments.models import Appointment, AppointmentStatus, Slot
from portal.extensions import db
from portal.indicators.models import AppointmentFact, SmsDayCount
from portal.sms.models import SmsKind, SmsMessage, SmsStatus

OUTCOMES = (AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW, AppointmentStatus.EXCUSED)
REMINDERS = (SmsKind.REMINDER_48H, SmsKind.REMINDER_DAY)
SECONDS_A_DAY = 86400
BATCH = 100_000


def summarised() -> bool:
    """True where the triggers keep the summaries (PostgreSQL)."""
    return db.session.get_bind().dialect.name == "postgresql"


def live_appointment_facts() -> Select:
    """What the indicators see of each appointment, computed from the facts, with the
    columns of AppointmentFact (as indicators_fill_appointments computes them)."""
    reminded = and_(
        Appointment.status.in_(OUTCOMES),
        exists().where(
            SmsMessage.appointment_id == Appointment.id,
            SmsMessage.kind.in_(REMINDERS),
            SmsMessage.status == SmsStatus.DELIVERED,
            SmsMessage.sent_at < Slot.starts_at,
        ),
    )
    if summarised():
        delay = cast(
            func.extract("epoch", Appointment.confirmed_at - Appointment.booked_at) / SECONDS_A_DAY,
            Float,
        )
    else:
        delay = func.julianday(Appointment.confirmed_at) - func.julianday(Appointment.booked_at)
    status = cast(Appointment.status, AppointmentFact.status.type)
    return select(
        Appointment.id.label("appointment_id"),
        Slot.organisation_id.label("organisation_id"),
        Appointment.beneficiary_id.label("beneficiary_id"),
        Slot.starts_at.label("starts_at"),
        status.label("status"),
        Appointment.cancelled_by.label("cancelled_by"),
        Appointment.rescheduled_to_id.is_not(None).label("moved"),
        reminded.label("reminded"),
        case((Appointment.confirmed_at >= Appointment.booked_at, delay)).label("confirmation_days"),
    ).join(Slot, Slot.id == Appointment.slot_id)


def appointment_facts():
    """The table or, on SQLite, the same rows computed on the fly."""
    if summarised():
        return AppointmentFact.__table__
    return live_appointment_facts().subquery("appointment_fact_live")


def rebuild(progress: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
    """Makes both summaries again from the facts, in one transaction (the caller commits).

    The tables are locked first: a writer's trigger waits until the rebuild commits, then
    adds its change to the rebuilt rows, so nothing is counted twice or missed."""
    if not summarised():
        return {}
    db.session.execute(
        text("LOCK TABLE appointment_fact, sms_day_count IN SHARE ROW EXCLUSIVE MODE")
    )
    db.session.execute(text("SET LOCAL jit = off"))
    db.session.execute(AppointmentFact.__table__.delete())
    db.session.execute(SmsDayCount.__table__.delete())
    rows = {}
    for name, model, fill in (
        ("appointments", Appointment, text("SELECT indicators_fill_appointments(:low, :high)")),
        ("sms", SmsMessage, text("SELECT indicators_fill_sms(:low, :high)")),
    ):
        first, last = db.session.execute(select(func.min(model.id), func.max(model.id))).one()
        rows[name] = 0
        if first is None:
            continue
        total = last - first + 1
        for low in range(first, last + 1, BATCH):
            high = min(low + BATCH - 1, last)
            db.session.execute(fill, {"low": low, "high": high})
            if progress:
                progress(name, high - first + 1, total)
        rows[name] = db.session.scalar(select(func.count()).select_from(model))
    return rows

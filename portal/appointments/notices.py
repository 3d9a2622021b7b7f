"""What a change to an appointment tells: the back office by an event, the person by SMS."""

from datetime import datetime

from portal.appointments.models import (
    Appointment,
)
from portal.core.clock import utcnow
from portal.events.services import record_event
from portal.sms.models import SmsKind
from portal.sms.outbox import queue_notice
from portal.sms.schedule import reminder_times

# Why the SMS about an appointment were not sent, as the outbox records it.
NO_LONGER_STANDS = "the appointment was cancelled, moved or answered"


def notify(appointment: Appointment, kind: SmsKind, template: str, **context) -> None:
    # Past the start, news about an appointment is no longer worth an SMS.
    queue_notice(
        appointment.beneficiary,
        appointment.slot.organisation,
        kind,
        template,
        appointment_id=appointment.id,
        send_before=appointment.slot.starts_at,
        slot=appointment.slot,
        **context,
    )


def queue_reminders(appointment: Appointment, now: datetime | None = None) -> None:
    """The 48-hour and the morning reminders, in allowed hours; dropped at send time if the
    appointment no longer stands."""
    slot = appointment.slot
    organisation = slot.organisation
    times = reminder_times(
        slot.starts_at,
        now or utcnow(),
        organisation.department_code,
        organisation.reminder_hours_before,
        organisation.morning_reminder_hour,
    )
    for key, kind, template in (
        ("48h", SmsKind.REMINDER_48H, "sms/reminder_48h.txt"),
        ("day", SmsKind.REMINDER_DAY, "sms/reminder_day.txt"),
    ):
        if key in times:
            queue_notice(
                appointment.beneficiary,
                organisation,
                kind,
                template,
                appointment_id=appointment.id,
                due_at=times[key],
                send_before=slot.starts_at,
                slot=slot,
            )


def record(type_: str, appointment: Appointment, by: str, **data) -> None:
    record_event(
        type_,
        appointment.beneficiary,
        {
            "appointment_id": appointment.id,
            "slot_external_id": appointment.slot.external_id,
            "organisation": appointment.slot.organisation.slug,
            "by": by,
            **data,
        },
    )

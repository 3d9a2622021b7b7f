"""What a change to an appointment tells: the back office by an event, the person by SMS."""

from datetime import datetime

from portal.appointments.models import (
    Appointment,
)
from portal.core.clock import utcnow
from portal.events.services import record_event
from portal.sms.models import SmsKind
from portal.sms.outbox import notice_body, queue_notice, rewrite_queued
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


REMINDERS = {
    "48h": (SmsKind.REMINDER_48H, "sms/reminder_48h.txt"),
    "day": (SmsKind.REMINDER_DAY, "sms/reminder_day.txt"),
}


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
    for key, (kind, template) in REMINDERS.items():
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


def rewrite_reminders(appointment: Appointment) -> None:
    """Rewrites the reminders still queued for an appointment whose place or video link
    changed; their times stay."""
    person = appointment.beneficiary
    if person is None:
        return
    slot = appointment.slot
    for kind, template in REMINDERS.values():
        body = notice_body(person, slot.organisation, template, slot=slot)
        rewrite_queued(appointment.id, kind, body)


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

"""The outbox: what to send, to whom, when. Every SMS is a row first, written in the
caller's transaction with the change that causes it; the sender (sender.py) sends it.
"""

import logging
from datetime import datetime

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import or_, select, update

from portal.beneficiaries.models import Beneficiary
from portal.core.clock import utcnow
from portal.extensions import db
from portal.organisations.models import Organisation
from portal.sms.gsm import to_gsm7
from portal.sms.models import (
    PRIORITY_NOTICE,
    PRIORITY_REMINDER,
    SmsKind,
    SmsMessage,
    SmsStatus,
)
from portal.sms.schedule import next_allowed

logger = logging.getLogger(__name__)

REMINDER_KINDS = frozenset({SmsKind.REMINDER_48H, SmsKind.REMINDER_DAY})

# Kinds that only make sense while the appointment they are about still stands: the
# appointments side drops them (drop_queued_about) when it no longer does.
_ABOUT_A_LIVE_APPOINTMENT = frozenset(
    {
        SmsKind.APPOINTMENT_REQUESTED,
        SmsKind.APPOINTMENT_CONFIRMED,
        SmsKind.APPOINTMENT_RESCHEDULED,
        SmsKind.REMINDER_48H,
        SmsKind.REMINDER_DAY,
        SmsKind.WAITLIST_OFFER,
    }
)


def queue_sms(
    *,
    to: str,
    body: str,
    kind: SmsKind,
    beneficiary: Beneficiary | None = None,
    organisation: Organisation | None = None,
    language: str = "fr",
    priority: int = PRIORITY_NOTICE,
    due_at: datetime | None = None,
    send_before: datetime | None = None,
    appointment_id: int | None = None,
) -> SmsMessage:
    """Writes the message to the outbox in the caller's transaction; nothing is sent yet."""
    message = SmsMessage(
        appointment_id=appointment_id,
        to=to,
        body=body,
        kind=kind,
        beneficiary=beneficiary,
        organisation_id=organisation.id if organisation else None,
        language=language,
        priority=priority,
        next_attempt_at=due_at or utcnow(),
        send_before=send_before,
    )
    db.session.add(message)
    db.session.flush()
    return message


def queue_notice(
    person: Beneficiary | None,
    organisation: Organisation,
    kind: SmsKind,
    template: str,
    *,
    appointment_id: int | None = None,
    due_at: datetime | None = None,
    send_before: datetime | None = None,
    now: datetime | None = None,
    **context,
) -> SmsMessage | None:
    """An SMS that tells the person about a change, in their language, from their
    organisation; nothing when they said no to SMS (sign-in codes do not come here)."""
    if person is None or not person.may_receive_sms:
        return None
    now = now or utcnow()
    return queue_sms(
        to=person.phone,
        body=notice_body(person, organisation, template, **context),
        kind=kind,
        beneficiary=person,
        organisation=organisation,
        language=person.language,
        appointment_id=appointment_id,
        priority=PRIORITY_REMINDER if kind in REMINDER_KINDS else PRIORITY_NOTICE,
        due_at=next_allowed(due_at or now, organisation.department_code),
        send_before=send_before,
    )


def notice_body(person: Beneficiary, organisation: Organisation, template: str, **context) -> str:
    """An SMS's text in the person's language, signed by the organisation, in GSM-7."""
    with force_locale(person.language):
        body = render_template(
            template,
            sender=organisation.sender_name,
            link=current_app.config["PORTAL_BASE_URL"],
            **context,
        ).strip()
    return to_gsm7(body)


def rewrite_queued(appointment_id: int, kind: SmsKind, body: str) -> int:
    """Gives the queued messages of one kind about an appointment a new text (what they
    tell changed); one already claimed by a sender goes out as it was. Returns how many."""
    return db.session.execute(
        update(SmsMessage)
        .where(
            SmsMessage.appointment_id == appointment_id,
            SmsMessage.kind == kind,
            SmsMessage.status == SmsStatus.QUEUED,
        )
        .values(body=body)
        .execution_options(synchronize_session=False)
    ).rowcount


def drop_queued_about(appointment_id: int, reason: str) -> int:
    """Drops the queued notices and reminders about an appointment that no longer stands
    (cancelled, moved, declined, answered); returns how many. A message already claimed
    by a sender goes out: it was due before the change."""
    return db.session.execute(
        update(SmsMessage)
        .where(
            SmsMessage.appointment_id == appointment_id,
            SmsMessage.status == SmsStatus.QUEUED,
            SmsMessage.kind.in_(list(_ABOUT_A_LIVE_APPOINTMENT)),
        )
        .values(status=SmsStatus.DROPPED, last_error=reason, claimed_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def drop_queued_for(person: Beneficiary, reason: str) -> int:
    """Drops every queued message to a person (erasure): none may go out afterwards."""
    return db.session.execute(
        update(SmsMessage)
        .where(SmsMessage.beneficiary_id == person.id, SmsMessage.status == SmsStatus.QUEUED)
        .values(status=SmsStatus.DROPPED, last_error=reason, claimed_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def messages_of(person: Beneficiary, organisation_id: int, limit: int = 50) -> list[SmsMessage]:
    """The person's messages sent for this organisation, or for no organisation (sign-in
    codes): another organisation's are theirs to show."""
    return list(
        db.session.scalars(
            select(SmsMessage)
            .where(
                SmsMessage.beneficiary_id == person.id,
                or_(
                    SmsMessage.organisation_id == organisation_id,
                    SmsMessage.organisation_id.is_(None),
                ),
            )
            .order_by(SmsMessage.id.desc())
            .limit(limit)
        )
    )

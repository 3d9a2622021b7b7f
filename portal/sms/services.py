"""The outbox: queue in the caller's transaction, send later (or at once) outside it.

A worker claims a row (queued -> sending) and commits before it speaks to the
provider, so no transaction or row lock is held while Twilio answers; the result
is written in a second, short transaction.
"""

import logging
import random
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import or_, select, update

from portal.beneficiaries.models import Beneficiary
from portal.db_types import utcnow
from portal.events.services import record_event
from portal.extensions import db
from portal.organisations.models import Organisation
from portal.sms.backends import Outgoing, SmsError, make_backend
from portal.sms.models import PRIORITY_NOTICE, SmsKind, SmsMessage, SmsStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# A row left in `sending` this long belongs to a worker that died.
CLAIM_TIMEOUT = timedelta(minutes=5)


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
    **context,
) -> SmsMessage | None:
    """An SMS that tells the person about a change, in their language, from their
    organisation; nothing when they said no to SMS (sign-in codes do not come here)."""
    if person is None or not person.may_receive_sms:
        return None
    with force_locale(person.language):
        body = render_template(
            template,
            sender=organisation.sender_name,
            link=current_app.config["PORTAL_BASE_URL"],
            **context,
        ).strip()
    return queue_sms(
        to=person.phone,
        body=body,
        kind=kind,
        beneficiary=person,
        organisation=organisation,
        language=person.language,
        appointment_id=appointment_id,
    )


def _backend():
    backend = current_app.extensions.get("sms_backend")
    if backend is None:
        backend = current_app.extensions["sms_backend"] = make_backend(current_app)
    return backend


def _claim(message_id: int, now: datetime) -> SmsMessage | None:
    """Moves one due message to `sending` and commits; None if another worker has it."""
    claimed = db.session.execute(
        update(SmsMessage)
        .where(
            SmsMessage.id == message_id,
            or_(
                SmsMessage.status == SmsStatus.QUEUED,
                (SmsMessage.status == SmsStatus.SENDING)
                & (SmsMessage.claimed_at < now - CLAIM_TIMEOUT),
            ),
        )
        .values(status=SmsStatus.SENDING, claimed_at=now, attempts=SmsMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return db.session.get(SmsMessage, message_id, populate_existing=True) if claimed else None


def _retry_delay(attempts: int) -> timedelta:
    base = 30 * 2 ** (attempts - 1)  # 30 s, 1 min, 2 min, 4 min…
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def send_now(message_id: int) -> SmsStatus | None:
    """Sends one message if it is still to be sent; returns its new status."""
    now = utcnow()
    message = _claim(message_id, now)
    if message is None:
        return None
    if message.send_before is not None and now > message.send_before:
        message.status = SmsStatus.DROPPED
        message.last_error = "too late to be useful"
        db.session.commit()
        return message.status
    outgoing = Outgoing(to=message.to, body=message.body, message_id=message.id)
    try:
        accepted = _backend().send(outgoing)
    except SmsError as error:
        message.last_error = str(error)[:1000]
        if error.permanent or message.attempts >= MAX_ATTEMPTS:
            message.status = SmsStatus.FAILED
            record_event(
                "sms.failed",
                message.beneficiary,
                {"sms_id": message.id, "kind": message.kind.value, "attempts": message.attempts},
            )
            logger.warning("SMS %s failed for good: %s", message.id, error)
        else:
            message.status = SmsStatus.QUEUED
            message.next_attempt_at = utcnow() + _retry_delay(message.attempts)
            logger.info("SMS %s will be retried: %s", message.id, error)
    else:
        message.status = SmsStatus.SENT
        message.provider_id = accepted.provider_id
        message.segments = accepted.segments
        message.sent_at = utcnow()
        message.last_error = None
    message.claimed_at = None
    db.session.commit()
    return message.status


def due_message_ids(limit: int = 100) -> list[int]:
    now = utcnow()
    return list(
        db.session.scalars(
            select(SmsMessage.id)
            .where(
                or_(
                    (SmsMessage.status == SmsStatus.QUEUED) & (SmsMessage.next_attempt_at <= now),
                    (SmsMessage.status == SmsStatus.SENDING)
                    & (SmsMessage.claimed_at < now - CLAIM_TIMEOUT),
                )
            )
            .order_by(SmsMessage.priority, SmsMessage.next_attempt_at, SmsMessage.id)
            .limit(limit)
        )
    )


def send_due(limit: int = 100) -> int:
    """One pass of the worker: sends what is due, most urgent first. Returns how many tried."""
    ids = due_message_ids(limit)
    db.session.commit()
    tried = 0
    for message_id in ids:
        if send_now(message_id) is not None:
            tried += 1
    return tried

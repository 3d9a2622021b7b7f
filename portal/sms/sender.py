"""The sender: claims due messages from the outbox, sends them, records the result.

A worker claims a row (queued -> sending) and commits before it speaks to the
provider, so no transaction or row lock is held while Twilio answers; the result
is written in a second, short transaction.
"""

import logging
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, text, update

from portal.core.clock import utcnow
from portal.events.services import record_event
from portal.extensions import db
from portal.organisations.models import Organisation
from portal.sms.backends import Outgoing, SmsError, make_backend
from portal.sms.models import SmsKind, SmsMessage, SmsStatus
from portal.sms.schedule import is_quiet, next_allowed

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6


def _backend():
    backend = current_app.extensions.get("sms_backend")
    if backend is None:
        backend = current_app.extensions["sms_backend"] = make_backend(current_app)
    return backend


@dataclass(frozen=True)
class Claim:
    message_id: int
    reclaimed: bool  # a dead worker had left it in `sending`
    claimed_at: datetime  # also the claim's token: a later claim by another worker changes it


def claim_due(limit: int = 100, only_id: int | None = None) -> list[Claim]:
    """Claims due messages for this worker and commits.

    Candidates are picked in priority order (FOR UPDATE SKIP LOCKED on PostgreSQL, so
    workers do not wait on each other), then one UPDATE … RETURNING claims them.
    `reclaimed` marks rows a dead worker left in `sending`.
    """
    now = utcnow()
    postgres = db.session.get_bind().dialect.name == "postgresql"
    claimed: list[Claim] = []
    for reclaimed, condition in (
        (
            True,
            (SmsMessage.status == SmsStatus.SENDING)
            & (SmsMessage.claimed_at < now - _claim_timeout()),
        ),
        (False, (SmsMessage.status == SmsStatus.QUEUED) & (SmsMessage.next_attempt_at <= now)),
    ):
        candidates = (
            select(SmsMessage.id)
            .where(condition)
            .order_by(SmsMessage.priority, SmsMessage.next_attempt_at, SmsMessage.id)
            .limit(max(0, limit - len(claimed)))
        )
        if only_id is not None:
            candidates = candidates.where(SmsMessage.id == only_id)
        if postgres:
            candidates = candidates.with_for_update(skip_locked=True)
        # Picked first, then updated: inside an UPDATE's IN (…), PostgreSQL may run a
        # LIMIT … SKIP LOCKED subquery more than once and claim more than the limit, out
        # of priority order (seen here: reminders claimed with the sign-in code).
        picked = db.session.scalars(candidates).all()
        if not picked:
            continue
        ids = db.session.scalars(
            update(SmsMessage)
            .where(SmsMessage.id.in_(picked), condition)
            .values(status=SmsStatus.SENDING, claimed_at=now, attempts=SmsMessage.attempts + 1)
            .returning(SmsMessage.id)
            .execution_options(synchronize_session=False)
        ).all()
        claimed += [Claim(message_id, reclaimed, now) for message_id in ids]
    db.session.commit()
    return claimed


def _claim_timeout() -> timedelta:
    """A row left in `sending` this long belongs to a worker that died."""
    return timedelta(seconds=current_app.config["SMS_CLAIM_TIMEOUT_SECONDS"])


def _retry_delay(attempts: int) -> timedelta:
    base = 30 * 2 ** (attempts - 1)  # 30 s, 1 min, 2 min, 4 min…
    # Jitter spreads retries out; nothing is guessed from it.
    return timedelta(seconds=base * random.uniform(0.8, 1.2))  # nosec B311 # jitter, no secret


def _reason_not_to_send(message: SmsMessage, now: datetime) -> str | None:
    if message.send_before is not None and now > message.send_before:
        return "too late to be useful"
    if message.kind is SmsKind.SIGN_IN_CODE:
        return None  # the person is waiting for it: no rule holds it back
    person = message.beneficiary
    if person is not None and not person.may_receive_sms:
        return "the person does not want SMS"
    return None


def _still_mine(claim: Claim, now: datetime) -> bool:
    """Renews the claim just before sending; False if another worker has taken it over
    (this one was too slow and looked dead)."""
    renewed = db.session.execute(
        update(SmsMessage)
        .where(
            SmsMessage.id == claim.message_id,
            SmsMessage.status == SmsStatus.SENDING,
            SmsMessage.claimed_at == claim.claimed_at,
        )
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(renewed)


def send_claimed(claim: Claim) -> SmsStatus | None:
    """Sends one message this worker has claimed; no transaction is open while the
    provider answers. Returns its new status (None: another worker took it over)."""
    message_id, reclaimed = claim.message_id, claim.reclaimed
    now = utcnow()
    message = db.session.get(SmsMessage, message_id, populate_existing=True)
    if message.status is not SmsStatus.SENDING or message.claimed_at != claim.claimed_at:
        return None
    reason = _reason_not_to_send(message, now)
    department = _department(message)
    # Quiet hours follow an organisation's calendar; a message from none (a sign-in code)
    # goes at once.
    quiet = message.organisation_id is not None and is_quiet(now, department)
    if reason is None and message.kind is not SmsKind.SIGN_IN_CODE and quiet:
        later = next_allowed(now, department)
        if message.send_before is not None and later > message.send_before:
            reason = "quiet hours until it is too late"
        else:
            # Quiet hours (after an outage, say): wait for the morning, no attempt spent.
            message.status = SmsStatus.QUEUED
            message.attempts -= 1
            message.next_attempt_at = later
            message.claimed_at = None
            db.session.commit()
            return message.status
    if reason is not None:
        message.status = SmsStatus.DROPPED
        message.forget_secret()
        message.last_error = reason
        message.claimed_at = None
        db.session.commit()
        return message.status
    outgoing = Outgoing(
        to=message.to,
        body=message.body,
        message_id=message.id,
        status_callback=current_app.config["PORTAL_BASE_URL"] + "/sms/twilio/status",
    )
    since = claim.claimed_at - _claim_timeout() * 3 if reclaimed else None
    if now - claim.claimed_at < _claim_timeout() / 4:
        db.session.commit()  # a young claim is still ours; nothing held while Twilio answers
    elif not _still_mine(claim, now):  # renews it, and commits
        return None

    accepted, failure = None, None
    try:
        if reclaimed:
            # A worker died while sending: the provider may have it already. Ask it
            # rather than risk the person getting the same SMS twice.
            accepted = _backend().find_sent(outgoing, since)
        if accepted is None:
            accepted = _backend().send(outgoing)
    except SmsError as error:
        failure = error

    if db.session.get_bind().dialect.name == "postgresql":
        # The result need not wait for the disk: if the database loses it in a crash, the
        # message looks unfinished, and the worker that takes it up asks Twilio first.
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    message = db.session.get(SmsMessage, message_id, populate_existing=True)
    if failure is not None:
        message.last_error = str(failure)[:1000]
        if failure.permanent or message.attempts >= MAX_ATTEMPTS:
            message.status = SmsStatus.FAILED
            message.forget_secret()
            record_event(
                "sms.failed",
                message.beneficiary,
                {"sms_id": message.id, "kind": message.kind.value, "attempts": message.attempts},
            )
            logger.warning("SMS %s failed for good: %s", message.id, failure)
        else:
            message.status = SmsStatus.QUEUED
            message.next_attempt_at = utcnow() + _retry_delay(message.attempts)
            logger.info("SMS %s will be retried: %s", message.id, failure)
    else:
        message.status = SmsStatus.SENT
        message.forget_secret()
        message.provider_id = accepted.provider_id
        message.segments = accepted.segments
        message.sent_at = utcnow()
        message.last_error = None
    message.claimed_at = None
    db.session.commit()
    return message.status


def _department(message: SmsMessage) -> str | None:
    if message.organisation_id is None:
        return None
    organisation = db.session.get(Organisation, message.organisation_id)
    return organisation.department_code if organisation else None


def send_now(message_id: int) -> SmsStatus | None:
    """Sends one message at once if it is still due and no worker has it."""
    claimed = claim_due(limit=1, only_id=message_id)
    if not claimed:
        return None
    return send_claimed(claimed[0])


def send_due(limit: int = 20) -> int:
    """One pass of the worker: claims what is due, most urgent first, and sends it."""
    claimed = claim_due(limit)
    for claim in claimed:
        send_claimed(claim)
    return len(claimed)


# Status only moves forward: a late "sent" callback after "delivered" changes nothing.
_STATUS_RANK = {
    SmsStatus.QUEUED: 0,
    SmsStatus.SENDING: 1,
    SmsStatus.SENT: 2,
    SmsStatus.DELIVERED: 3,
    SmsStatus.UNDELIVERED: 3,
    SmsStatus.FAILED: 3,
    SmsStatus.DROPPED: 3,
}
_PROVIDER_STATUSES = {
    "queued": SmsStatus.SENT,
    "accepted": SmsStatus.SENT,
    "sending": SmsStatus.SENT,
    "sent": SmsStatus.SENT,
    "delivered": SmsStatus.DELIVERED,
    "undelivered": SmsStatus.UNDELIVERED,
    "failed": SmsStatus.UNDELIVERED,
}


def record_provider_status(provider_id: str, provider_status: str, error_code: str | None) -> bool:
    """Applies a delivery report; returns False when it changes nothing."""
    status = _PROVIDER_STATUSES.get(provider_status)
    message = db.session.scalars(
        select(SmsMessage).where(SmsMessage.provider_id == provider_id).with_for_update()
    ).first()
    if status is None or message is None:
        return False
    if _STATUS_RANK[status] <= _STATUS_RANK[message.status]:
        return False
    message.status = status
    if status is SmsStatus.UNDELIVERED:
        message.last_error = f"provider: {provider_status} {error_code or ''}".strip()
        record_event(
            "sms.failed",
            message.beneficiary,
            {"sms_id": message.id, "kind": message.kind.value, "reason": provider_status},
        )
    db.session.flush()
    return True


def send_in_background(message_id: int) -> None:
    """Tries the SMS beside the request, so a known number answers as fast as an unknown one.

    The message is already committed to the outbox: if this try fails or the process
    dies, the worker sends it.
    """
    app = current_app._get_current_object()
    # Kept so that a test (or a graceful shutdown) can wait for them to finish.
    running: set[threading.Thread] = app.extensions.setdefault("background_sms", set())

    def send():
        with app.app_context():
            try:
                send_now(message_id)
            except Exception:
                logger.exception("immediate send of SMS %s failed", message_id)
            finally:
                db.session.remove()
                running.discard(threading.current_thread())

    thread = threading.Thread(target=send, name=f"sms-{message_id}", daemon=True)
    running.add(thread)
    thread.start()

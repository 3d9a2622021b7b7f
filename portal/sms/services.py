"""The outbox: queue in the caller's transaction, send later (or at once) outside it.

A worker claims a row (queued -> sending) and commits before it speaks to the
provider, so no transaction or row lock is held while Twilio answers; the result
is written in a second, short transaction.
"""

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select, text, update

from portal.beneficiaries.models import Beneficiary
from portal.db_types import utcnow
from portal.events.services import record_event
from portal.extensions import db
from portal.organisations.models import Organisation
from portal.sms.backends import Outgoing, SmsError, make_backend
from portal.sms.gsm import to_gsm7
from portal.sms.models import (
    PRIORITY_NOTICE,
    PRIORITY_REMINDER,
    SmsKind,
    SmsMessage,
    SmsStatus,
)
from portal.sms.schedule import is_quiet, next_allowed

REMINDER_KINDS = frozenset({SmsKind.REMINDER_48H, SmsKind.REMINDER_DAY})

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6


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
    with force_locale(person.language):
        body = render_template(
            template,
            sender=organisation.sender_name,
            link=current_app.config["PORTAL_BASE_URL"],
            **context,
        ).strip()
    now = now or utcnow()
    return queue_sms(
        to=person.phone,
        body=to_gsm7(body),
        kind=kind,
        beneficiary=person,
        organisation=organisation,
        language=person.language,
        appointment_id=appointment_id,
        priority=PRIORITY_REMINDER if kind in REMINDER_KINDS else PRIORITY_NOTICE,
        due_at=next_allowed(due_at or now, organisation.department_code),
        send_before=send_before,
    )


def _backend():
    backend = current_app.extensions.get("sms_backend")
    if backend is None:
        backend = current_app.extensions["sms_backend"] = make_backend(current_app)
    return backend


# Kinds that only make sense while the appointment they are about still stands.
_ABOUT_A_LIVE_APPOINTMENT = frozenset(
    {
        SmsKind.APPOINTMENT_REQUESTED,
        SmsKind.APPOINTMENT_CONFIRMED,
        SmsKind.APPOINTMENT_RESCHEDULED,
        SmsKind.REMINDER_48H,
        SmsKind.REMINDER_DAY,
    }
)


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
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def _reason_not_to_send(message: SmsMessage, now: datetime) -> str | None:
    if message.send_before is not None and now > message.send_before:
        return "too late to be useful"
    if message.kind is SmsKind.SIGN_IN_CODE:
        return None  # the person is waiting for it: no rule holds it back
    person = message.beneficiary
    if person is not None and not person.may_receive_sms:
        return "the person does not want SMS"
    if message.kind in _ABOUT_A_LIVE_APPOINTMENT and message.appointment_id is not None:
        from portal.appointments.models import Appointment, AppointmentStatus

        appointment = db.session.get(Appointment, message.appointment_id)
        if appointment is None or appointment.status not in (
            AppointmentStatus.REQUESTED,
            AppointmentStatus.CONFIRMED,
        ):
            return "the appointment was cancelled, moved or answered"
        if appointment.slot.starts_at <= now:
            return "the appointment has started"
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


# -- Opting out and in -------------------------------------------------------------------

STOP_WORDS = frozenset(
    {"STOP", "ARRET", "ARRETER", "STOP SMS", "STOPSMS", "STOPALL", "UNSUBSCRIBE"}
)
START_WORDS = frozenset({"START", "UNSTOP", "DEMARRER", "REPRENDRE"})


def keyword(body: str) -> str:
    """'Arrêt !' -> 'ARRET': accents, case, punctuation and spacing do not count."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", body or "")
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = "".join(c if c.isalnum() else " " for c in letters.upper()).split()
    return " ".join(words)


def set_sms_opt_out(person: Beneficiary, opted_out: bool, by: str) -> bool:
    """Switches SMS off or on for the person, with its event; False when nothing changed."""
    if person.sms_opted_out == opted_out:
        return False
    person.sms_opted_out = opted_out
    record_event(
        "beneficiary.sms_opted_out" if opted_out else "beneficiary.sms_opted_in", person, {"by": by}
    )
    db.session.flush()
    return True


def handle_inbound(from_number: str, body: str) -> str | None:
    """STOP or START from a phone: applies to everyone who uses that number (a couple
    shares one), in every organisation. Returns 'stop', 'start' or None."""
    word = keyword(body)
    if word in STOP_WORDS:
        opted_out = True
    elif word in START_WORDS:
        opted_out = False
    else:
        return None
    people = db.session.scalars(select(Beneficiary).where(Beneficiary.phone == from_number)).all()
    for person in people:
        set_sms_opt_out(person, opted_out, by="sms")
    return "stop" if opted_out else "start"


def messages_of(person: Beneficiary, limit: int = 50) -> list[SmsMessage]:
    return list(
        db.session.scalars(
            select(SmsMessage)
            .where(SmsMessage.beneficiary_id == person.id)
            .order_by(SmsMessage.id.desc())
            .limit(limit)
        )
    )

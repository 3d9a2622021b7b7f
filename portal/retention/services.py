"""The purge (`flask purge`, and once a day in the worker) and the dormant people.

Each step removes or empties only rows past their period that still hold something, so
that a second run finds nothing; on PostgreSQL, two runs at once also wait for each other
(a transaction-scoped advisory lock). Never touched: what the indicators count (the
appointment facts and the SMS day counts, and the SMS columns their triggers read).
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, and_, delete, exists, or_, select, text, update
from sqlalchemy.orm import aliased

from portal.appointments.models import Appointment
from portal.audit.models import AuditEntry
from portal.auth.models import SignInCode
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.core.clock import utcnow
from portal.events.models import DeliveryStatus, Event, WebhookAttempt, WebhookDelivery
from portal.events.services import empty_events
from portal.extensions import db
from portal.organisations.models import Counsellor
from portal.pathway.models import PathwayStep
from portal.sms.models import SmsMessage, SmsStatus

_PURGE_LOCK_KEY = 0x5350_5055  # "SPPU"
# Kinds, in the order the command prints them.
KINDS = (
    "sign_in_codes",
    "sms_bodies",
    "webhook_attempts",
    "webhook_deliveries",
    "events",
    "audit_entries",
)
_UNFINISHED_SMS = (SmsStatus.QUEUED, SmsStatus.SENDING)
_FINISHED_DELIVERIES = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` months earlier (the month's last day when shorter)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    following = datetime(year + month // 12, month % 12 + 1, 1)
    last_day = (following - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def _setting(name: str) -> int:
    return int(current_app.config[name])


def _take_purge_lock() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PURGE_LOCK_KEY})


def purge() -> dict[str, int]:
    """Removes or empties what is past its period; returns how many rows of each kind.

    The caller commits (one transaction: all or nothing)."""
    _take_purge_lock()
    now = utcnow()
    done: dict[str, int] = {}

    codes_before = now - timedelta(hours=_setting("RETENTION_SIGN_IN_CODE_HOURS"))
    done["sign_in_codes"] = db.session.execute(
        delete(SignInCode).where(SignInCode.created_at < codes_before)
    ).rowcount

    # The body only: kind, status, segments and dates stay for the indicators (their
    # PostgreSQL trigger does not even wake for a change of body).
    sms_before = now - timedelta(days=_setting("RETENTION_SMS_BODY_DAYS"))
    done["sms_bodies"] = db.session.execute(
        update(SmsMessage)
        .where(
            SmsMessage.created_at < sms_before,
            SmsMessage.body != "",
            SmsMessage.status.not_in(_UNFINISHED_SMS),
        )
        .values(body="")
        .execution_options(synchronize_session=False)
    ).rowcount

    webhooks_before = now - timedelta(days=_setting("RETENTION_WEBHOOK_ATTEMPT_DAYS"))
    done["webhook_attempts"] = db.session.execute(
        delete(WebhookAttempt).where(WebhookAttempt.attempted_at < webhooks_before)
    ).rowcount
    # A finished delivery with no attempt left in the period; one still due stays, as it
    # keeps the person's later events waiting in order.
    done["webhook_deliveries"] = db.session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.status.in_(_FINISHED_DELIVERIES),
            WebhookDelivery.created_at < webhooks_before,
            ~exists().where(WebhookAttempt.delivery_id == WebhookDelivery.id),
        )
    ).rowcount

    events_before = months_before(now, _setting("RETENTION_EVENT_DATA_MONTHS"))
    done["events"] = empty_events(
        Event.occurred_at < events_before, Event.beneficiary_id.is_not(None)
    )

    audit_before = months_before(now, _setting("RETENTION_AUDIT_MONTHS"))
    done["audit_entries"] = db.session.execute(
        delete(AuditEntry).where(AuditEntry.at < audit_before)
    ).rowcount
    db.session.expire_all()
    return done


# -- Dormant people ------------------------------------------------------------------------


def dormant_since() -> datetime:
    return months_before(utcnow(), _setting("DORMANT_PERSON_MONTHS"))


def _moved_since(since: datetime):
    """Something about the person changed since `since`, whichever organisation made it."""
    person = Beneficiary.id
    any_follow_up = aliased(FollowUp)  # the outer query joins the organisation's own
    return or_(
        Beneficiary.updated_at >= since,
        # Never activated is NULL, which would make the whole condition unknown.
        and_(Beneficiary.activated_at.is_not(None), Beneficiary.activated_at >= since),
        and_(Beneficiary.last_signed_in_at.is_not(None), Beneficiary.last_signed_in_at >= since),
        exists().where(any_follow_up.beneficiary_id == person, any_follow_up.updated_at >= since),
        exists().where(PathwayStep.beneficiary_id == person, PathwayStep.updated_at >= since),
        exists().where(Appointment.beneficiary_id == person, Appointment.updated_at >= since),
    )


def dormant_people(counsellor: Counsellor, mine: bool = False) -> Select:
    """The organisation's people (the counsellor's own when `mine`) that no organisation
    has updated or seen for DORMANT_PERSON_MONTHS, longest untouched first."""
    query = (
        select(Beneficiary)
        .join(FollowUp, FollowUp.beneficiary_id == Beneficiary.id)
        .where(
            FollowUp.organisation_id == counsellor.organisation_id,
            ~_moved_since(dormant_since()),
        )
        .order_by(Beneficiary.updated_at, Beneficiary.id)
    )
    if mine:
        query = query.where(FollowUp.referent_email == counsellor.email)
    return query

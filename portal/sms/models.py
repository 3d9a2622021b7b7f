import enum
import re
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.beneficiaries.models import Beneficiary
from portal.core.clock import utcnow
from portal.core.db_types import UTCDateTime, str_enum
from portal.extensions import db


class SmsKind(enum.Enum):
    SIGN_IN_CODE = "sign_in_code"
    INVITATION = "invitation"
    APPOINTMENT_REQUESTED = "appointment_requested"
    APPOINTMENT_CONFIRMED = "appointment_confirmed"
    APPOINTMENT_DECLINED = "appointment_declined"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    APPOINTMENT_RESCHEDULED = "appointment_rescheduled"
    REMINDER_48H = "reminder_48h"
    REMINDER_DAY = "reminder_day"
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"
    PHONE_CHANGED = "phone_changed"
    LEAD_CHANGED = "lead_changed"  # another organisation now leads the pathway (handover)
    WAITLIST_OFFER = "waitlist_offer"  # an earlier slot freed up for a waitlisted person


class SmsStatus(enum.Enum):
    QUEUED = "queued"  # waiting in the outbox for its next_attempt_at
    SENDING = "sending"  # claimed by a worker; claimed_at tells when
    SENT = "sent"  # accepted by the provider
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"  # no more attempts
    DROPPED = "dropped"  # no longer worth sending (appointment moved, too late…)


# What makes these messages secret: whoever reads them could sign in as the person. The
# outbox keeps them whole only until they are sent (or given up); staff never see them.
_SECRETS = {
    SmsKind.SIGN_IN_CODE: re.compile(r"\b\d{6}\b"),
    SmsKind.INVITATION: re.compile(r"/connexion/lien/\S+"),
}
_HIDDEN = {SmsKind.SIGN_IN_CODE: "••••••", SmsKind.INVITATION: "/connexion/lien/•••"}


def without_secret(kind: SmsKind, body: str) -> str:
    """The message as it may be kept and shown: the code or the link's token hidden."""
    pattern = _SECRETS.get(kind)
    return pattern.sub(_HIDDEN[kind], body) if pattern else body


# Lower goes first: a code the person is waiting for never queues behind reminders.
PRIORITY_SIGN_IN = 0
PRIORITY_NOTICE = 5
PRIORITY_REMINDER = 9


_REMINDER_DELIVERED = "kind IN ('reminder_48h', 'reminder_day') AND status = 'delivered'"


class SmsMessage(db.Model):
    """The outbox: every SMS is a row first, written with the change that causes it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int | None] = mapped_column(
        ForeignKey("beneficiary.id", ondelete="SET NULL"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment.id", ondelete="SET NULL"), index=True
    )
    to: Mapped[str] = mapped_column("to_number", String(16))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[SmsKind] = mapped_column(str_enum(SmsKind, "sms_kind"))
    language: Mapped[str] = mapped_column(String(8), default="fr")
    priority: Mapped[int] = mapped_column(default=PRIORITY_NOTICE)
    status: Mapped[SmsStatus] = mapped_column(
        str_enum(SmsStatus, "sms_status"), default=SmsStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Past this time a queued message is dropped rather than sent late.
    send_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    segments: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    beneficiary: Mapped[Beneficiary | None] = relationship()

    @property
    def shown_body(self) -> str:
        """What staff pages show: never a sign-in code or link, even before it is sent."""
        return without_secret(self.kind, self.body)

    def forget_secret(self) -> None:
        """Once the message has left (or never will), its secret is no longer kept."""
        self.body = without_secret(self.kind, self.body)

    __table_args__ = (
        Index("ix_sms_message_due", "status", "priority", "next_attempt_at"),
        # The indicators count an organisation's messages by the day they were written
        # (on PostgreSQL from the index alone), and look for reminders delivered in time.
        Index(
            "ix_sms_message_organisation_created",
            "organisation_id",
            "created_at",
            postgresql_include=["status", "segments"],
        ),
        Index(
            "ix_sms_message_reminder_delivered",
            "appointment_id",
            "sent_at",
            sqlite_where=db.text(_REMINDER_DELIVERED),
            postgresql_where=db.text(_REMINDER_DELIVERED),
        ),
        CheckConstraint("attempts >= 0", name="attempts_positive"),
        CheckConstraint("to_number LIKE '+%'", name="to_e164"),
    )

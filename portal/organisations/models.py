import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.accounts import SignInAccount
from portal.core.clock import utcnow
from portal.core.db_types import UTCDateTime, str_enum
from portal.extensions import db


class Organisation(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # INSEE department code ("67", "2A", "974"): chooses the public holidays.
    department_code: Mapped[str | None] = mapped_column(String(3))
    # Shown at the start of every SMS ("Dép. Bas-Rhin"); the name when empty.
    sms_sender_name: Mapped[str | None] = mapped_column(String(40))
    cancellation_limit_minutes: Mapped[int] = mapped_column(default=120)
    # How many requested or confirmed appointments to come one person may hold at once.
    max_upcoming_appointments: Mapped[int] = mapped_column(default=3, server_default="3")
    # Reminders: so many hours before (None: none), and on the morning of the day at
    # this hour, Paris time (None: none).
    reminder_hours_before: Mapped[int | None] = mapped_column(default=48)
    morning_reminder_hour: Mapped[int | None] = mapped_column(default=8)
    # Administrators always sign in in two steps; counsellors too when this is set.
    require_totp_for_counsellors: Mapped[bool] = mapped_column(
        default=False, server_default=false()
    )
    # The slot purposes ("orientation", "follow_up", "contract", "other") whose bookings are
    # confirmed at once; the others wait for a counsellor (the default: none at once).
    purposes_confirmed_at_once: Mapped[list[str]] = mapped_column(
        JSON, default=list, server_default="[]"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    counsellors: Mapped[list["Counsellor"]] = relationship(back_populates="organisation")

    __table_args__ = (
        CheckConstraint("slug <> ''", name="slug_not_empty"),
        CheckConstraint("cancellation_limit_minutes >= 0", name="cancellation_limit_positive"),
        CheckConstraint(
            "max_upcoming_appointments BETWEEN 1 AND 10", name="upcoming_appointments_1_to_10"
        ),
        CheckConstraint(
            "reminder_hours_before IS NULL OR reminder_hours_before BETWEEN 1 AND 168",
            name="reminder_within_a_week",
        ),
        CheckConstraint(
            "morning_reminder_hour IS NULL OR morning_reminder_hour BETWEEN 8 AND 19",
            name="morning_reminder_in_allowed_hours",
        ),
    )

    @property
    def sender_name(self) -> str:
        return self.sms_sender_name or self.name

    def confirms_at_once(self, purpose: str) -> bool:
        return purpose in (self.purposes_confirmed_at_once or [])


# Stored as the hash of an account whose person has not chosen a password yet: no Argon2
# hash looks like it, so no password ever matches it.
NO_PASSWORD = "!no-password-yet"  # nosec B105 # a marker, not a password


class CounsellorRole(enum.Enum):
    COUNSELLOR = "counsellor"
    ADMIN = "admin"


class Counsellor(SignInAccount, db.Model):
    ACCOUNT_KIND = "c"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Stored lower-cased: the sign-in form and the API look it up that way.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[CounsellorRole] = mapped_column(
        str_enum(CounsellorRole, "counsellor_role"), default=CounsellorRole.COUNSELLOR
    )
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Two-step sign-in (auth/two_factor.py). The secret is set when enrolment starts and
    # counts only once a first code confirmed it (totp_enabled_at). It is kept in base32:
    # no encryption library is among the dependencies; it is never shown again after
    # enrolment and never logged.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last 30-second step whose code was accepted: a code seen over a shoulder
    # cannot be played again.
    totp_last_step: Mapped[int | None]
    # Wrong codes since the last right password: the fifth ends the half-done sign-in.
    totp_failures: Mapped[int] = mapped_column(default=0, server_default="0")

    organisation: Mapped[Organisation] = relationship(back_populates="counsellors")

    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lower_case"),)

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    @property
    def portal_role(self) -> str:
        return self.role.value

    @property
    def has_password(self) -> bool:
        return self.password_hash != NO_PASSWORD

    @property
    def has_two_step(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def must_use_two_step(self) -> bool:
        """Administrators always; counsellors when their organisation asks for it."""
        return self.role is CounsellorRole.ADMIN or self.organisation.require_totp_for_counsellors


class ApiKey(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # The key's public prefix finds the row; only a SHA-256 of the whole key is kept.
    # Keys carry 256 bits of randomness, so a fast hash is as safe as a slow one here.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.beneficiaries.models import Beneficiary
from portal.core.clock import utcnow
from portal.core.db_types import UTCDateTime
from portal.extensions import db
from portal.organisations.models import Counsellor


class SignInCode(db.Model):
    """A 6-digit code sent by SMS, tied to a number rather than a person: a couple shares one.

    A row is also written for numbers nobody uses, with no SMS, so that a known and an
    unknown number behave alike from the outside.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(16), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InvitationToken(db.Model):
    """A single-use sign-in link; only a SHA-256 of its 256-bit token is kept."""

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(
        ForeignKey("beneficiary.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    beneficiary: Mapped[Beneficiary] = relationship()


class RecoveryCode(db.Model):
    """A one-time code for a counsellor who no longer has their authenticator app.

    Ten are made at enrolment and shown once; only an Argon2 hash of each is kept, and a
    used one is spent (used_at).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    counsellor_id: Mapped[int] = mapped_column(
        ForeignKey("counsellor.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(200))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    counsellor: Mapped[Counsellor] = relationship()

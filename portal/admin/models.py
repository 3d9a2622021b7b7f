from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.clock import utcnow
from portal.core.db_types import UTCDateTime
from portal.extensions import db
from portal.organisations.models import Counsellor


class PasswordLink(db.Model):
    """A one-time link for a counsellor to choose their password (a new account, or a
    password forgotten). Only a SHA-256 of its 256-bit token is kept: the link is shown
    once to the administrator who made it, who hands it over."""

    id: Mapped[int] = mapped_column(primary_key=True)
    counsellor_id: Mapped[int] = mapped_column(
        ForeignKey("counsellor.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    counsellor: Mapped[Counsellor] = relationship()

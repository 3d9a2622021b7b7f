from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.beneficiaries.models import Beneficiary
from portal.core.clock import utcnow
from portal.core.db_types import BigId, UTCDateTime
from portal.extensions import db
from portal.organisations.models import Counsellor, Organisation


class AuditEntry(db.Model):
    """One reading of personal data by a counsellor or an administrator: a file opened, the
    caseload searched, a list exported. Never what was typed: a search keeps the kind of
    its terms only (a phone number typed is not stored)."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    counsellor_id: Mapped[int | None] = mapped_column(
        ForeignKey("counsellor.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(30))
    # The person whose file was opened; emptied when the person is erased.
    beneficiary_id: Mapped[int | None] = mapped_column(
        ForeignKey("beneficiary.id", ondelete="SET NULL")
    )
    # The kind of the search terms ("nom", "telephone", "numero") or the table exported.
    detail: Mapped[str | None] = mapped_column(String(40))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    counsellor: Mapped[Counsellor | None] = relationship()
    organisation: Mapped[Organisation] = relationship()
    beneficiary: Mapped[Beneficiary | None] = relationship()

    __table_args__ = (
        # The administrators' page, newest first, by counsellor or by person.
        Index("ix_audit_entry_organisation_at", "organisation_id", "at"),
        Index("ix_audit_entry_beneficiary", "beneficiary_id", "at"),
        Index("ix_audit_entry_counsellor", "counsellor_id"),
        # The purge.
        Index("ix_audit_entry_at", "at"),
        {"sqlite_autoincrement": True},
    )

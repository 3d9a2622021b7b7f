import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.beneficiaries.models import Beneficiary
from portal.core.clock import utcnow
from portal.core.db_types import UTCDateTime, str_enum
from portal.extensions import db
from portal.organisations.models import Counsellor, Organisation

REASON_MAX = 500


class HandoverStatus(enum.Enum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class Handover(db.Model):
    """A proposal that `to_organisation` leads the person's pathway, and its answer."""

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(
        ForeignKey("beneficiary.id", ondelete="CASCADE"), index=True
    )
    from_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    to_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Counsellors are deactivated, never deleted; SET NULL all the same, should one be.
    proposed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("counsellor.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(String(REASON_MAX))
    status: Mapped[HandoverStatus] = mapped_column(
        str_enum(HandoverStatus, "handover_status"), default=HandoverStatus.PROPOSED
    )
    answered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("counsellor.id", ondelete="SET NULL")
    )
    answer_reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    beneficiary: Mapped[Beneficiary] = relationship()
    from_organisation: Mapped[Organisation] = relationship(foreign_keys=[from_organisation_id])
    to_organisation: Mapped[Organisation] = relationship(foreign_keys=[to_organisation_id])
    proposed_by: Mapped[Counsellor | None] = relationship(foreign_keys=[proposed_by_id])
    answered_by: Mapped[Counsellor | None] = relationship(foreign_keys=[answered_by_id])

    __table_args__ = (
        CheckConstraint("from_organisation_id <> to_organisation_id", name="to_another"),
        # At most one open proposal per person: a second one waits for the first's answer.
        Index(
            "ix_handover_one_open_per_person",
            "beneficiary_id",
            unique=True,
            sqlite_where=text("status = 'proposed'"),
            postgresql_where=text("status = 'proposed'"),
        ),
    )

    @property
    def is_open(self) -> bool:
        return self.status is HandoverStatus.PROPOSED

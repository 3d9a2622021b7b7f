import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.beneficiaries.models import Beneficiary
from portal.core.clock import paris_today, utcnow
from portal.core.db_types import UTCDateTime, str_enum
from portal.extensions import db
from portal.organisations.models import Organisation


class StepKind(enum.Enum):
    ORIENTATION = "orientation"
    DIAGNOSTIC = "diagnostic"
    CONTRACT = "contract"
    APPOINTMENT = "appointment"
    IMMERSION = "immersion"
    TRAINING = "training"
    VOLUNTEERING = "volunteering"
    EMPLOYMENT = "employment"
    SOCIAL_SUPPORT = "social_support"
    OTHER = "other"


# Starting one of these is what the 90-day aim counts.
ACTIVITY_KINDS = frozenset(
    {StepKind.IMMERSION, StepKind.TRAINING, StepKind.VOLUNTEERING, StepKind.EMPLOYMENT}
)


class StepStatus(enum.Enum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class StepSource(enum.Enum):
    BACKOFFICE = "backoffice"
    PORTAL = "portal"


class PathwayStep(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    beneficiary_id: Mapped[int] = mapped_column(
        ForeignKey("beneficiary.id", ondelete="CASCADE"), index=True
    )
    external_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[StepSource] = mapped_column(
        str_enum(StepSource, "step_source"), default=StepSource.BACKOFFICE
    )
    kind: Mapped[StepKind] = mapped_column(str_enum(StepKind, "step_kind"))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[StepStatus] = mapped_column(
        str_enum(StepStatus, "step_status"), default=StepStatus.PLANNED
    )
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    organisation_name: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # Set on the steps the portal makes itself, so they follow what caused them.
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment.id", ondelete="SET NULL")
    )
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id", ondelete="SET NULL"))
    # The day the portal first saw the step started (in_progress, or done at once): an
    # activity without starts_on counts from it in the 90-day indicators. Never moves.
    seen_started_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()
    beneficiary: Mapped[Beneficiary] = relationship()
    appointment: Mapped["Appointment | None"] = relationship()  # noqa: F821

    __table_args__ = (
        UniqueConstraint("organisation_id", "external_id"),
        CheckConstraint("title <> ''", name="title_not_empty"),
        CheckConstraint(
            "ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="dates_in_order"
        ),
    )


@event.listens_for(PathwayStep.status, "set")
def _note_first_start(step: PathwayStep, value: StepStatus, _old, _initiator) -> None:
    # On every path that changes a status (back office, appointments, demo), by construction.
    if value in (StepStatus.IN_PROGRESS, StepStatus.DONE) and step.seen_started_on is None:
        step.seen_started_on = paris_today()

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.auth.models import InvitationToken
from portal.core.db_types import UTCDateTime
from portal.extensions import db
from portal.pathway.models import PathwayStep


class CohortFact(db.Model):
    """What an organisation's indicators keep of a person it no longer follows.

    Written when a follow-up ends (and so before an erasure), it lets the person count
    in the cohort they belonged to without anything that identifies them: no name,
    no date of birth, no exact registration day, no référent — only the month
    of registration and day offsets counted from the registration day.

    While the person is still on the portal (another organisation follows them), the
    fact points at them, so that when this organisation follows them again they count
    once, as the live person, not twice; the link goes with the erasure (SET NULL).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    beneficiary_id: Mapped[int | None] = mapped_column(
        ForeignKey("beneficiary.id", ondelete="SET NULL"), index=True
    )
    # The first day of the RSA registration month.
    registration_month: Mapped[date]
    # Days from registration to the first activity started / first appointment held.
    activity_day: Mapped[int | None]
    appointment_day: Mapped[int | None]
    is_invited: Mapped[bool] = mapped_column(default=False)
    # Days (with a fraction) from the organisation's first invitation to the first sign-in.
    sign_in_after_invitation_days: Mapped[float | None]
    is_activated: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        Index("ix_cohort_fact_organisation_month", "organisation_id", "registration_month"),
    )


# The two summaries below are kept by PostgreSQL triggers (migration 7c1e0b5f2a91) in the
# same transaction as the facts they sum up, whatever writes them (the ORM, a bulk UPDATE,
# a foreign key's SET NULL); `flask indicators rebuild` makes them again from the facts.
# On SQLite (development, tests) the indicators read the facts themselves.


class AppointmentFact(db.Model):
    """One appointment as the indicators see it: its slot's organisation and start, its
    outcome, whether a reminder was delivered before it, its confirmation delay. Reading
    a year of these is one index-only scan instead of two joins and an EXISTS per row."""

    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int]
    beneficiary_id: Mapped[int | None]
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))
    cancelled_by: Mapped[str | None] = mapped_column(String(20))
    moved: Mapped[bool]
    reminded: Mapped[bool]
    # Days (with a fraction) from the request to the confirmation; null if never confirmed.
    confirmation_days: Mapped[float | None]

    __table_args__ = (
        Index(
            "ix_appointment_fact_organisation_starts",
            "organisation_id",
            "starts_at",
            postgresql_include=["status", "cancelled_by", "moved", "reminded", "confirmation_days"],
        ),
        Index(
            "ix_appointment_fact_first_held",
            "beneficiary_id",
            "starts_at",
            postgresql_where=text("status = 'attended'"),
            sqlite_where=text("status = 'attended'"),
        ),
    )


class SmsDayCount(db.Model):
    """An organisation's messages of one Paris day that count (sent, delivered,
    undelivered, failed), per status, with their segments."""

    organisation_id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    messages: Mapped[int] = mapped_column(BigInteger)
    segments: Mapped[int] = mapped_column(BigInteger)


# What the indicators look up once per person of a period (first activity started, first
# invitation): the answer in the index itself, without a visit to the table per person.
ACTIVITY_STARTED = text(
    "kind IN ('immersion', 'training', 'volunteering', 'employment')"
    " AND status IN ('in_progress', 'done')"
)
Index(
    "ix_pathway_step_activity_started",
    PathwayStep.beneficiary_id,
    postgresql_include=["starts_on", "seen_started_on"],
    postgresql_where=ACTIVITY_STARTED,
    sqlite_where=ACTIVITY_STARTED,
)
Index(
    "ix_invitation_token_person_organisation",
    InvitationToken.beneficiary_id,
    InvitationToken.organisation_id,
    postgresql_include=["created_at"],
)

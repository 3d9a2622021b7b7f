from datetime import date

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class CohortFact(db.Model):
    """What an organisation's indicators keep of a person it no longer follows.

    Written when a follow-up ends (and so before an erasure), it lets the person count
    in the cohort they belonged to without anything that identifies them: no name,
    no id, no date of birth, no exact registration day, no référent — only the month
    of registration and day offsets counted from the registration day.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
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

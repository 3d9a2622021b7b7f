import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.beneficiaries.models import Beneficiary
from portal.core.clock import utcnow
from portal.core.db_types import UTCDateTime, str_enum
from portal.extensions import db
from portal.organisations.models import Counsellor, Organisation


class OfferKind(enum.Enum):
    IMMERSION = "immersion"
    TRAINING = "training"
    VOLUNTEERING = "volunteering"
    JOB = "job"


class Offer(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    external_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[OfferKind] = mapped_column(str_enum(OfferKind, "offer_kind"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    provider_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    postal_code: Mapped[str] = mapped_column(String(5))
    city: Mapped[str | None] = mapped_column(String(100))
    # Where the offer is: its own coordinates, or its postal code's place when it came
    # without any (then the API answers null, as it was given).
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    located_by_postal_code: Mapped[bool] = mapped_column(default=False, server_default=false())
    is_remote: Mapped[bool] = mapped_column(default=False)
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    hours_per_week: Mapped[float | None]
    seats: Mapped[int | None]
    rome_code: Mapped[str | None] = mapped_column(String(5))
    url: Mapped[str | None] = mapped_column(String(500))
    expires_on: Mapped[date | None]
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Title, provider, description and town folded (lower case, no accents) for search.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Set when a counsellor entered the offer on the portal rather than the back office.
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("counsellor.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[Counsellor | None] = relationship()

    __table_args__ = (
        UniqueConstraint("organisation_id", "external_id"),
        # The distance search pre-filters on a bounding box over these two columns.
        Index("ix_offer_latitude_longitude", "latitude", "longitude"),
        CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint(
            "longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude_range"
        ),
        CheckConstraint("seats IS NULL OR seats >= 0", name="seats_positive"),
    )


class OfferInterest(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"))
    beneficiary_id: Mapped[int] = mapped_column(
        ForeignKey("beneficiary.id", ondelete="CASCADE"), index=True
    )
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When a counsellor of the person's organisations marked it as taken in hand.
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    offer: Mapped[Offer] = relationship()
    beneficiary: Mapped[Beneficiary] = relationship()

    # Saying "this interests me" twice does nothing more.
    __table_args__ = (UniqueConstraint("offer_id", "beneficiary_id"),)

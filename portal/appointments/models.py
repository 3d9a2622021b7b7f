import enum
from datetime import datetime, timedelta

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from portal.beneficiaries.models import Beneficiary
from portal.core.clock import utcnow
from portal.core.db_types import UTCDateTime, str_enum
from portal.extensions import db
from portal.organisations.models import Counsellor, Organisation


class SlotMode(enum.Enum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"


class SlotPurpose(enum.Enum):
    ORIENTATION = "orientation"
    FOLLOW_UP = "follow_up"
    CONTRACT = "contract"
    OTHER = "other"


# The person sees a video appointment's link from this long before it starts: early enough
# to test sound and camera, late enough that an old link is not confused with a new one.
VIDEO_LINK_SHOWN_BEFORE = timedelta(minutes=30)
# The most seats a collective session may have.
MAX_CAPACITY = 200


class Slot(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    # Slots published on the portal get a portal-made id, so the API can name every slot.
    external_id: Mapped[str] = mapped_column(String(64))
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("counsellor.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    duration_minutes: Mapped[int]
    mode: Mapped[SlotMode] = mapped_column(str_enum(SlotMode, "slot_mode"))
    location: Mapped[str | None] = mapped_column(String(300))
    # Where a video appointment happens (https only); shown to the person from
    # VIDEO_LINK_SHOWN_BEFORE the start, and in the day's reminder.
    video_url: Mapped[str | None] = mapped_column(String(500))
    purpose: Mapped[SlotPurpose] = mapped_column(str_enum(SlotPurpose, "slot_purpose"))
    reserved_for_id: Mapped[int | None] = mapped_column(
        ForeignKey("beneficiary.id", ondelete="SET NULL"), index=True
    )
    # More than one seat makes a collective session (an information meeting, a workshop):
    # each person who books it has an appointment of their own.
    capacity: Mapped[int] = mapped_column(default=1, server_default="1")
    # What a session is called, for the person ("Réunion d'information : …").
    title: Mapped[str | None] = mapped_column(String(120))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()
    # A slot is shown with its counsellor everywhere (booking, agenda, pathway, API).
    counsellor: Mapped[Counsellor] = relationship(lazy="joined", innerjoin=True)
    reserved_for: Mapped[Beneficiary | None] = relationship()

    __table_args__ = (
        UniqueConstraint("organisation_id", "external_id"),
        # The indicators read an organisation's appointments by start time.
        Index(
            "ix_slot_organisation_starts",
            "organisation_id",
            "starts_at",
            postgresql_include=["id"],
        ),
        CheckConstraint("duration_minutes BETWEEN 10 AND 240", name="duration_10_to_240"),
        CheckConstraint("mode <> 'in_person' OR location IS NOT NULL", name="in_person_has_place"),
        CheckConstraint("mode = 'video' OR video_url IS NULL", name="video_url_only_for_video"),
        CheckConstraint(f"capacity BETWEEN 1 AND {MAX_CAPACITY}", name="capacity_1_to_200"),
    )

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    def video_link_open(self, now: datetime) -> bool:
        """Whether the person may see the video link now: from 30 minutes before the start
        until the end."""
        return (
            self.video_url is not None
            and self.starts_at - VIDEO_LINK_SHOWN_BEFORE <= now < self.ends_at
        )

    @property
    def is_session(self) -> bool:
        return self.capacity > 1

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.appointments_count, 0)


class AppointmentStatus(enum.Enum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    EXCUSED = "excused"


# An appointment in one of these holds its slot; declined or cancelled ones free it.
LIVE_STATUSES = ("requested", "confirmed", "attended", "no_show", "excused")
LIVE = tuple(AppointmentStatus(s) for s in LIVE_STATUSES)
_LIVE_SQL = "status IN (" + ", ".join(f"'{s}'" for s in LIVE_STATUSES) + ")"


class Appointment(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id"), index=True)
    beneficiary_id: Mapped[int | None] = mapped_column(
        ForeignKey("beneficiary.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[AppointmentStatus] = mapped_column(
        str_enum(AppointmentStatus, "appointment_status"), default=AppointmentStatus.REQUESTED
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    # When moved, the appointment that replaced this one.
    rescheduled_to_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    # Which of the slot's seats a live appointment holds (1 for a one-person slot): no two
    # live appointments share one, and the booking takes the lowest free one up to the
    # capacity, the slot's row locked.
    seat: Mapped[int] = mapped_column(default=1, server_default="1")
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Kept on the appointment, not only in events (which erasure empties): the delays and
    # the cancellations the indicators count survive the person's erasure.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "beneficiary", "counsellor" or "backoffice", for a cancelled appointment.
    cancelled_by: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # An appointment is never shown without its slot: loaded with it, in the same query.
    slot: Mapped[Slot] = relationship(lazy="joined", innerjoin=True)
    beneficiary: Mapped[Beneficiary | None] = relationship()

    __table_args__ = (
        Index(
            "ix_appointment_beneficiary_status",
            "beneficiary_id",
            "status",
            postgresql_include=["slot_id"],
        ),
        # The rule that makes overbooking impossible, whatever the code above it does.
        Index(
            "uq_appointment_live_seat",
            "slot_id",
            "seat",
            unique=True,
            sqlite_where=db.text(_LIVE_SQL),
            postgresql_where=db.text(_LIVE_SQL),
        ),
        # One person books a session once.
        Index(
            "uq_appointment_live_person",
            "slot_id",
            "beneficiary_id",
            unique=True,
            sqlite_where=db.text(_LIVE_SQL),
            postgresql_where=db.text(_LIVE_SQL),
        ),
        CheckConstraint(f"seat BETWEEN 1 AND {MAX_CAPACITY}", name="seat_1_to_200"),
    )


# How many live appointments hold the slot's seats; loaded only where asked (undefer).
Slot.appointments_count = column_property(
    select(func.count(Appointment.id))
    .where(
        Appointment.slot_id == Slot.id,
        Appointment.status.in_(LIVE),
    )
    .correlate_except(Appointment)
    .scalar_subquery(),
    deferred=True,
)


@event.listens_for(Appointment.status, "set")
def _note_confirmation(
    appointment: Appointment, value: AppointmentStatus, _old, _initiator
) -> None:
    # The first confirmation, whoever made it: the requested -> confirmed delay.
    if value is AppointmentStatus.CONFIRMED and appointment.confirmed_at is None:
        appointment.confirmed_at = utcnow()


class WaitlistEntry(db.Model):
    """A person asked to be told when a slot earlier than this appointment frees up.

    One row per appointment: leaving and joining again reopens it, so the offers already
    made keep counting against the appointment's cap.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), unique=True
    )
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the person leaves, or when the appointment is cancelled, moved or declined.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    appointment: Mapped[Appointment] = relationship()


class WaitlistOffer(db.Model):
    """An earlier slot offered by SMS to a waitlisted person; the link in the SMS names it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("waitlist_entry.id", ondelete="CASCADE"), index=True
    )
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id", ondelete="CASCADE"), index=True)
    sms_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("sms_message.id", ondelete="SET NULL")
    )
    # When the SMS is due (the caps count SMS by the Paris day they go out on).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry: Mapped[WaitlistEntry] = relationship()
    slot: Mapped[Slot] = relationship()

    __table_args__ = (UniqueConstraint("entry_id", "slot_id"),)

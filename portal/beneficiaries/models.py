import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.accounts import SignInAccount
from portal.core.clock import utcnow
from portal.core.db_types import UTCDateTime, str_enum
from portal.core.text import fold
from portal.extensions import db
from portal.organisations.models import Organisation

EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"


def search_name_of(last_name: str | None, first_name: str | None) -> str:
    """What the caseload's name search reads: 'Müller', 'Élodie' → 'muller elodie'."""
    return fold(f"{last_name or ''} {first_name or ''}")


def _search_name_default(context) -> str:
    # Also for the back office's bulk INSERT of new people, which bypasses the ORM events.
    parameters = context.get_current_parameters()
    return search_name_of(parameters.get("last_name"), parameters.get("first_name"))


class HouseholdRole(enum.Enum):
    DEMANDEUR = "demandeur"
    CONJOINT = "conjoint"


class Beneficiary(SignInAccount, db.Model):
    """One person, whatever the number of organisations that follow them.

    The personal fields are those of the latest back-office PUT, from any organisation.
    """

    ACCOUNT_KIND = "b"
    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    # "last first", lower case without accents, kept in step with the names (events below):
    # searched by substring, with a trigram index on PostgreSQL.
    search_name: Mapped[str] = mapped_column(String(202), default=_search_name_default)
    birth_date: Mapped[date]
    # E.164; a couple may share one number, so it is indexed, not unique.
    phone: Mapped[str] = mapped_column(String(16), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8), default="fr")
    # Who set `language`: "default" (nobody: French), "backoffice" (sent explicitly) or
    # "person" (chosen on the portal, or signed in with). The person's choice wins over the
    # back office's; the back office's over a browser's.
    language_source: Mapped[str] = mapped_column(
        String(10), default="default", server_default="default"
    )
    caf_number: Mapped[str | None] = mapped_column(String(20), index=True)
    france_travail_id: Mapped[str | None] = mapped_column(String(32), index=True)
    role: Mapped[HouseholdRole] = mapped_column(
        str_enum(HouseholdRole, "household_role"), default=HouseholdRole.DEMANDEUR
    )
    postal_code: Mapped[str] = mapped_column(String(5))
    rsa_registration_date: Mapped[date]
    sms_consent: Mapped[bool] = mapped_column(default=True)
    sms_opted_out: Mapped[bool] = mapped_column(default=False)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Shown to the person on "Mes données"; no history of sign-ins is kept.
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The organisation that leads the pathway, once one accepted a hand-over (portal/handover);
    # None while none has been agreed, and again when the lead stops following the person.
    lead_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL")
    )

    follow_ups: Mapped[list["FollowUp"]] = relationship(
        back_populates="beneficiary", cascade="all, delete-orphan"
    )
    lead_organisation: Mapped[Organisation | None] = relationship()

    __table_args__ = (
        CheckConstraint("phone LIKE '+%'", name="phone_e164"),
        CheckConstraint("length(postal_code) = 5", name="postal_code_5_digits"),
        CheckConstraint("first_name <> '' AND last_name <> ''", name="names_not_empty"),
        CheckConstraint(
            "language_source IN ('default', 'backoffice', 'person')", name="language_source_known"
        ),
        Index(
            "ix_beneficiary_search_name",
            "search_name",
            postgresql_using="gin",
            postgresql_ops={"search_name": "gin_trgm_ops"},
        ),
    )

    @property
    def portal_role(self) -> str:
        return "beneficiary"

    @property
    def may_receive_sms(self) -> bool:
        """Reminders and notices; sign-in codes the person asks for ignore this."""
        return self.sms_consent and not self.sms_opted_out


@event.listens_for(Beneficiary.first_name, "set")
def _first_name_set(person: Beneficiary, value: str, _old, _initiator) -> None:
    person.search_name = search_name_of(person.last_name, value)


@event.listens_for(Beneficiary.last_name, "set")
def _last_name_set(person: Beneficiary, value: str, _old, _initiator) -> None:
    person.search_name = search_name_of(value, person.first_name)


class FollowUp(db.Model):
    """An organisation following a person, under its own id and with its own référent."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    beneficiary_id: Mapped[int] = mapped_column(
        ForeignKey("beneficiary.id", ondelete="CASCADE"), index=True
    )
    external_id: Mapped[str] = mapped_column(String(64))
    referent_name: Mapped[str | None] = mapped_column(String(200))
    referent_email: Mapped[str | None] = mapped_column(String(254))
    referent_phone: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()
    beneficiary: Mapped[Beneficiary] = relationship(back_populates="follow_ups")

    __table_args__ = (
        UniqueConstraint("organisation_id", "external_id"),
        UniqueConstraint("organisation_id", "beneficiary_id"),
        # The caseload's "my people" and référent filters.
        Index("ix_follow_up_organisation_referent", "organisation_id", "referent_email"),
    )

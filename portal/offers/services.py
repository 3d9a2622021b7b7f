"""Offers pushed by the back office (and, later, entered by counsellors)."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from portal.db_types import utcnow
from portal.extensions import db
from portal.offers.models import Offer, OfferKind
from portal.organisations.models import Organisation

FIELDS = (
    "title",
    "description",
    "provider_name",
    "address",
    "postal_code",
    "city",
    "latitude",
    "longitude",
    "starts_on",
    "ends_on",
    "hours_per_week",
    "seats",
    "rome_code",
    "url",
    "expires_on",
)


@dataclass(frozen=True)
class OfferUpsert:
    offer: Offer
    created: bool
    changed: bool


def offer_by_external_id(organisation: Organisation, external_id: str) -> Offer | None:
    return db.session.scalars(
        select(Offer).where(
            Offer.organisation_id == organisation.id, Offer.external_id == external_id
        )
    ).first()


def upsert_offer(
    organisation: Organisation, external_id: str, fields: dict[str, Any]
) -> OfferUpsert:
    values = {name: fields.get(name) for name in FIELDS}
    values["kind"] = OfferKind(fields["kind"])
    values["is_remote"] = bool(fields.get("remote", False))
    values["withdrawn_at"] = None
    offer = offer_by_external_id(organisation, external_id)
    if offer is None:
        offer = Offer(organisation_id=organisation.id, external_id=external_id, **values)
        db.session.add(offer)
        db.session.flush()
        return OfferUpsert(offer, True, True)
    created = offer.withdrawn_at is not None
    changed = created
    for name, value in values.items():
        if getattr(offer, name) != value:
            setattr(offer, name, value)
            changed = True
    db.session.flush()
    return OfferUpsert(offer, created, changed)


def withdraw_offer(offer: Offer) -> None:
    """The offer disappears from the portal at once; interests already said are kept."""
    offer.withdrawn_at = utcnow()
    db.session.flush()


def offer_payload(offer: Offer) -> dict[str, Any]:
    payload = {name: getattr(offer, name) for name in FIELDS}
    payload.update(
        {
            "external_id": offer.external_id,
            "id": offer.id,
            "kind": offer.kind.value,
            "remote": offer.is_remote,
            "created_at": offer.created_at,
            "updated_at": offer.updated_at,
        }
    )
    return payload

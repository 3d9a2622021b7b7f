"""Offers from the back office or entered by counsellors; the search near a person; interests."""

import math
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.core.clock import paris_today, utcnow
from portal.core.text import fold
from portal.events.services import record_event
from portal.extensions import db
from portal.offers.models import Offer, OfferInterest, OfferKind
from portal.offers.places import (
    Place,
    bounding_box,
    distance_km,
    haversine_of_km,
    haversine_sql,
    km_of_haversine,
    place_of_postal_code,
)
from portal.organisations.models import Counsellor, Organisation
from portal.pathway.models import PathwayStep, StepKind, StepSource, StepStatus

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
DISTANCES_KM = (5, 10, 20, 50)
PAGE_SIZE = 20
# More words than this in one search only slow it down.
MAX_WORDS = 8
STEP_KIND = {
    OfferKind.IMMERSION: StepKind.IMMERSION,
    OfferKind.TRAINING: StepKind.TRAINING,
    OfferKind.VOLUNTEERING: StepKind.VOLUNTEERING,
    OfferKind.JOB: StepKind.EMPLOYMENT,
}


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


def given_coordinates(offer: Offer) -> tuple[float | None, float | None]:
    if offer.located_by_postal_code:
        return None, None
    return offer.latitude, offer.longitude


def _locate(offer: Offer, latitude: float | None, longitude: float | None) -> None:
    """An offer with coordinates uses its own; otherwise its postal code's place."""
    if latitude is not None and longitude is not None:
        offer.latitude, offer.longitude, offer.located_by_postal_code = latitude, longitude, False
        return
    place = place_of_postal_code(offer.postal_code)
    offer.latitude = place.latitude if place else None
    offer.longitude = place.longitude if place else None
    offer.located_by_postal_code = True


def _search_text(offer: Offer) -> str:
    parts = (offer.title, offer.provider_name, offer.city or "", offer.description)
    return fold(" ".join(parts))


def upsert_offer(
    organisation: Organisation,
    external_id: str,
    fields: dict[str, Any],
    created_by: Counsellor | None = None,
) -> OfferUpsert:
    values = {name: fields.get(name) for name in FIELDS if name not in ("latitude", "longitude")}
    values["kind"] = OfferKind(fields["kind"])
    values["is_remote"] = bool(fields.get("remote", False))
    values["withdrawn_at"] = None
    coordinates = (fields.get("latitude"), fields.get("longitude"))
    offer = offer_by_external_id(organisation, external_id)
    if offer is None:
        offer = Offer(
            organisation_id=organisation.id, external_id=external_id, created_by=created_by
        )
        created = changed = True
    else:
        created = changed = offer.withdrawn_at is not None
    for name, value in values.items():
        if getattr(offer, name) != value:
            setattr(offer, name, value)
            changed = True
    if changed or given_coordinates(offer) != coordinates:
        _locate(offer, *coordinates)
        offer.search_text = _search_text(offer)
        changed = True
    if created:
        db.session.add(offer)
    db.session.flush()
    return OfferUpsert(offer, created, changed)


def withdraw_offer(offer: Offer) -> None:
    """The offer disappears from the portal at once; interests already said are kept."""
    offer.withdrawn_at = utcnow()
    db.session.flush()


# --- Search -------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferSearch:
    kinds: frozenset[OfferKind] = frozenset()
    words: str = ""
    place: Place | None = None
    # km; None for any distance. Ignored when remote is set or no place is known.
    within_km: int | None = 20
    remote: bool = False
    starting_from: date | None = None
    page: int = 1


@dataclass(frozen=True)
class OfferHit:
    offer: Offer
    distance_km: float | None


@dataclass(frozen=True)
class OfferResults:
    hits: list[OfferHit]
    total: int
    page: int
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pages", max(1, math.ceil(self.total / PAGE_SIZE)))


def visible(today: date | None = None):
    """Expired, finished or withdrawn offers disappear at once."""
    today = today or paris_today()
    return and_(
        Offer.withdrawn_at.is_(None),
        or_(Offer.expires_on.is_(None), Offer.expires_on >= today),
        or_(Offer.ends_on.is_(None), Offer.ends_on >= today),
    )


def _conditions(search: OfferSearch, today: date | None) -> list:
    conditions = [visible(today)]
    if search.kinds:
        conditions.append(Offer.kind.in_(sorted(search.kinds, key=lambda kind: kind.value)))
    for word in fold(search.words).split()[:MAX_WORDS]:
        conditions.append(Offer.search_text.contains(word, autoescape=True))
    if search.starting_from:
        # An offer without a start date can start whenever the person can.
        conditions.append(or_(Offer.starts_on.is_(None), Offer.starts_on >= search.starting_from))
    if search.remote:
        conditions.append(Offer.is_remote.is_(True))
    return conditions


def search_offers(search: OfferSearch, today: date | None = None) -> OfferResults:
    """Two queries whatever the number of offers: a page's ids with the count, then its offers.

    Near a place: a bounding box on the indexed coordinates keeps the candidates few;
    the exact great-circle distance, computed by the database, filters and sorts them.
    Otherwise: soonest start first.
    """
    conditions = _conditions(search, today)
    page = max(1, search.page)
    order = [Offer.starts_on.is_(None), Offer.starts_on, Offer.id]
    haversine = None
    if search.place is not None and not search.remote:
        place = search.place
        haversine = haversine_sql(place)
        order = [Offer.latitude.is_(None), haversine, *order]
        if search.within_km is not None:
            south, north, west, east = bounding_box(
                place.latitude, place.longitude, search.within_km
            )
            conditions += [
                Offer.latitude.between(south, north),
                Offer.longitude.between(west, east),
                haversine <= haversine_of_km(search.within_km),
            ]
    # The page's ids and the count in one narrow query (a window over the same scan), then
    # the page's 20 offers: sorting whole rows, descriptions and all, cost more than both.
    distance_column = haversine if haversine is not None else literal(None)
    rows = db.session.execute(
        select(Offer.id, func.count().over().label("total"), distance_column)
        .where(*conditions)
        .order_by(*order)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    if rows:
        total = rows[0].total
    else:  # past the last page, or nothing at all
        total = db.session.scalar(select(func.count(Offer.id)).where(*conditions)) or 0
    offers = (
        {
            offer.id: offer
            for offer in db.session.scalars(
                select(Offer).where(Offer.id.in_([row[0] for row in rows]))
            )
        }
        if rows
        else {}
    )
    hits = [OfferHit(offers[row[0]], km_of_haversine(row[2])) for row in rows]
    return OfferResults(hits, total, page)


def visible_offer(offer_id: int) -> Offer | None:
    return db.session.scalars(
        select(Offer).options(joinedload(Offer.organisation)).where(Offer.id == offer_id, visible())
    ).first()


def distance_from(place: Place | None, offer: Offer) -> float | None:
    if place is None or offer.latitude is None or offer.longitude is None:
        return None
    return distance_km(place.latitude, place.longitude, offer.latitude, offer.longitude)


# --- Interest -----------------------------------------------------------------------


@dataclass(frozen=True)
class Interest:
    interest: OfferInterest
    created: bool


def interest_of(person: Beneficiary, offer: Offer) -> OfferInterest | None:
    return db.session.scalars(
        select(OfferInterest).where(
            OfferInterest.offer_id == offer.id, OfferInterest.beneficiary_id == person.id
        )
    ).first()


def _step_organisation_id(person: Beneficiary, offer: Offer) -> int:
    """The step goes to the publisher when it follows the person, else to who follows them."""
    followers = list(
        db.session.scalars(
            select(FollowUp.organisation_id)
            .where(FollowUp.beneficiary_id == person.id)
            .order_by(FollowUp.created_at.desc(), FollowUp.id.desc())
        )
    )
    if offer.organisation_id in followers or not followers:
        return offer.organisation_id
    return followers[0]


def express_interest(person: Beneficiary, offer: Offer, message: str | None) -> Interest:
    """Records the interest, its planned pathway step and its event; a second time, nothing."""
    existing = interest_of(person, offer)
    if existing is not None:
        return Interest(existing, False)
    message = (message or "").strip() or None
    try:
        with db.session.begin_nested():
            interest = OfferInterest(offer_id=offer.id, beneficiary_id=person.id, message=message)
            db.session.add(interest)
            db.session.flush()
    except IntegrityError:
        # The same person, in another tab, a moment earlier.
        return Interest(interest_of(person, offer), False)
    step = PathwayStep(
        organisation_id=_step_organisation_id(person, offer),
        beneficiary_id=person.id,
        external_id=_step_external_id(interest),
        source=StepSource.PORTAL,
        kind=STEP_KIND[offer.kind],
        title=offer.title,
        status=StepStatus.PLANNED,
        starts_on=offer.starts_on,
        ends_on=offer.ends_on if offer.starts_on else None,
        organisation_name=offer.provider_name,
        offer_id=offer.id,
    )
    db.session.add(step)
    db.session.flush()
    record_event("offer.interest", person, _interest_data(offer, message, step.external_id))
    return Interest(interest, True)


def _step_external_id(interest: OfferInterest) -> str:
    """The id of the planned step an interest adds to the pathway, in the portal's namespace."""
    return f"portal:interest:{interest.id}"


def _interest_data(offer: Offer, message: str | None, step_external_id: str) -> dict:
    return {
        "offer": {
            "id": offer.id,
            "external_id": offer.external_id,
            "organisation": offer.organisation.slug,
            "kind": offer.kind.value,
            "title": offer.title,
        },
        "message": message,
        "step_external_id": step_external_id,
    }


def _interest_step(interest: OfferInterest) -> PathwayStep | None:
    return db.session.scalars(
        select(PathwayStep).where(
            PathwayStep.beneficiary_id == interest.beneficiary_id,
            PathwayStep.external_id == _step_external_id(interest),
        )
    ).first()


def may_withdraw_interest(interest: OfferInterest) -> bool:
    """While its step is only planned: once the activity started, it is a pathway fact."""
    step = _interest_step(interest)
    return step is None or step.status is StepStatus.PLANNED


def withdraw_interest(person: Beneficiary, offer: Offer) -> bool:
    """Takes back the person's interest: the interest and its planned step go, the back
    office hears `offer.interest_withdrawn` (same data as `offer.interest`), the
    counsellors' to-do no longer shows it. False when there was nothing to take back."""
    interest = db.session.scalars(
        select(OfferInterest)
        .where(OfferInterest.offer_id == offer.id, OfferInterest.beneficiary_id == person.id)
        .with_for_update()
    ).first()
    if interest is None or not may_withdraw_interest(interest):
        return False
    step_external_id = _step_external_id(interest)
    step = _interest_step(interest)
    if step is not None:
        db.session.delete(step)
    db.session.delete(interest)
    db.session.flush()
    record_event(
        "offer.interest_withdrawn",
        person,
        _interest_data(offer, interest.message, step_external_id),
    )
    return True


def organisation_interest(counsellor: Counsellor, interest_id: int) -> OfferInterest | None:
    return db.session.scalars(
        select(OfferInterest)
        .join(FollowUp, FollowUp.beneficiary_id == OfferInterest.beneficiary_id)
        .where(
            OfferInterest.id == interest_id,
            FollowUp.organisation_id == counsellor.organisation_id,
        )
    ).first()


def acknowledge(interest: OfferInterest) -> None:
    interest.acknowledged_at = interest.acknowledged_at or utcnow()
    db.session.flush()


def interests_of(person: Beneficiary) -> list[OfferInterest]:
    return list(
        db.session.scalars(
            select(OfferInterest)
            .options(joinedload(OfferInterest.offer))
            .where(OfferInterest.beneficiary_id == person.id)
            .order_by(OfferInterest.created_at.desc())
        )
    )


# --- Offers entered by counsellors --------------------------------------------------


def organisation_offers(counsellor: Counsellor) -> list[Offer]:
    return list(
        db.session.scalars(
            select(Offer)
            .where(Offer.organisation_id == counsellor.organisation_id, visible())
            .order_by(Offer.created_at.desc(), Offer.id.desc())
            .limit(200)
        )
    )


def organisation_offer(counsellor: Counsellor, offer_id: int) -> Offer | None:
    """An offer entered on the portal: those of the back office change only there."""
    return db.session.scalars(
        select(Offer).where(
            Offer.id == offer_id,
            Offer.organisation_id == counsellor.organisation_id,
            Offer.created_by_id.is_not(None),
            Offer.withdrawn_at.is_(None),
        )
    ).first()


def enter_offer(
    counsellor: Counsellor, fields: dict[str, Any], offer: Offer | None = None
) -> Offer:
    external_id = offer.external_id if offer else f"portal:{secrets.token_hex(6)}"
    return upsert_offer(counsellor.organisation, external_id, fields, created_by=counsellor).offer

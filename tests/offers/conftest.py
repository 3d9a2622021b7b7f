"""Offers built through the service the API uses, placed at known distances, and the
helpers the offer tests share (an API key, counting SQL statements, reading a page)."""

import html
import itertools
import math
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from portal.core.clock import paris_today
from portal.extensions import db
from portal.offers import services
from portal.offers.models import Offer
from portal.offers.places import EARTH_RADIUS_KM, place_of_postal_code
from portal.organisations.models import Organisation
from portal.organisations.services import create_api_key
from tests.api.conftest import Api
from tests.factories import make_organisation

_numbers = itertools.count(1)
STRASBOURG = place_of_postal_code("67000")


def point_at(km: float, bearing: float = 0.0, latitude=None, longitude=None):
    """(latitude, longitude) `km` from a point (Strasbourg's by default) along `bearing`."""
    latitude = STRASBOURG.latitude if latitude is None else latitude
    longitude = STRASBOURG.longitude if longitude is None else longitude
    phi1, lambda1 = math.radians(latitude), math.radians(longitude)
    theta, delta = math.radians(bearing), km / EARTH_RADIUS_KM
    phi2 = math.asin(
        math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    )
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * math.sin(phi2),
    )
    return math.degrees(phi2), math.degrees(lambda2)


def offer_fields(**overrides) -> dict[str, Any]:
    """A valid offer in Strasbourg, as the back office sends it (its own coordinates)."""
    fields = {
        "kind": "immersion",
        "title": "Immersion en boulangerie",
        "description": "Deux semaines pour découvrir le métier.",
        "provider_name": "Boulangerie Kieffer",
        "address": "3 rue des Orfèvres",
        "postal_code": "67000",
        "city": "Strasbourg",
        "latitude": STRASBOURG.latitude,
        "longitude": STRASBOURG.longitude,
        "remote": False,
        "starts_on": paris_today() + timedelta(days=30),
        "ends_on": paris_today() + timedelta(days=44),
        "hours_per_week": 35,
        "seats": 2,
        "rome_code": "D1102",
        "url": None,
        "expires_on": None,
    }
    fields.update(overrides)
    return fields


def make_offer(
    organisation: Organisation | None = None,
    external_id: str | None = None,
    km: float | None = None,
    bearing: float = 0.0,
    commit: bool = True,
    **overrides,
) -> Offer:
    """An offer put as the API puts it; `km` places it that far from Strasbourg."""
    organisation = organisation or make_organisation()
    if km is not None:
        overrides["latitude"], overrides["longitude"] = point_at(km, bearing)
    offer = services.upsert_offer(
        organisation, external_id or f"OFFER-{next(_numbers)}", offer_fields(**overrides)
    ).offer
    if commit:
        db.session.commit()
    return offer


def api_of(client, organisation: Organisation) -> Api:
    """The back office of `organisation`, speaking to /api/v1 with its own key."""
    _row, key = create_api_key(organisation, "back office")
    db.session.commit()
    return Api(client, key)


def count_statements(action) -> int:
    """How many SQL statements `action` sends, whichever thread sends them."""
    counter = {"n": 0}

    def count(*_args):
        counter["n"] += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return counter["n"]


def text_of(response) -> str:
    """The page as a person reads it: entities decoded (&#39; is an apostrophe)."""
    return html.unescape(response.get_data(as_text=True))


def titles_in(response) -> list[str]:
    """The offer titles listed in a results page or fragment, in order."""
    return [
        html.unescape(title)
        for title in re.findall(
            r'<h3 class="offer-title"><a href="[^"]*">([^<]*)</a></h3>',
            response.get_data(as_text=True),
        )
    ]


def input_value(response, name: str) -> str | None:
    """The value an <input name=…> shows, decoded; None when it has none."""
    page = response.get_data(as_text=True)
    tag = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', page)
    assert tag, f"no input named {name}"
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else None

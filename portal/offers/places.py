"""Where a postal code or a town is, and how far apart two places are.

The table is built by scripts/build_places.py from registry packages; it is read once,
on first use, and kept in memory (35 000 communes, 6 300 postal codes: a few MB).
"""

import gzip
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import func

from portal.core.text import fold
from portal.offers.models import Offer

TABLE = Path(__file__).parent / "data" / "places.tsv.gz"
EARTH_RADIUS_KM = 6371.0088
POSTAL_CODE = re.compile(r"\b(\d{5})\b")
DEPARTMENT = re.compile(r"\b(\d{2,3}|2a|2b)\b")


@dataclass(frozen=True)
class Place:
    name: str
    postal_code: str
    latitude: float
    longitude: float
    # "commune" when the town itself is placed; otherwise what it fell back to.
    precision: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.postal_code})" if self.name else self.postal_code


@dataclass(frozen=True)
class _Table:
    postal_codes: dict[str, Place]
    # Folded town name → its communes, most populous first.
    towns: dict[str, list[Place]]
    # Department code → its most populous commune.
    largest_towns: dict[str, Place]


@cache
def _table() -> _Table:
    postal_codes: dict[str, Place] = {}
    towns: dict[str, list[tuple[int, Place]]] = {}
    largest: dict[str, tuple[int, Place]] = {}
    with gzip.open(TABLE, "rt", encoding="utf-8") as lines:
        next(lines)
        for line in lines:
            kind, code, name, lat, lon, precision, population = line.rstrip("\n").split("\t")
            place = Place(name, code, float(lat), float(lon), precision)
            if kind == "P":
                postal_codes[code] = place
            else:
                towns.setdefault(fold(name), []).append((int(population), place))
                department = _department(code)
                if int(population) > largest.get(department, (-1, None))[0]:
                    largest[department] = (int(population), place)
    return _Table(
        postal_codes,
        {
            name: [place for _, place in sorted(found, key=lambda item: -item[0])]
            for name, found in towns.items()
        },
        {department: place for department, (_, place) in largest.items()},
    )


def place_of_postal_code(postal_code: str) -> Place | None:
    """The place of a postal code; for one the table lacks (a CEDEX code: "67091", "13331"),
    the department's largest town, where nearly all CEDEX codes are."""
    table = _table()
    if postal_code in table.postal_codes:
        return table.postal_codes[postal_code]
    if not (len(postal_code) == 5 and postal_code.isdigit()):
        return None
    return table.largest_towns.get(_department(postal_code))


def find_place(text: str) -> Place | None:
    """What a person typed: "67000", "Colmar", "saint denis 93", "Quimper 29000"…"""
    text = fold(text or "")
    postal_code = POSTAL_CODE.search(text)
    name = POSTAL_CODE.sub(" ", text).strip()
    if postal_code and not name:
        return place_of_postal_code(postal_code[1])
    department = None
    if not postal_code:
        department_found = DEPARTMENT.search(name)
        if department_found:
            department = department_found[1].upper()
            name = DEPARTMENT.sub(" ", name).strip()
    candidates = _table().towns.get(" ".join(name.split()), [])
    if postal_code:
        candidates = [p for p in candidates if p.postal_code == postal_code[1]] or candidates
    elif department:
        candidates = [
            p for p in candidates if _department(p.postal_code) == department
        ] or candidates
    if candidates:
        return candidates[0]
    return place_of_postal_code(postal_code[1]) if postal_code else None


def _department(postal_code: str) -> str:
    return postal_code[:3] if postal_code[:2] in ("97", "98") else postal_code[:2]


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), good to a few metres at these scales."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    h = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def haversine_sql(place: Place):
    """The haversine of the angle between `place` and each offer, as a SQL expression.

    It grows with the distance, so the database filters and sorts on it directly, with
    only sin and cos (PostgreSQL has them; so does SQLite, see extensions.py).
    """
    half_dphi = (Offer.latitude - place.latitude) * (math.pi / 360)
    half_dlambda = (Offer.longitude - place.longitude) * (math.pi / 360)
    sin_phi = func.sin(half_dphi)
    sin_lambda = func.sin(half_dlambda)
    return (
        sin_phi * sin_phi
        + math.cos(math.radians(place.latitude))
        * func.cos(Offer.latitude * (math.pi / 180))
        * sin_lambda
        * sin_lambda
    )


def haversine_of_km(km: float) -> float:
    return math.sin(km / (2 * EARTH_RADIUS_KM)) ** 2


def km_of_haversine(h: float | None) -> float | None:
    if h is None:  # an offer that could not be placed
        return None
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(max(0.0, h))))


def bounding_box(latitude: float, longitude: float, km: float) -> tuple[float, float, float, float]:
    """Latitudes and longitudes that hold every point within km: a cheap, indexed pre-filter."""
    dlat = math.degrees(km / EARTH_RADIUS_KM)
    # Longitude degrees shrink with the cosine of the latitude; take the edge nearer a pole.
    edge = abs(latitude) + dlat
    if edge >= 90.0:
        dlon = 180.0  # the circle holds a pole: every longitude
    else:
        dlon = min(180.0, math.degrees(km / (EARTH_RADIUS_KM * math.cos(math.radians(edge)))))
    return latitude - dlat, latitude + dlat, longitude - dlon, longitude + dlon

"""Where a postal code or a typed town is, and how far apart two places are."""

import gzip
import math

import pytest

from portal.offers.places import (
    TABLE,
    bounding_box,
    distance_km,
    find_place,
    place_of_postal_code,
)
from tests.factories import point_at


def _between(first: str, second: str) -> float:
    a, b = place_of_postal_code(first), place_of_postal_code(second)
    return distance_km(a.latitude, a.longitude, b.latitude, b.longitude)


# -- Finding what a person typed -----------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "name", "postal_code"),
    [
        ("67000", "Strasbourg", "67000"),
        (" 68000 ", "Colmar", "68000"),
        ("colmar", "Colmar", "68000"),
        ("COLMAR", "Colmar", "68000"),
        ("QUIMPER", "Quimper", "29000"),
        ("quimper", "Quimper", "29000"),
        ("Sélestat", "Sélestat", "67600"),
        ("selestat", "Sélestat", "67600"),
        ("SELESTAT", "Sélestat", "67600"),
        ("Quimper 29000", "Quimper", "29000"),
        ("29000 Quimper", "Quimper", "29000"),
    ],
)
def test_a_postal_code_or_a_town_is_found_whatever_the_accents_and_case(typed, name, postal_code):
    place = find_place(typed)
    assert place is not None, typed
    assert (place.name, place.postal_code) == (name, postal_code)


@pytest.mark.parametrize(
    ("typed", "postal_code", "latitude_range"),
    [
        ("saint denis 93", "93200", (48.8, 49.1)),
        ("Saint-Denis 93", "93200", (48.8, 49.1)),
        ("Saint-Denis 974", "97400", (-21.0, -20.8)),
        ("saint denis 974", "97400", (-21.0, -20.8)),
        ("Saint-Denis 97400", "97400", (-21.0, -20.8)),
    ],
)
def test_a_department_after_a_town_name_tells_homonyms_apart(typed, postal_code, latitude_range):
    place = find_place(typed)
    assert place is not None, typed
    assert place.name == "Saint-Denis"
    assert place.postal_code == postal_code
    assert latitude_range[0] < place.latitude < latitude_range[1]


def test_saint_denis_in_seine_saint_denis_and_in_reunion_are_far_apart():
    mainland, island = find_place("saint denis 93"), find_place("Saint-Denis 974")
    assert distance_km(mainland.latitude, mainland.longitude, island.latitude, island.longitude) > (
        9000
    )


@pytest.mark.parametrize(
    "typed", ["Nulle-Part-sur-Mer", "zzzz", "99999", "00000", "12", "Colmar 2", "%", "_"]
)
def test_an_unknown_place_is_none(typed):
    assert find_place(typed) is None


@pytest.mark.parametrize("typed", ["", "   ", None, "-", "''"])
def test_nothing_typed_is_no_place(typed):
    assert find_place(typed) is None


# -- Postal codes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("postal_code", "name", "latitude_range", "longitude_range"),
    [
        ("67000", "Strasbourg", (48.5, 48.7), (7.6, 7.9)),
        ("75001", "Paris", (48.8, 48.9), (2.2, 2.5)),
        ("29200", "Brest", (48.3, 48.5), (-4.6, -4.4)),
        ("20000", "Ajaccio", (41.8, 42.0), (8.6, 8.9)),  # Corsica: 20, neither 2A nor 2B
        ("20200", "Bastia", (42.6, 42.8), (9.3, 9.6)),
        ("97400", "Saint-Denis", (-21.0, -20.8), (55.3, 55.6)),  # La Réunion
        ("97200", "Fort-de-France", (14.5, 14.7), (-61.2, -60.9)),  # Martinique
        ("97300", "Cayenne", (4.8, 5.0), (-52.4, -52.2)),  # Guyane
        ("97600", "Mamoudzou", (-12.9, -12.7), (45.1, 45.3)),  # Mayotte
    ],
)
def test_a_postal_code_is_placed_at_its_town(postal_code, name, latitude_range, longitude_range):
    place = place_of_postal_code(postal_code)
    assert place is not None
    assert place.name == name
    assert place.postal_code == postal_code
    assert latitude_range[0] < place.latitude < latitude_range[1]
    assert longitude_range[0] < place.longitude < longitude_range[1]


@pytest.mark.parametrize("postal_code", ["99999", "00000", "6700", "670000", "", "abcde"])
def test_a_postal_code_that_does_not_exist_has_no_place(postal_code):
    assert place_of_postal_code(postal_code) is None


# Where each territory's postal codes must fall: (south, north, west, east).
TERRITORIES = {
    "971": (15.8, 18.2, -63.2, -61.0),  # Guadeloupe, Saint-Barthélemy, Saint-Martin
    "972": (14.3, 15.0, -61.3, -60.7),  # Martinique
    "973": (2.0, 6.0, -54.7, -51.5),  # Guyane
    "974": (-21.5, -20.8, 55.2, 55.9),  # La Réunion
    "975": (46.7, 47.2, -56.5, -56.0),  # Saint-Pierre-et-Miquelon
    "976": (-13.1, -12.6, 44.9, 45.4),  # Mayotte
    "986": (-14.5, -13.1, -178.3, -176.0),  # Wallis-et-Futuna
    "987": (-28.0, -7.0, -155.0, -134.0),  # Polynésie française
    "988": (-23.0, -19.5, 163.5, 168.5),  # Nouvelle-Calédonie
}
MAINLAND_AND_CORSICA = (41.3, 51.2, -5.2, 9.6)


def _rows_of_table() -> list[tuple[str, str, str]]:
    """(kind, postal code, name) of every row: P for a postal code, C for a commune."""
    with gzip.open(TABLE, "rt", encoding="utf-8") as lines:
        next(lines)
        return [tuple(line.split("\t")[:3]) for line in lines]


def _outside_its_territory(postal_code: str, latitude: float, longitude: float) -> bool:
    south, north, west, east = TERRITORIES.get(postal_code[:3], MAINLAND_AND_CORSICA)
    return not (south <= latitude <= north and west <= longitude <= east)


def test_every_postal_code_of_the_table_is_placed_inside_its_own_territory():
    codes = [code for kind, code, _name in _rows_of_table() if kind == "P"]
    assert len(codes) > 6000
    assert len(set(codes)) == len(codes)
    misplaced = []
    for code in codes:
        place = place_of_postal_code(code)
        assert place is not None, code
        assert -90 <= place.latitude <= 90 and -180 <= place.longitude <= 180, place
        assert math.isfinite(place.latitude) and math.isfinite(place.longitude), place
        if _outside_its_territory(code, place.latitude, place.longitude):
            misplaced.append(place)
    assert misplaced == [], (
        f"{len(misplaced)} postal codes outside their territory: {misplaced[:5]}"
    )


def test_every_town_a_person_can_type_is_placed_inside_its_own_territory():
    names = {name for kind, code, name in _rows_of_table() if kind == "C" and code != "-"}
    assert len(names) > 30000
    misplaced = [
        place
        for place in map(find_place, sorted(names))
        if place is not None
        and _outside_its_territory(place.postal_code, place.latitude, place.longitude)
    ]
    assert misplaced == [], f"{len(misplaced)} towns outside their territory: {misplaced[:5]}"


# -- Distances ---------------------------------------------------------------------------------


def test_strasbourg_to_colmar_is_65_km():
    assert _between("67000", "68000") == pytest.approx(65, abs=3)


def test_paris_to_marseille_is_660_km():
    assert _between("75001", "13001") == pytest.approx(660, abs=10)


def test_brest_to_quimper_is_the_great_circle_distance_between_their_town_halls():
    # Not the "57 km": the town halls are 52.5 km apart as the crow flies, ~70 by road.
    assert _between("29200", "29000") == pytest.approx(52.5, abs=3)


def test_a_quarter_of_the_meridian_is_10_000_km():
    assert distance_km(0, 0, 90, 0) == pytest.approx(10_007.5, abs=1)
    assert distance_km(0, 0, 0, 180) == pytest.approx(20_015, abs=1)


@pytest.mark.parametrize(
    ("first", "second"), [("67000", "68000"), ("75001", "13001"), ("97400", "97200")]
)
def test_the_distance_is_symmetric(first, second):
    a, b = place_of_postal_code(first), place_of_postal_code(second)
    there = distance_km(a.latitude, a.longitude, b.latitude, b.longitude)
    back = distance_km(b.latitude, b.longitude, a.latitude, a.longitude)
    assert there == pytest.approx(back, abs=1e-9)
    assert there > 0


@pytest.mark.parametrize(("latitude", "longitude"), [(48.5839, 7.7455), (-20.88, 55.45), (0, 0)])
def test_the_distance_from_a_point_to_itself_is_zero(latitude, longitude):
    assert distance_km(latitude, longitude, latitude, longitude) == 0


@pytest.mark.parametrize("km", [0.5, 5, 20, 50])
def test_a_point_placed_km_away_is_km_away(km):
    latitude, longitude = point_at(km, 33)
    place = place_of_postal_code("67000")
    assert distance_km(place.latitude, place.longitude, latitude, longitude) == pytest.approx(km)


# -- The bounding box that pre-filters the search ------------------------------------------------

EIGHT_DIRECTIONS = [0, 45, 90, 135, 180, 225, 270, 315]


@pytest.mark.parametrize("km", [5, 10, 20, 50])
@pytest.mark.parametrize(
    "latitude",
    [
        -49.35,  # as far south as French land goes (Kerguelen)
        -22.27,  # Nouméa
        -20.88,  # Saint-Denis de La Réunion
        0.0,
        14.6,  # Fort-de-France
        48.58,  # Strasbourg
        51.08,  # Bray-Dunes, the northernmost postal code
        70.0,
        80.0,
        88.0,
    ],
)
def test_the_bounding_box_holds_every_point_at_the_radius(latitude, km):
    longitude = 7.75
    south, north, west, east = bounding_box(latitude, longitude, km)
    assert south < latitude < north and west < longitude < east
    # Eight directions, and every degree between: away from the equator the widest
    # longitude is not due east.
    bearings = EIGHT_DIRECTIONS + [b for b in range(360) if b % 45]
    for bearing in bearings:
        # A hair inside the circle: the north and south edges are exactly at the radius.
        lat, lon = point_at(km * (1 - 1e-9), bearing, latitude, longitude)
        assert south <= lat <= north, (bearing, lat)
        assert west <= lon <= east, (bearing, lon)


def test_the_bounding_box_is_not_much_bigger_than_the_circle():
    """A pre-filter that lets in half the country would make the search slow."""
    south, north, west, east = bounding_box(48.58, 7.75, 20)
    assert distance_km(south, 7.75, north, 7.75) == pytest.approx(40, abs=0.5)
    assert distance_km(48.58, west, 48.58, east) < 45


@pytest.mark.parametrize(
    "cedex, town",
    [("67091", "Strasbourg"), ("75700", "Paris"), ("13331", "Marseille"), ("29229", "Brest")],
)
def test_a_cedex_code_takes_the_place_of_its_departments_largest_town(cedex, town):
    # Offices of départements and employers often give a CEDEX code: not in the table,
    # it must still put the offer near its town rather than nowhere.
    place = place_of_postal_code(cedex)
    assert place is not None
    assert place.name.startswith(town)
    assert place.postal_code[:2] == cedex[:2]


def test_an_offer_with_a_cedex_code_is_found_near_its_town(app):
    from portal.offers.services import OfferSearch, search_offers
    from tests.factories import make_offer

    offer = make_offer(postal_code="67091", latitude=None, longitude=None)
    assert offer.located_by_postal_code and offer.latitude is not None
    found = search_offers(OfferSearch(place=place_of_postal_code("67000"), within_km=5))
    assert [hit.offer.id for hit in found.hits] == [offer.id]

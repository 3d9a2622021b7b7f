"""The search near a person: the service and GET /offres/, every filter, paging, bad input."""

import re
from datetime import timedelta

import pytest

from portal.core.clock import paris_today
from portal.extensions import db
from portal.offers import services
from portal.offers.models import Offer, OfferKind
from portal.offers.places import find_place, place_of_postal_code
from portal.offers.services import PAGE_SIZE, OfferSearch, search_offers
from tests.factories import (
    STRASBOURG,
    make_beneficiary,
    make_counsellor,
    make_offer,
    make_organisation,
)
from tests.offers.conftest import api_of, input_value, text_of, titles_in

QUIMPER = place_of_postal_code("29000")


def _titles(results) -> list[str]:
    return [hit.offer.title for hit in results.hits]


def _search(**criteria) -> list[str]:
    return _titles(search_offers(OfferSearch(**criteria)))


@pytest.fixture
def around_strasbourg(app):
    """Six offers, made in shuffled order, at 3, 8, 15, 40 and 100 km, and one remote far away."""
    organisation = make_organisation()
    today = paris_today()
    make_offer(
        organisation,
        km=40,
        bearing=350,
        kind="job",
        title="Agent d'entretien",
        provider_name="Régie de quartier",
        description="CDDI de 4 mois, 26 heures par semaine.",
        city="Haguenau",
        starts_on=today + timedelta(days=60),
        ends_on=None,
    )
    make_offer(
        organisation,
        km=3,
        bearing=90,
        kind="immersion",
        title="Aide boulangère",
        provider_name="Boulangerie Kieffer",
        description="Deux semaines au fournil, dès 5 heures.",
        city="Strasbourg",
        starts_on=today + timedelta(days=30),
    )
    make_offer(
        organisation,
        km=100,
        bearing=190,
        kind="training",
        title="Formation cariste",
        provider_name="AFPA",
        description="Permis CACES 1, 3 et 5.",
        city="Mulhouse",
        starts_on=today + timedelta(days=5),
        ends_on=None,
    )
    make_offer(
        organisation,
        km=15,
        bearing=200,
        kind="volunteering",
        title="Épicerie solidaire",
        provider_name="Les Restos du Cœur",
        description="Accueil des familles et rayonnage.",
        city="Illkirch-Graffenstaden",
        starts_on=None,
        ends_on=None,
    )
    make_offer(
        organisation,
        km=8,
        bearing=0,
        kind="training",
        title="Remise à niveau en français",
        provider_name="GRETA Nord Alsace",
        description="Deux matinées par semaine.",
        city="Schiltigheim",
        starts_on=today + timedelta(days=10),
    )
    make_offer(
        organisation,
        kind="training",
        title="Bureautique à distance",
        provider_name="Le Wagon numérique",
        description="Word et Excel, en visio depuis chez vous.",
        postal_code="29000",
        city="Quimper",
        latitude=QUIMPER.latitude,
        longitude=QUIMPER.longitude,
        remote=True,
        starts_on=today + timedelta(days=20),
    )
    return organisation


BY_DISTANCE = [
    "Aide boulangère",
    "Remise à niveau en français",
    "Épicerie solidaire",
    "Agent d'entretien",
    "Formation cariste",
    "Bureautique à distance",
]


# -- Each filter alone ----------------------------------------------------------------------------


@pytest.mark.parametrize(("km", "found"), [(5, 1), (10, 2), (20, 3), (50, 4)])
def test_each_distance_keeps_the_offers_within_it_nearest_first(around_strasbourg, km, found):
    results = search_offers(OfferSearch(place=STRASBOURG, within_km=km))
    assert _titles(results) == BY_DISTANCE[:found]
    assert results.total == found
    assert all(hit.distance_km <= km for hit in results.hits)


def test_the_distances_shown_are_the_real_ones(around_strasbourg):
    results = search_offers(OfferSearch(place=STRASBOURG, within_km=50))
    assert [round(hit.distance_km) for hit in results.hits] == [3, 8, 15, 40]


def test_any_distance_lists_every_offer_nearest_first(around_strasbourg):
    results = search_offers(OfferSearch(place=STRASBOURG, within_km=None))
    assert _titles(results) == BY_DISTANCE
    assert results.hits[-1].distance_km == pytest.approx(878, abs=10)  # Quimper


def test_remote_lists_only_the_offers_done_from_home_wherever_they_are(around_strasbourg):
    assert _search(place=STRASBOURG, remote=True) == ["Bureautique à distance"]
    assert _search(place=None, remote=True) == ["Bureautique à distance"]


def test_without_a_place_the_soonest_start_comes_first(around_strasbourg):
    assert _search(place=None) == [
        "Formation cariste",  # in 5 days
        "Remise à niveau en français",  # 10
        "Bureautique à distance",  # 20
        "Aide boulangère",  # 30
        "Agent d'entretien",  # 60
        "Épicerie solidaire",  # no date: last
    ]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (OfferKind.IMMERSION, ["Aide boulangère"]),
        (
            OfferKind.TRAINING,
            ["Remise à niveau en français", "Formation cariste", "Bureautique à distance"],
        ),
        (OfferKind.VOLUNTEERING, ["Épicerie solidaire"]),
        (OfferKind.JOB, ["Agent d'entretien"]),
    ],
)
def test_each_kind_alone(around_strasbourg, kind, expected):
    assert _search(kinds=frozenset({kind}), place=STRASBOURG, within_km=None) == expected


def test_several_kinds_are_ored(around_strasbourg):
    kinds = frozenset({OfferKind.IMMERSION, OfferKind.JOB})
    assert _search(kinds=kinds, place=STRASBOURG, within_km=50) == [
        "Aide boulangère",
        "Agent d'entretien",
    ]


@pytest.mark.parametrize(
    "words",
    ["boulangere", "Boulangère", "BOULANGÈRE", "boulangère", "BoUlAnGeRe", "  boulangère  "],
)
def test_words_match_whatever_the_accents_and_case(around_strasbourg, words):
    assert _search(words=words, place=None) == ["Aide boulangère"]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("kieffer", ["Aide boulangère"]),  # the provider
        ("restos du coeur", ["Épicerie solidaire"]),  # the provider, with its œ
        ("rayonnage", ["Épicerie solidaire"]),  # the description
        ("haguenau", ["Agent d'entretien"]),  # the town
        ("SCHILTIGHEIM", ["Remise à niveau en français"]),
        ("epicerie", ["Épicerie solidaire"]),
        ("francais", ["Remise à niveau en français"]),
        ("boulang", ["Aide boulangère"]),  # the start of a word is enough
        ("plombier", []),
    ],
)
def test_words_are_looked_for_in_title_provider_description_and_town(
    around_strasbourg, words, expected
):
    assert _search(words=words, place=None) == expected


def test_several_words_must_all_be_there(around_strasbourg):
    assert _search(words="boulangère kieffer", place=None) == ["Aide boulangère"]
    assert _search(words="boulangère greta", place=None) == []
    assert _search(words="deux semaines", place=None) == ["Aide boulangère"]
    assert _search(words="deux", place=None) == [
        "Remise à niveau en français",
        "Aide boulangère",
    ]


@pytest.mark.parametrize("words", ["%", "_", "%%", "%_%", "__"])
def test_percent_and_underscore_alone_match_no_more_than_nothing_typed(around_strasbourg, words):
    # Neither is a LIKE wildcard: like other punctuation, they only separate words.
    assert _search(words=words, place=None) == _search(words="", place=None)


def test_percent_and_underscore_between_letters_separate_words_as_a_space_does(app):
    make_offer(title="Aide boulangère", description="Au fournil.")
    make_offer(title="Atelier de broderie", description="Fil et aiguille.", provider_name="Fil")
    make_offer(title="Remise à niveau", description="Pris en charge à 100 %.")
    for typed, spaced in [("bou%ère", "bou ère"), ("brod_rie", "brod rie"), ("100%", "100")]:
        assert _search(words=typed, place=None) == _search(words=spaced, place=None), typed
    assert _search(words="100%", place=None) == ["Remise à niveau"]
    assert _search(words="fil%aiguille", place=None) == ["Atelier de broderie"]
    assert _search(words="aide_boulangere", place=None) == ["Aide boulangère"]
    assert _search(words="b%z", place=None) == []  # as a LIKE pattern: "broderie", "boulangère"


def test_a_start_date_keeps_the_offers_starting_then_or_later_and_those_without_a_date(
    around_strasbourg,
):
    assert _search(
        place=STRASBOURG, within_km=50, starting_from=paris_today() + timedelta(days=20)
    ) == [
        "Aide boulangère",  # in 30 days
        "Épicerie solidaire",  # whenever
        "Agent d'entretien",  # in 60 days
    ]


# -- Combinations ---------------------------------------------------------------------------------


def test_filters_combine(around_strasbourg):
    training = frozenset({OfferKind.TRAINING})
    assert _search(kinds=training, place=STRASBOURG, within_km=20) == [
        "Remise à niveau en français"
    ]
    assert _search(kinds=training, place=STRASBOURG, within_km=None) == [
        "Remise à niveau en français",
        "Formation cariste",
        "Bureautique à distance",
    ]
    assert _search(kinds=training, place=STRASBOURG, remote=True) == ["Bureautique à distance"]
    assert _search(kinds=training, words="excel", place=STRASBOURG, within_km=None) == [
        "Bureautique à distance"
    ]
    assert _search(
        kinds=training,
        place=STRASBOURG,
        within_km=None,
        starting_from=paris_today() + timedelta(days=8),
    ) == ["Remise à niveau en français", "Bureautique à distance"]
    assert (
        _search(kinds=frozenset({OfferKind.JOB}), words="boulangère", place=None, within_km=None)
        == []
    )


# -- What never shows ----------------------------------------------------------------------------


@pytest.fixture
def gone(app):
    """Three offers near Strasbourg that must not show: expired, finished, withdrawn."""
    today = paris_today()
    organisation = make_organisation()
    expired = make_offer(organisation, km=1, title="Expirée", expires_on=today - timedelta(days=1))
    finished = make_offer(
        organisation,
        km=1,
        title="Terminée",
        starts_on=today - timedelta(days=20),
        ends_on=today - timedelta(days=1),
    )
    withdrawn = make_offer(organisation, km=1, title="Retirée")
    services.withdraw_offer(withdrawn)
    still = make_offer(
        organisation,
        km=1,
        title="Visible jusqu'à ce soir",
        expires_on=today,
        starts_on=today - timedelta(days=3),
        ends_on=today,
    )
    db.session.commit()
    return [expired, finished, withdrawn], still


@pytest.mark.parametrize(
    "criteria",
    [
        {"place": STRASBOURG, "within_km": 5},
        {"place": STRASBOURG, "within_km": None},
        {"place": None},
        {"place": None, "words": "e"},
    ],
)
def test_expired_finished_and_withdrawn_offers_never_show(gone, criteria):
    assert _search(**criteria) == ["Visible jusqu'à ce soir"]


def test_expired_finished_and_withdrawn_offers_are_not_found_on_any_page(gone, client):
    hidden, still = gone
    for query in ("?lieu=67000&distance=5", "?lieu=67000&distance=tout", "?distance=tout", ""):
        page = client.get(f"/offres/{query}")
        assert page.status_code == 200
        assert titles_in(page) == ["Visible jusqu'à ce soir"], query
    for offer in hidden:
        response = client.get(f"/offres/{offer.id}")
        assert response.status_code == 404, offer.title
        assert offer.title not in response.get_data(as_text=True)
    assert client.get(f"/offres/{still.id}").status_code == 200


def test_a_remote_offer_that_expired_is_not_listed_as_remote(app):
    make_offer(title="Visio expirée", remote=True, expires_on=paris_today() - timedelta(days=1))
    assert _search(place=STRASBOURG, remote=True) == []


# -- Paging ---------------------------------------------------------------------------------------


def _many_offers(count: int, **fields):
    organisation = make_organisation()
    for n in range(count):
        make_offer(
            organisation, km=0.1 * (n + 1), title=f"Offre {n + 1:02d}", commit=False, **fields
        )
    db.session.commit()


@pytest.mark.parametrize("within_km", [5, None])
def test_pages_of_twenty_nearest_first(app, within_km):
    _many_offers(PAGE_SIZE + 5)
    first = search_offers(OfferSearch(place=STRASBOURG, within_km=within_km))
    second = search_offers(OfferSearch(place=STRASBOURG, within_km=within_km, page=2))
    beyond = search_offers(OfferSearch(place=STRASBOURG, within_km=within_km, page=3))
    assert (first.total, first.pages, second.page) == (25, 2, 2)
    assert _titles(first) == [f"Offre {n:02d}" for n in range(1, 21)]
    assert _titles(second) == [f"Offre {n:02d}" for n in range(21, 26)]
    assert beyond.hits == [] and beyond.total == 25


def test_pages_without_a_place(app):
    _many_offers(PAGE_SIZE + 5, starts_on=None, ends_on=None)
    first, second = (search_offers(OfferSearch(place=None, page=n)) for n in (1, 2))
    assert len(first.hits) == 20 and len(second.hits) == 5
    assert not {hit.offer.id for hit in first.hits} & {hit.offer.id for hit in second.hits}


def test_the_pages_of_the_list_link_to_each_other_and_keep_the_filters(client):
    _many_offers(PAGE_SIZE + 5)
    first = client.get("/offres/?lieu=67000&distance=5&q=offre")
    assert len(titles_in(first)) == 20
    assert "Page 1 sur 2" in text_of(first)
    assert 'href="/offres/?lieu=67000&amp;distance=5&amp;q=offre&amp;page=2"' in (
        first.get_data(as_text=True)
    )
    second = client.get("/offres/?lieu=67000&distance=5&q=offre&page=2")
    assert titles_in(second) == [f"Offre {n:02d}" for n in range(21, 26)]
    assert "Page précédente" in text_of(second)
    beyond = client.get("/offres/?lieu=67000&distance=5&q=offre&page=7")
    assert beyond.status_code == 200
    assert titles_in(beyond) == []


# -- Where an offer is ----------------------------------------------------------------------------


def test_an_offer_without_coordinates_is_placed_at_its_postal_code(client):
    organisation = make_organisation()
    api = api_of(client, organisation)
    body = {
        "kind": "job",
        "title": "Agent d'entretien (IAE)",
        "description": "CDDI de 4 mois.",
        "provider_name": "Régie de quartier",
        "postal_code": "68000",
    }
    assert api.put("/offers/O-1", body).status_code == 201
    offer = db.session.query(Offer).one()
    colmar = place_of_postal_code("68000")
    assert (offer.latitude, offer.longitude) == (colmar.latitude, colmar.longitude)
    assert offer.located_by_postal_code is True
    answered = api.get("/offers/O-1").get_json()
    assert answered["latitude"] is None and answered["longitude"] is None
    assert _search(place=find_place("Colmar"), within_km=5) == ["Agent d'entretien (IAE)"]
    assert _search(place=STRASBOURG, within_km=50) == []  # Colmar is 63 km away
    page = client.get("/offres/?lieu=colmar&distance=5")
    assert titles_in(page) == ["Agent d'entretien (IAE)"]
    # Given coordinates later, it uses them; the API answers them back.
    moved = api.put("/offers/O-1", {**body, "latitude": 48.58, "longitude": 7.75}).get_json()
    assert (moved["latitude"], moved["longitude"]) == (48.58, 7.75)
    db.session.refresh(offer)
    assert offer.located_by_postal_code is False
    assert _search(place=STRASBOURG, within_km=5) == ["Agent d'entretien (IAE)"]


def test_an_offer_with_its_own_coordinates_keeps_them(app):
    offer = make_offer(latitude=48.6, longitude=7.8, postal_code="68000")
    assert (offer.latitude, offer.longitude, offer.located_by_postal_code) == (48.6, 7.8, False)


# -- The page -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?lieu=67000&distance=5", BY_DISTANCE[:1]),
        ("?lieu=67000&distance=10", BY_DISTANCE[:2]),
        ("?lieu=67000&distance=20", BY_DISTANCE[:3]),
        ("?lieu=67000&distance=50", BY_DISTANCE[:4]),
        ("?lieu=67000", BY_DISTANCE[:3]),  # 20 km unless told
        ("?lieu=67000&distance=tout", BY_DISTANCE),
        ("?lieu=67000&distance=a-distance", ["Bureautique à distance"]),
        ("?lieu=Strasbourg&distance=10", BY_DISTANCE[:2]),
        ("?lieu=strasbourg+67000&distance=10", BY_DISTANCE[:2]),
        ("?lieu=67000&distance=50&type=job", ["Agent d'entretien"]),
        (
            "?lieu=67000&distance=50&type=immersion&type=job",
            ["Aide boulangère", "Agent d'entretien"],
        ),
        ("?lieu=67000&distance=tout&type=training&q=EXCEL", ["Bureautique à distance"]),
        ("?lieu=67000&distance=50&q=Boulang%C3%A8re", ["Aide boulangère"]),
        ("?lieu=67000&distance=50&q=boulangere", ["Aide boulangère"]),
        (
            f"?lieu=67000&distance=50&debut={(paris_today() + timedelta(days=20)).isoformat()}",
            ["Aide boulangère", "Épicerie solidaire", "Agent d'entretien"],
        ),
    ],
)
def test_the_page_filters_as_the_service_does(around_strasbourg, client, query, expected):
    response = client.get(f"/offres/{query}")
    assert response.status_code == 200
    assert titles_in(response) == expected


def test_the_page_says_how_many_and_how_far(around_strasbourg, client):
    page = text_of(client.get("/offres/?lieu=67000&distance=10"))
    assert "2 offres à moins de 10 km de Strasbourg (67000)" in page
    assert "À 3 km" in page and "À 8 km" in page


def test_a_town_typed_instead_of_a_postal_code(around_strasbourg, client):
    organisation = make_organisation()
    make_offer(organisation, title="Vendanges", postal_code="68000", latitude=None, longitude=None)
    response = client.get("/offres/?lieu=Colmar&distance=5")
    assert titles_in(response) == ["Vendanges"]
    assert input_value(response, "lieu") == "Colmar"
    assert "de Colmar (68000)" in text_of(response)


@pytest.mark.parametrize("typed", ["Nulle-Part-sur-Mer", "99999", "<script>alert(1)</script>"])
def test_an_unknown_place_says_so_and_keeps_what_was_typed(around_strasbourg, client, typed):
    response = client.get("/offres/", query_string={"lieu": typed, "distance": "20"})
    assert response.status_code == 200
    page = text_of(response)
    assert f"Nous ne trouvons pas « {typed} »" in page
    assert input_value(response, "lieu") == typed
    assert titles_in(response) == []
    assert "<script>alert" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("params", "kept"),
    [
        ({"lieu": "67000", "distance": "zzz"}, {"lieu": "67000"}),
        ({"lieu": "67000", "debut": "bad"}, {"debut": "bad"}),
        ({"lieu": "67000", "debut": "2025-02-30"}, {"debut": "2025-02-30"}),
        ({"lieu": "67000", "page": "abc"}, {"lieu": "67000"}),
        ({"lieu": "67000", "page": "-1"}, {"lieu": "67000"}),
        ({"lieu": "67000", "page": "0"}, {"lieu": "67000"}),
        ({"lieu": "67000", "page": "99999999999"}, {"lieu": "67000"}),
        ({"lieu": "67000", "page": "1e9"}, {"lieu": "67000"}),
        ({"lieu": "67000", "type": "nope"}, {"lieu": "67000"}),
        ({"lieu": "67000", "type": ["immersion", "nope"]}, {"lieu": "67000"}),
        ({"lieu": "67000", "q": "x" * 10_000}, {"q": "x" * 10_000}),
        ({"lieu": "6" * 10_000}, {"lieu": "6" * 10_000}),
        ({"lieu": "67000", "q": "'; DROP TABLE offer; --"}, {"q": "'; DROP TABLE offer; --"}),
        ({"lieu": "67000", "q": '"><img src=x onerror=alert(1)>'}, {}),
        ({"lieu": "٦٧٠٠٠"}, {"lieu": "٦٧٠٠٠"}),  # Arabic-Indic digits
        ({"lieu": "６７０００"}, {"lieu": "６７０００"}),  # full-width digits
        ({"lieu": "\U0001f956 \u202e\u0007\x7f", "q": "\ufeff\u200b"}, {}),
        ({"lieu": "Saint-Denis 2A 2B 974 93"}, {}),
        ({"lieu": "67000", "distance": ""}, {}),
        ({"lieu": "", "distance": "50", "q": "", "debut": "", "page": ""}, {}),
        ({"unknown": "x", "lieu[]": "y"}, {}),
    ],
)
def test_malformed_input_never_breaks_the_page_and_what_was_typed_stays(
    around_strasbourg, client, params, kept
):
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get("/offres/", query_string=params, headers=headers)
        assert response.status_code == 200, (params, headers)
        assert "<img src=x" not in response.get_data(as_text=True)
        for name, value in kept.items() if not headers else ():
            assert input_value(response, name) == value, name


def test_a_nul_character_is_refused_whole_not_a_server_error(around_strasbourg, client):
    for params in ({"q": "boulang\x00"}, {"lieu": "67\x00000"}):
        response = client.get("/offres/", query_string=params)
        assert response.status_code == 400
        assert "caractère invalide" in text_of(response)


def test_a_distance_that_is_no_choice_falls_back_to_20_km(around_strasbourg, client):
    assert titles_in(client.get("/offres/?lieu=67000&distance=zzz")) == BY_DISTANCE[:3]
    assert titles_in(client.get("/offres/?lieu=67000&distance=7")) == BY_DISTANCE[:3]


def test_a_bad_start_date_is_left_out_and_said(around_strasbourg, client):
    response = client.get("/offres/?lieu=67000&distance=50&debut=bad")
    assert titles_in(response) == BY_DISTANCE[:4]
    assert 'id="debut-error"' in response.get_data(as_text=True)


def test_too_many_words_are_said_and_left_out(around_strasbourg, client):
    response = client.get("/offres/", query_string={"lieu": "67000", "q": "boulangère " * 20})
    assert "100 caractères au plus." in text_of(response)
    assert titles_in(response) == BY_DISTANCE[:3]


def test_a_signed_in_persons_own_postal_code_is_the_default_place(around_strasbourg, sign_in):
    colmar = make_offer(title="Vendanges", postal_code="68000", latitude=None, longitude=None)
    person = make_beneficiary(postal_code="68000")
    client = sign_in(person)
    response = client.get("/offres/")
    assert titles_in(response) == ["Vendanges"]
    assert input_value(response, "lieu") == "68000"
    assert "de Colmar (68000)" in text_of(response)
    # A place typed wins over their own.
    assert titles_in(client.get("/offres/?lieu=67000&distance=5")) == ["Aide boulangère"]
    # The offer page says how far it is from them.
    detail = text_of(client.get(f"/offres/{colmar.id}"))
    assert "de Colmar (68000)" in detail


def test_nobody_signed_in_and_no_place_lists_every_offer(around_strasbourg, client):
    response = client.get("/offres/")
    assert response.status_code == 200
    assert sorted(titles_in(response)) == sorted(BY_DISTANCE)
    assert input_value(response, "lieu") in (None, "")


def test_a_counsellor_has_no_place_of_their_own(around_strasbourg, sign_in):
    response = sign_in(make_counsellor()).get("/offres/")
    assert response.status_code == 200
    assert sorted(titles_in(response)) == sorted(BY_DISTANCE)


def test_htmx_gets_the_results_alone_and_the_same_url_gives_the_whole_page(
    around_strasbourg, client
):
    url = "/offres/?lieu=67000&distance=10&type=immersion&type=training"
    fragment = client.get(url, headers={"HX-Request": "true"})
    page = client.get(url)
    assert fragment.status_code == page.status_code == 200
    fragment_html, page_html = fragment.get_data(as_text=True), page.get_data(as_text=True)
    assert "<html" not in fragment_html and "<form" not in fragment_html
    assert "<html" in page_html and 'role="search"' in page_html
    assert titles_in(fragment) == titles_in(page) == BY_DISTANCE[:2]
    # The whole page shows the filters as the URL set them: the URL is the search.
    assert input_value(page, "lieu") == "67000"
    assert '<option selected value="10">' in page_html
    checked = re.findall(
        r'<input checked id="type-\d" name="type" type="checkbox" value="(\w+)">', page_html
    )
    assert checked == ["immersion", "training"]


def test_the_optional_filters_are_not_required_in_the_browser(client):
    """Whatever is left empty, the form can be sent: a browser refuses to send a form
    whose input carries a `required` attribute, whatever its value."""
    page = client.get("/offres/").get_data(as_text=True)
    for name in ("q", "lieu", "debut"):
        tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page).group(0)
        assert not re.search(r"\srequired(=|\s|>)", tag), tag


def test_the_unknown_place_message_comes_in_the_htmx_fragment_too(around_strasbourg, client):
    fragment = client.get("/offres/?lieu=Atlantide", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "Nous ne trouvons pas « Atlantide »" in text_of(fragment)
    assert "<html" not in fragment.get_data(as_text=True)


def test_the_offer_page_says_what_who_where_and_when(around_strasbourg, client):
    offer = db.session.query(Offer).filter_by(title="Aide boulangère").one()
    response = client.get(f"/offres/{offer.id}?lieu=67000")
    assert response.status_code == 200
    page = text_of(response)
    assert "Boulangerie Kieffer" in page and "3 rue des Orfèvres, 67000 Strasbourg" in page
    assert "À 3 km de Strasbourg (67000)" in page
    assert "PMSMP" in page  # what an immersion is
    assert client.get("/offres/999999").status_code == 404


def test_an_offer_that_cannot_be_placed_still_shows_without_a_distance(app, client):
    # The API takes any five digits; an unknown postal code leaves the offer unplaced.
    make_offer(title="Près de Colmar", km=60, bearing=200)
    unplaced = make_offer(title="Quelque part", postal_code="99999", latitude=None, longitude=None)
    assert unplaced.latitude is None and unplaced.located_by_postal_code is True
    assert _search(place=STRASBOURG, within_km=50) == []
    assert _search(place=STRASBOURG, within_km=None) == ["Près de Colmar", "Quelque part"]
    assert sorted(_search(place=None)) == ["Près de Colmar", "Quelque part"]
    assert titles_in(client.get("/offres/?lieu=67000&distance=tout"))[-1] == "Quelque part"
    detail = client.get(f"/offres/{unplaced.id}?lieu=67000")
    assert detail.status_code == 200
    assert "km de Strasbourg" not in text_of(detail)


def test_what_an_offer_says_is_shown_as_text_never_as_markup(client):
    offer = make_offer(
        title="<script>alert('titre')</script>",
        provider_name="<img src=x onerror=alert(1)>",
        description="<b>gras</b>",
        city="<i>ville</i>",
    )
    for url in ("/offres/?lieu=67000", f"/offres/{offer.id}"):
        page = client.get(url).get_data(as_text=True)
        for markup in ("<script>alert", "<img src=x", "<b>gras", "<i>ville"):
            assert markup not in page, (url, markup)
        assert "&lt;script&gt;" in page


def test_the_list_answers_without_the_trailing_slash_too(client):
    offer = make_offer(km=3)
    response = client.get("/offres?lieu=67000&distance=5")
    assert response.status_code == 200
    assert offer.title in response.get_data(as_text=True)

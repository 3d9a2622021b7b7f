"""Each page of offers sends the same few SQL statements, whatever the number of offers."""

import pytest

from portal.extensions import db
from portal.offers.models import Offer
from tests.factories import make_beneficiary, make_counsellor, make_offer, make_organisation
from tests.offers.conftest import count_statements, titles_in

# The signed-in user (1), then the search's candidates and their page of offers, or a
# count and a page (2).
LIST_MOST = 3
# The user (1), the offer with its publisher (1), the person's interest and référents (2).
DETAIL_MOST = 4


def _offers_in_range(count: int, start: int = 0) -> None:
    organisation = make_organisation()
    for n in range(start, start + count):
        make_offer(organisation, km=1 + (n % 45), bearing=n * 37, title=f"Offre {n}", commit=False)
    db.session.commit()


@pytest.fixture(params=["anonymous", "beneficiary", "counsellor"])
def visitor(request, client, sign_in):
    if request.param == "anonymous":
        return client
    if request.param == "beneficiary":
        return sign_in(make_beneficiary(postal_code="67000"))
    return sign_in(make_counsellor())


@pytest.mark.parametrize(
    "url",
    [
        "/offres/?lieu=67000&distance=50",
        "/offres/?lieu=67000&distance=tout",
        "/offres/?lieu=Strasbourg&distance=50&q=offre",
        "/offres/?distance=tout",
        "/offres/?lieu=67000&distance=a-distance",
    ],
)
def test_the_list_takes_the_same_few_statements_for_5_or_60_offers(visitor, url):
    _offers_in_range(5)
    visitor.get(url)  # warm up: the places table, the templates
    with_5 = count_statements(lambda: visitor.get(url))
    shown_5 = titles_in(visitor.get(url))
    _offers_in_range(55, start=5)
    with_60 = count_statements(lambda: visitor.get(url))
    shown_60 = titles_in(visitor.get(url))
    assert with_5 == with_60, (with_5, with_60)
    assert with_60 <= LIST_MOST
    if "a-distance" not in url:  # the lists did grow: the same statements fetched more
        assert (len(shown_5), len(shown_60)) == (5, 20)


def test_a_later_page_takes_no_more_than_the_first(visitor):
    _offers_in_range(60)
    first, later = "/offres/?lieu=67000&distance=50", "/offres/?lieu=67000&distance=50&page=3"
    visitor.get(first)
    assert len(titles_in(visitor.get(later))) == 20
    assert count_statements(lambda: visitor.get(later)) == count_statements(
        lambda: visitor.get(first)
    )


def test_the_htmx_fragment_takes_as_few(client):
    _offers_in_range(60)
    url = "/offres/?lieu=67000&distance=50"
    client.get(url, headers={"HX-Request": "true"})
    statements = count_statements(lambda: client.get(url, headers={"HX-Request": "true"}))
    assert statements <= 2


def test_the_offer_page_takes_the_same_few_statements_whoever_looks(visitor):
    _offers_in_range(5)
    offer = db.session.query(Offer).first()
    url = f"/offres/{offer.id}?lieu=67000"
    assert visitor.get(url).status_code == 200
    few = count_statements(lambda: visitor.get(url))
    _offers_in_range(55, start=5)
    many = count_statements(lambda: visitor.get(url))
    assert few == many
    assert many <= DETAIL_MOST

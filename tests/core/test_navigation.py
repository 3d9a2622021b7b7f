"""Always know where you are: the person's menu at the top of every signed-in page."""

import re

import pytest

from tests.factories import make_beneficiary, make_counsellor

MENU = ["/", "/rendez-vous/", "/offres/", "/parametres"]


def _menu(page: str) -> tuple[list[str], list[str]]:
    nav = re.search(r'<nav aria-label="Menu" class="person-nav">(.*?)</nav>', page, re.S)
    assert nav, "no menu"
    links = re.findall(r'<a href="([^"]+)"', nav.group(1))
    current = re.findall(r'<a href="([^"]+)" aria-current="page"', nav.group(1))
    return links, current


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/accueil", "/"),
        ("/rendez-vous/", "/rendez-vous/"),
        ("/rendez-vous/nouveau", "/rendez-vous/"),
        ("/offres/", "/offres/"),
        ("/parametres", "/parametres"),
    ],
)
def test_every_page_of_a_person_opens_with_the_menu(app, sign_in, path, current):
    client = sign_in(make_beneficiary())
    page = client.get(path).get_data(as_text=True)
    links, marked = _menu(page)
    assert links == MENU
    assert marked == [current]
    assert page.index('class="person-nav"') < page.index('<main id="contenu"')


def test_staff_and_signed_out_pages_have_no_persons_menu(app, sign_in, client):
    assert 'class="person-nav"' not in client.get("/").get_data(as_text=True)
    staff = sign_in(make_counsellor()).get("/conseiller/").get_data(as_text=True)
    assert 'class="person-nav"' not in staff and 'class="staff-nav"' in staff

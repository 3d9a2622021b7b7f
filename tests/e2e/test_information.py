"""The public pages and "Mes données" on a phone, in French and in Arabic, with no
accessibility violation."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_appointment, make_counsellor, make_pathway, make_slot

PAGES = {
    "/aide": "Aide",
    "/mentions-legales": "Mentions légales",
    "/donnees-personnelles": "Vos données personnelles",
    "/accessibilite": "Déclaration d'accessibilité",
}


@pytest.mark.parametrize(("language", "direction"), [("fr", "ltr"), ("ar", "rtl")])
def test_the_public_pages_read_well_on_a_phone(new_page, assert_accessible, language, direction):
    page = new_page("fr-FR" if language == "fr" else "ar")
    page.goto("/")
    for path in PAGES:
        page.locator(f"footer a[href='{path}']").click()
        expect(page).to_have_url(re.compile(re.escape(path) + "$"))
        expect(page.locator("html")).to_have_attribute("dir", direction)
        if language == "fr":
            expect(page.get_by_role("heading", level=1)).to_have_text(PAGES[path])
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
        assert_accessible(page, f"{path} ({language})")


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_person_reads_and_downloads_their_data(
    new_page, sign_in_by_sms, assert_accessible, language
):
    person, department, _plie = make_pathway(phone="+33612345678", language=language)
    make_appointment(make_slot(make_counsellor(department)), person)
    page = new_page("fr-FR" if language == "fr" else "ar")
    sign_in_by_sms(page, "06 12 34 56 78")
    page.locator("footer a[href='/mes-donnees']").click()
    expect(page.locator("main")).to_contain_text(department.name)
    expect(page.locator("main")).to_contain_text("Immersion en boulangerie")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page, f"my data ({language})")
    with page.expect_download() as download:
        page.locator("a[href='/mes-donnees.json']").click()
    assert download.value.suggested_filename.startswith("mes-donnees-")

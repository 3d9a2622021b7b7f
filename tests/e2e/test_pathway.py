"""The pathway page on a phone, in French and in Arabic, with no accessibility violation."""

import pytest
from playwright.sync_api import expect

from tests.factories import (
    make_appointment,
    make_counsellor,
    make_pathway,
    make_slot,
)


def _pathway(language: str):
    person, department, _plie = make_pathway(phone="+33612345678", language=language)
    make_appointment(make_slot(make_counsellor(department)), person)
    return person


@pytest.mark.parametrize(("language", "direction"), [("fr", "ltr"), ("ar", "rtl")])
def test_the_pathway_page_reads_well_on_a_phone(
    new_page, sign_in_by_sms, assert_accessible, language, direction
):
    _pathway(language)
    page = new_page("fr-FR" if language == "fr" else "ar")
    sign_in_by_sms(page, "06 12 34 56 78")
    expect(page.locator("html")).to_have_attribute("dir", direction)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Amina")
    timeline = page.locator("ol.timeline > li")
    expect(timeline).to_have_count(3)
    expect(page.locator("a[href='tel:+33388000000']")).to_be_visible()
    # Nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page, f"pathway ({language})")

    timeline.nth(2).locator("a").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Immersion en boulangerie")
    expect(page.locator("main")).to_contain_text("Une semaine pour découvrir le métier.")
    assert_accessible(page, f"step page ({language})")

    page.goto("/parametres")
    page.locator("main form button[name='sms']").click()
    expect(page.locator("main form button[name='sms']")).to_have_attribute("value", "on")
    assert_accessible(page, f"settings ({language})")

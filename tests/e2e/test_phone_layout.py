"""The beneficiary pages fit a 360 px wide phone and can be used with one thumb."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SUBMIT
from tests.factories import make_beneficiary

# Every control that is not a link inside a sentence (WCAG 2.5.8 exempts those).
CONTROLS = "button, input:not([type='hidden']), select, textarea, a.button"
MIN_TARGET_PX = 44

SIZES = """
(selector) => [...document.querySelectorAll(selector)]
  .filter((el) => el.getClientRects().length > 0)
  .map((el) => {
    // A control inside its label is tapped anywhere on the label (the offer type chips).
    const box = (el.closest("label") || el).getBoundingClientRect();
    return {what: el.outerHTML.slice(0, 80), width: box.width, height: box.height};
  })
"""


def _check_the_screen(page: Page, where: str) -> None:
    # The URL changes when the navigation commits, before the stylesheet is applied: on a
    # busy machine the controls were once measured unstyled (21 px high).
    page.wait_for_load_state("load")
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{where} scrolls sideways: {widths}"
    small = [
        target
        for target in page.evaluate(SIZES, CONTROLS)
        if target["height"] < MIN_TARGET_PX or target["width"] < MIN_TARGET_PX
    ]
    assert not small, f"tap targets under {MIN_TARGET_PX} px on {where}: {small}"


@pytest.mark.parametrize("locale", ["fr-FR", "ar"])
def test_beneficiary_pages_fit_a_phone(new_page, sms_code, locale):
    make_beneficiary(first_name="Amina", phone="+33612345678", language=locale[:2])
    page = new_page(locale)

    page.goto("/")
    _check_the_screen(page, "the landing page")
    page.locator("main a[href='/connexion']").tap()
    expect(page).to_have_url(re.compile(r"/connexion$"))
    _check_the_screen(page, "the phone form")
    page.locator("main input[name='phone']").fill("06 12 34 56 78")
    page.locator(SUBMIT).tap()
    expect(page).to_have_url(re.compile(r"/connexion/code$"))
    _check_the_screen(page, "the code form")
    page.locator("main input[name='code']").fill(sms_code(1))
    page.locator(SUBMIT).tap()
    expect(page).to_have_url(re.compile(r"/accueil$"))
    _check_the_screen(page, "the home page")
    page.goto("/offres/?lieu=67000&distance=20")
    _check_the_screen(page, "the offer list")

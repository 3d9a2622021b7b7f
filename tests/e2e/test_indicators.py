"""A manager reads the indicators at a glance: on a phone and a desktop, in French and
Arabic, with no accessibility violation, nothing the CSP blocks, and a light page."""

import gzip

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD
from tests.indicators.conftest import cohort  # noqa: F401 - the known cohort, as a fixture

BUDGET_GZIP_BYTES = 50_000
PERIOD = "/conseiller/indicateurs/?from=2025-03-01&to=2025-03-31"


def _sign_in(page: Page, email: str) -> None:
    page.goto("/conseiller/connexion")
    page.locator("main input[name='email']").fill(email)
    page.locator("main input[name='password']").fill(PASSWORD)
    page.locator("main form button[type='submit']").click()
    page.wait_for_url("**/conseiller/")


@pytest.mark.parametrize(
    ("locale", "viewport"),
    [
        ("fr-FR", None),
        ("ar", None),
        ("fr-FR", {"width": 1280, "height": 800}),
        ("ar", {"width": 1280, "height": 800}),
    ],
    ids=["fr-phone", "ar-phone", "fr-desktop", "ar-desktop"],
)
def test_the_indicators_page_in_a_browser(
    cohort,  # noqa: F811
    org_a,
    new_page,
    assert_accessible,
    live_server,
    locale,
    viewport,
):
    options = {"viewport": viewport, "is_mobile": False, "has_touch": False} if viewport else {}
    page = new_page(locale, **options)
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    _sign_in(page, org_a.counsellor.email)
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(PERIOD, wait_until="networkidle")
    expect(page.locator("svg.chart").first).to_be_visible()
    expect(page.locator("table").first).to_be_visible()
    if locale == "ar":
        assert page.locator("html").get_attribute("dir") == "rtl"
    # Bars are drawn: the stylesheet reached the SVG (no inline style to block).
    fill = page.locator("svg.chart rect").first.evaluate("e => getComputedStyle(e).fill")
    assert fill not in ("", "rgb(0, 0, 0)"), fill
    assert not blocked, blocked
    assert_accessible(page, f"the indicators page ({locale}, {viewport or 'phone'})")
    document = next(r for r in responses if r.request.resource_type == "document")
    assert len(gzip.compress(document.body())) < BUDGET_GZIP_BYTES

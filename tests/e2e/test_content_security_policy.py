"""The pages still work under the Content-Security-Policy, htmx included; and after
signing out, the back button of a shared phone brings nothing back."""

import re

from playwright.sync_api import ConsoleMessage, Page, expect

from tests.e2e.conftest import PHONE_FIELD, SUBMIT
from tests.e2e.test_offers import TYPED_PHONE, _person_and_offers


def _watch(page: Page) -> list[str]:
    """Chromium's CSP refusals and script errors on `page`.

    Chromium words them "Refused to load …" or "Applying inline style violates the
    following Content Security Policy directive …" depending on its version.
    """
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or message.text.startswith("Refused to"):
            problems.append(f"console {message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    return problems


def _mark_page(page: Page) -> None:
    page.evaluate("window.__sameDocument = true")


def _same_document(page: Page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def test_sign_in_and_offer_search_work_under_the_policy(page: Page, sign_in_by_sms, live_server):
    _person_and_offers("fr")
    problems = _watch(page)
    response = page.goto("/connexion")
    assert "script-src 'self'" in response.headers["content-security-policy"]

    # htmx posts the phone form and swaps the answer (an error) in place.
    _mark_page(page)
    page.locator(PHONE_FIELD).fill("03 88 12 34 56")
    page.locator(SUBMIT).click()
    expect(page.locator("#phone-error")).to_contain_text("06 ou 07")
    assert _same_document(page), "the phone form was not swapped by htmx"
    assert page.evaluate("document.querySelectorAll('head style').length") == 0

    sign_in_by_sms(page, TYPED_PHONE)

    # The offer search: htmx fetches the results as you type and pushes the URL.
    page.goto("/offres/")
    count = page.locator("#results-count")
    expect(count).to_have_text("4 offres à moins de 20 km de Strasbourg (67000)")
    _mark_page(page)
    page.get_by_label("Mots").fill("cuisine")
    expect(count).to_have_text("3 offres à moins de 20 km de Strasbourg (67000)")
    expect(page).to_have_url(re.compile(r"/offres/\?.*\bq=cuisine\b"))
    page.get_by_label("Immersion en entreprise").check()
    expect(count).to_have_text("1 offre à moins de 20 km de Strasbourg (67000)")
    assert _same_document(page), "filtering reloaded the page instead of swapping"
    # No copy of the page kept by htmx for its history.
    assert page.evaluate("sessionStorage.getItem('htmx-history-cache')") is None

    assert problems == []

    # The watch really sees a refusal: an inline style, as htmx would have injected.
    page.evaluate("document.head.insertAdjacentHTML('beforeend', '<style>p{}</style>')")
    page.wait_for_timeout(200)
    assert any(
        "inline style" in problem and "Content Security Policy" in problem for problem in problems
    ), problems


def test_the_back_button_after_sign_out_shows_nothing_personal(page: Page, sign_in_by_sms):
    _person_and_offers("fr")
    sign_in_by_sms(page, TYPED_PHONE)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.goto("/parametres")
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()

    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(re.compile(r"/(connexion)?$"))
    for _ in range(2):
        page.go_back()
        page.wait_for_load_state()
        # Each page is asked again (no-store): the server sends the sign-in page.
        expect(page).to_have_url(re.compile(r"/connexion\?next="))
        expect(page.locator("body")).not_to_contain_text("Bonjour")
        expect(page.get_by_role("button", name="Se déconnecter")).to_have_count(0)

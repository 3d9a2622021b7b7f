"""An administrator enrols in two-step sign-in on a phone, then signs in with a code:
in French and in Arabic, under the Content-Security-Policy, with no axe violation."""

import re
from datetime import UTC, datetime

import pyotp
import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from portal.extensions import db
from tests.e2e.conftest import SUBMIT
from tests.factories import PASSWORD, make_counsellor, make_organisation


def _code(counsellor, offset: int = 0) -> str:
    db.session.rollback()  # read what the server committed
    return pyotp.TOTP(counsellor.totp_secret).at(datetime.now(UTC), counter_offset=offset)


def _password_step(page: Page, email: str) -> None:
    page.goto("/conseiller/connexion")
    page.locator("main input[name='email']").fill(email)
    page.locator("main input[name='password']").fill(PASSWORD)
    page.locator(SUBMIT).click()


@pytest.mark.parametrize("locale", ["fr-FR", "ar"])
def test_an_admin_enrols_then_signs_in_with_a_code(new_page, assert_accessible, locale):
    admin = make_counsellor(
        make_organisation(), email="claire.muller@example.org", is_admin=True, two_step=False
    )
    page = new_page(locale)
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or message.text.startswith("Refused to"):
            problems.append(message.text)

    page.on("console", on_console)
    language, direction = ("ar", "rtl") if locale == "ar" else ("fr", "ltr")

    _password_step(page, admin.email)
    expect(page).to_have_url(re.compile(r"/conseiller/compte/double-authentification$"))
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("html")).to_have_attribute("dir", direction)
    # The QR code is drawn in the page, readable as an image, and fits the phone's width.
    qr = page.locator("main .qr-code svg[role='img']")
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] >= 150
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(page.locator("main .secret code")).to_have_attribute("dir", "ltr")
    # Nothing else is reachable before enrolling.
    page.goto("/conseiller/dossiers")
    expect(page).to_have_url(re.compile(r"/conseiller/compte/double-authentification$"))
    assert_accessible(page, f"the enrolment page ({locale})")

    page.locator("main input[name='code']").fill(_code(admin))
    page.locator(SUBMIT).click()
    codes = page.locator("main .recovery-codes code")
    expect(codes).to_have_count(10)
    assert re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", codes.first.inner_text())
    assert_accessible(page, f"the recovery codes ({locale})")
    page.locator("main a.button").click()
    expect(page).to_have_url(re.compile(r"/conseiller/$"))

    page.locator("footer form button").click()
    expect(page).to_have_url(re.compile(r"/conseiller/connexion$"))

    _password_step(page, admin.email)
    expect(page).to_have_url(re.compile(r"/conseiller/connexion/code$"))
    expect(page.locator("main input[name='code']")).to_have_attribute(
        "autocomplete", "one-time-code"
    )
    assert_accessible(page, f"the code step ({locale})")
    page.locator("main input[name='code']").fill("000000" if _code(admin, 1) != "000000" else "1")
    page.locator(SUBMIT).click()
    expect(page.locator("main .error")).to_be_visible()
    expect(page.locator("main input[name='code']")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, f"the code step after a wrong code ({locale})")

    page.locator("main input[name='code']").fill(_code(admin, 1))
    page.locator(SUBMIT).click()
    expect(page).to_have_url(re.compile(r"/conseiller/$"))
    expect(page.locator("nav.staff-nav")).to_be_visible()

    page.goto("/conseiller/compte")
    expect(page.locator("main table")).to_be_visible()  # the administrator's part
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page, f"the account page ({locale})")
    assert problems == []

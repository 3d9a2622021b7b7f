"""An administrator's counsellors page in a browser: at 1280×800 and on a 360 px phone, in
French and Arabic, nothing overflows and axe finds no violation, the actions unfolded."""

import pyotp
import pytest
from playwright.sync_api import Page, expect

from portal.admin import services
from portal.extensions import db
from tests.factories import PASSWORD, make_counsellor, make_organisation

SUBMIT = "main form button[type='submit']"


def _sign_in(page: Page, admin) -> None:
    page.goto("/conseiller/connexion")
    page.locator("main input[name='email']").fill(admin.email)
    page.locator("main input[name='password']").fill(PASSWORD)
    page.locator(SUBMIT).click()
    page.wait_for_url("**/conseiller/connexion/code")
    page.locator("main input[name='code']").fill(pyotp.TOTP(admin.totp_secret).now())
    page.locator(SUBMIT).click()
    page.wait_for_url("**/conseiller/")


DESKTOP = {"viewport": {"width": 1280, "height": 800}, "is_mobile": False, "has_touch": False}


@pytest.mark.parametrize("locale", ["fr-FR", "ar"])
@pytest.mark.parametrize("screen", ["phone", "desktop"])
def test_the_counsellors_page_in_a_browser(app, new_page, assert_accessible, locale, screen):
    organisation = make_organisation("dep-67")
    admin = make_counsellor(organisation, email="admin@example.org", is_admin=True)
    make_counsellor(organisation, email="claire.muller-schneider@example.org", two_step=True)
    gone = make_counsellor(organisation, email="parti@example.org")
    gone.is_enabled = False
    services.invite_counsellor(organisation, "nouvelle@example.org", "Nadia Benali")
    db.session.commit()

    page = new_page(locale, **(DESKTOP if screen == "desktop" else {}))
    _sign_in(page, admin)
    page.locator("nav a[href='/conseiller/administration/conseillers']").first.click()
    page.wait_for_url("**/conseiller/administration/conseillers")
    expect(page.locator("main table tbody tr")).to_have_count(4)
    for summary in page.locator("main details summary").all():
        summary.click()
    expect(page.locator("main form[action$='/desactiver']").first).to_be_visible()
    if locale == "ar":
        assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page, f"the counsellors page ({locale}, {screen})")

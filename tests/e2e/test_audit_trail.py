"""The audit trail and the dormant people in a browser: an administrator opens a file,
then reads who opened it; the staff home shows the people nobody touched for 24 months.
On a 360 px phone, in French and Arabic: nothing overflows, axe finds no violation."""

from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import Page, expect

from portal.core.clock import utcnow
from portal.extensions import db
from portal.retention.services import months_before
from tests.e2e.test_administration import _sign_in
from tests.factories import make_beneficiary, make_counsellor, make_organisation


@pytest.mark.parametrize("locale", ["fr-FR", "ar"])
def test_an_admin_reads_who_opened_a_file(app, new_page, assert_accessible, locale):
    organisation = make_organisation("dep-67")
    admin = make_counsellor(organisation, email="admin@example.org", is_admin=True)
    person = make_beneficiary(organisation, last_name="Keller", first_name="Sophie")
    with time_machine.travel(months_before(utcnow(), 24) - timedelta(days=3), tick=False):
        make_beneficiary(organisation, last_name="Oublie", first_name="Marc")
    db.session.commit()

    page: Page = new_page(locale)
    _sign_in(page, admin)
    dormant = page.locator("section[aria-labelledby='bloc-dormants']")
    expect(dormant).to_contain_text("Oublie")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page, f"the staff home with dormant people ({locale})")

    page.goto(f"/conseiller/personnes/{person.id}")
    page.locator(f"main a[href='/conseiller/administration/journal?personne={person.id}']").click()
    page.wait_for_url("**/conseiller/administration/journal?personne=*")
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Keller")
    expect(rows.first).to_contain_text("127.0.0.1")
    if locale == "ar":
        assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page, f"the audit trail ({locale})")

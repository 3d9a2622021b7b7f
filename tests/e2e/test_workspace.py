"""A counsellor's home and caseload in a browser: on a phone and a desktop, in French and
Arabic, no accessibility violation and nothing wider than the screen."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from portal.appointments.models import AppointmentStatus
from portal.core.clock import paris_today
from portal.extensions import db
from portal.offers import services as offers
from tests.factories import (
    PASSWORD,
    make_appointment,
    make_beneficiary,
    make_offer,
    make_slot,
)

NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


def _world(tenant) -> None:
    organisation, counsellor = tenant.organisation, tenant.counsellor
    for n, (first, last) in enumerate(
        [("Élodie", "Lefèvre-Boulanger"), ("Amina", "Diallo"), ("Mohamed", "Benali")]
    ):
        person = make_beneficiary(
            organisation,
            first_name=first,
            last_name=last,
            rsa_registration_date=paris_today() - timedelta(days=30 + 30 * n),
        )
        make_appointment(make_slot(counsellor, starts_in=timedelta(days=2 + n)), person)
        make_appointment(
            make_slot(counsellor, starts_in=timedelta(days=-3 - n)),
            person,
            status=AppointmentStatus.CONFIRMED,
        )
        offers.express_interest(person, make_offer(organisation), "Le matin, de préférence.")
    db.session.commit()


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
def test_the_home_and_the_caseload_in_a_browser(
    org_a, new_page, assert_accessible, live_server, locale, viewport
):
    _world(org_a)
    options = {"viewport": viewport, "is_mobile": False, "has_touch": False} if viewport else {}
    page: Page = new_page(locale, **options)
    page.goto("/conseiller/connexion")
    page.locator("main input[name='email']").fill(org_a.counsellor.email)
    page.locator("main input[name='password']").fill(PASSWORD)
    page.locator("main form button[type='submit']").click()
    page.wait_for_url("**/conseiller/")
    expect(page.locator(".todo-block").first).to_be_visible()
    assert page.locator(".site-name").inner_text() == org_a.organisation.name
    assert page.evaluate(NO_OVERFLOW), "the home is wider than the screen"
    assert_accessible(page, f"the staff home ({locale}, {viewport or 'phone'})")
    if viewport:  # blocks side by side on a desk
        tops = page.locator(".todo-block").evaluate_all(
            "blocks => blocks.map(b => b.getBoundingClientRect().top)"
        )
        assert tops[0] == tops[1], tops
    page.locator(".staff-nav a[href='/conseiller/dossiers']").click()
    page.wait_for_url("**/conseiller/dossiers")
    page.locator("#q").fill("elodie")
    page.locator(".caseload-filters button[type='submit']").click()
    expect(page.locator("table.caseload tbody tr")).to_have_count(1)
    expect(page.locator("table.caseload")).to_contain_text("Lefèvre-Boulanger")
    assert page.evaluate(NO_OVERFLOW), "the caseload is wider than the screen"
    assert_accessible(page, f"the caseload ({locale}, {viewport or 'phone'})")

"""The hand-over proposals page in a browser: desktop and phone, French and Arabic, no
accessibility violation and no horizontal overflow, a refusal without reason included."""

from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.handover import services
from tests.factories import PASSWORD, person_of, put_beneficiary

CAF = {"caf_number": "7654321", "birth_date": "1988-03-02"}
VIEWPORTS = [{"width": 1280, "height": 800}, {"width": 360, "height": 780}]


def _sign_in(page: Page, email: str) -> None:
    page.goto("/conseiller/connexion")
    page.locator("main input[name='email']").fill(email)
    page.locator("main input[name='password']").fill(PASSWORD)
    page.locator("main form button[type='submit']").click()
    page.wait_for_url("**/conseiller/")


def _no_overflow(page: Page, where: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), where


def test_the_proposals_page_in_a_browser(
    org_a, org_b, make_tenant, new_page, assert_accessible, working_hours
):
    org_c = make_tenant("ccas-13", "13")
    for tenant, external_id in ((org_a, "A-1"), (org_b, "B-1"), (org_c, "C-1")):
        put_beneficiary(tenant, external_id, **CAF)
    other = {"first_name": "Jean-Baptiste", "last_name": "Lefèvre-Kowalczyk"}
    put_beneficiary(org_b, "B-2", caf_number="1112223", **other)
    put_beneficiary(org_a, "A-2", caf_number="1112223", **other)

    first, second = person_of(org_a, "A-1"), person_of(org_a, "A-2")
    services.propose(org_a.counsellor, first, org_b.organisation.id, "Entre en formation " * 20)
    sent = services.propose(org_b.counsellor, second, org_a.organisation.id, "Déménage à Brest")
    services.refuse(org_a.counsellor, sent, "Pas de place avant mars")
    db.session.commit()

    for locale in ("fr-FR", "ar"):
        page = new_page(locale, is_mobile=False, has_touch=False)
        _sign_in(page, org_b.counsellor.email)
        page.goto("/conseiller/relais")
        if locale == "ar":
            assert page.locator("html").get_attribute("dir") == "rtl"
        for viewport in VIEWPORTS:
            page.set_viewport_size(viewport)
            where = f"the proposals page ({locale}, {viewport['width']} px)"
            expect(page.locator("main li.card")).to_have_count(1)
            expect(page.locator("main table tbody tr")).to_have_count(1)
            _no_overflow(page, where)
            assert_accessible(page, where)
        # A refusal without its reason: the message next to the field, still accessible.
        page.locator("main li.card form").nth(1).locator("button[type='submit']").click()
        expect(page.locator("main li.card .error")).to_be_visible()
        assert_accessible(page, f"a refusal without reason ({locale})")
        _no_overflow(page, f"a refusal without reason ({locale})")
        page.goto(f"/conseiller/personnes/{second.id}/relais")
        expect(page.locator("main textarea")).to_be_visible()
        assert_accessible(page, f"the proposal page ({locale}, 360 px)")
        _no_overflow(page, f"the proposal page ({locale}, 360 px)")

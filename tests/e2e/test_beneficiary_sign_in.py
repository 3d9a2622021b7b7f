"""A beneficiary signs in with a code received by SMS, on a phone, in French and in Arabic."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import CODE_FIELD, PHONE_FIELD, SUBMIT
from tests.factories import make_beneficiary


def _another_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_sign_in_by_sms_in_french(page: Page, fake_twilio, sms_code, assert_accessible):
    make_beneficiary(first_name="Amina", phone="+33612345678")

    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    assert_accessible(page, "the landing page")

    page.get_by_role("link", name="Se connecter", exact=True).tap()
    expect(page).to_have_url(re.compile(r"/connexion$"))
    phone = page.get_by_label("Votre numéro de portable")
    expect(phone).to_be_visible()
    assert_accessible(page, "the phone form")

    # A landline: the error says what to do, next to the field, and keeps what was typed.
    phone.fill("03 88 12 34 56")
    page.get_by_role("button", name="Recevoir un code").tap()
    expect(page.locator("#phone-error")).to_contain_text("06 ou 07")
    expect(phone).to_have_value("03 88 12 34 56")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_attribute("aria-describedby", re.compile(r"\bphone-error\b"))
    assert_accessible(page, "the phone form with an error")
    assert fake_twilio.messages == []

    phone.fill("06 12 34 56 78")
    page.get_by_role("button", name="Recevoir un code").tap()
    expect(page).to_have_url(re.compile(r"/connexion/code$"))
    code_field = page.get_by_label("Code reçu par SMS")
    expect(code_field).to_be_visible()
    assert_accessible(page, "the code form")

    code = sms_code(1)
    assert fake_twilio.messages[0].to == "+33612345678"

    # A wrong code first: an error tied to the field, and still no session.
    code_field.fill(_another_code(code))
    page.get_by_role("button", name="Valider").tap()
    expect(page).to_have_url(re.compile(r"/connexion/code$"))
    expect(page.locator("#code-error")).to_contain_text("Ce code n'est pas le bon")
    expect(code_field).to_have_attribute("aria-invalid", "true")
    expect(code_field).to_have_attribute("aria-describedby", re.compile(r"\bcode-error\b"))
    assert_accessible(page, "the code form with an error")

    code_field.fill(code)
    page.get_by_role("button", name="Valider").tap()
    expect(page).to_have_url(re.compile(r"/accueil$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Amina")
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    assert_accessible(page, "the home page")
    assert len(fake_twilio.messages) == 1


def test_sign_in_by_sms_in_arabic(page_ar: Page, sms_code, assert_accessible):
    """An Arabic phone and a person whose record says Arabic: the whole path mirrors.

    Before sign-in the page follows Accept-Language; after it, the person's saved language.
    No Arabic word is assumed (the catalog may still be empty).
    """
    page = page_ar
    make_beneficiary(first_name="Amina", phone="+33612345678", language="ar")
    html = page.locator("html")

    def assert_arabic(where: str) -> None:
        expect(html, f"{where} in Arabic").to_have_attribute("lang", "ar")
        expect(html, f"{where} right to left").to_have_attribute("dir", "rtl")
        assert_accessible(page, where)

    page.goto("/")
    assert_arabic("the landing page")
    expect(page.locator("button[name='language'][value='ar']")).to_have_attribute(
        "aria-current", "true"
    )

    page.locator("main a[href='/connexion']").tap()
    expect(page).to_have_url(re.compile(r"/connexion$"))
    assert_arabic("the phone form")
    # The number is typed left to right, whatever the page's direction.
    expect(page.locator(PHONE_FIELD)).to_have_attribute("dir", "ltr")

    page.locator(PHONE_FIELD).fill("06 12 34 56 78")
    page.locator(SUBMIT).tap()
    expect(page).to_have_url(re.compile(r"/connexion/code$"))
    assert_arabic("the code form")
    expect(page.locator("main bdi[dir='ltr']").first).to_contain_text("06 12 34 56 78")

    code = sms_code(1)
    page.locator(CODE_FIELD).fill(_another_code(code))
    page.locator(SUBMIT).tap()
    expect(page.locator("#code-error")).to_be_visible()
    assert_arabic("the code form with an error")

    page.locator(CODE_FIELD).fill(code)
    page.locator(SUBMIT).tap()
    expect(page).to_have_url(re.compile(r"/accueil$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Amina")
    assert_arabic("the home page")


def test_the_language_switch_keeps_the_choice_through_sign_in(page: Page, sign_in_by_sms):
    make_beneficiary(first_name="Amina", phone="+33612345678")
    html = page.locator("html")

    page.goto("/")
    page.locator("button[name='language'][value='ar']").tap()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")

    sign_in_by_sms(page, "06 12 34 56 78")
    expect(html).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Amina")

    page.locator("button[name='language'][value='fr']").tap()
    expect(page).to_have_url(re.compile(r"/accueil$"))
    expect(html).to_have_attribute("dir", "ltr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Amina")


def test_sign_in_works_without_javascript(new_page, sign_in_by_sms):
    make_beneficiary(first_name="Amina", phone="+33612345678")
    page = new_page("fr-FR", java_script_enabled=False)

    sign_in_by_sms(page, "06 12 34 56 78")

    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Amina")
    # Proof the page's scripts never ran: htmx would have defined window.htmx.
    assert page.evaluate("typeof window.htmx") == "undefined"


def test_a_shared_number_asks_who_signs_in(page: Page, sms_code, assert_accessible):
    make_beneficiary(first_name="Amina", phone="+33612345678")
    make_beneficiary(first_name="Moussa", phone="+33612345678")

    page.goto("/connexion")
    page.get_by_label("Votre numéro de portable").fill("06 12 34 56 78")
    page.get_by_role("button", name="Recevoir un code").tap()
    page.get_by_label("Code reçu par SMS").fill(sms_code(1))
    page.get_by_role("button", name="Valider").tap()

    expect(page).to_have_url(re.compile(r"/connexion/qui$"))
    expect(page.get_by_role("group", name="Qui êtes-vous ?")).to_be_visible()
    assert_accessible(page, "the choice of person")

    # No choice made: the error belongs to the group of radios.
    page.get_by_role("button", name="Continuer").tap()
    expect(page.locator("#person-error")).to_be_visible()
    expect(page.get_by_role("group", name="Qui êtes-vous ?")).to_have_attribute(
        "aria-describedby", "person-error"
    )
    assert_accessible(page, "the choice of person with an error")

    page.get_by_role("radio", name="Moussa").check()
    page.get_by_role("button", name="Continuer").tap()
    expect(page).to_have_url(re.compile(r"/accueil$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Moussa")

"""A counsellor signs in with email and password, lands on the to-do list, opens the caseload."""

import re

from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, make_beneficiary, make_counsellor, make_organisation


def test_counsellor_signs_in_and_sees_the_caseload(page: Page, assert_accessible):
    organisation = make_organisation()
    counsellor = make_counsellor(organisation, email="claire.muller@example.org")
    make_beneficiary(organisation, first_name="Amina", last_name="Diallo", external_id="DOS-42")
    email = counsellor.email

    page.goto("/conseiller/connexion")
    expect(page.get_by_role("heading", level=1)).to_have_text("Espace conseillers")
    assert_accessible(page, "the counsellor sign-in form")

    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill("not the password")
    page.get_by_role("button", name="Se connecter").click()

    expect(page).to_have_url(re.compile(r"/conseiller/connexion$"))
    expect(page.get_by_role("alert")).to_have_text("Adresse e-mail ou mot de passe incorrect.")
    expect(page.get_by_label("Adresse e-mail")).to_have_value(email)
    # The password is never sent back in the page.
    expect(page.get_by_label("Mot de passe")).to_have_value("")
    assert_accessible(page, "the counsellor sign-in form after a failure")

    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    expect(page).to_have_url(re.compile(r"/conseiller/$"))
    expect(page.locator("main")).to_contain_text("Bonjour Claire Muller")
    expect(page.get_by_role("heading", level=1)).to_have_text("À faire")
    assert_accessible(page, "the to-do list")
    page.get_by_role("link", name="Dossiers").click()
    expect(page.get_by_role("heading", level=1, name="Personnes suivies")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="DOS-42")
    expect(row).to_contain_text("Diallo Amina")
    expect(row).to_contain_text("Vous")
    assert_accessible(page, "the caseload")


def test_an_unknown_email_gets_the_same_message(page: Page):
    make_counsellor(email="claire.muller@example.org")

    page.goto("/conseiller/connexion")
    page.get_by_label("Adresse e-mail").fill("personne@example.org")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    expect(page.get_by_role("alert")).to_have_text("Adresse e-mail ou mot de passe incorrect.")
    expect(page.get_by_label("Adresse e-mail")).to_have_value("personne@example.org")

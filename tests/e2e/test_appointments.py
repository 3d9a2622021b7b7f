"""Booking on a phone, confirmed by a counsellor in another browser, then moved and cancelled."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.factories import (
    PASSWORD,
    make_appointment,
    make_beneficiary,
    make_counsellor,
    make_organisation,
    make_slot,
)

MEETING = "Réunion d'information : vos droits et devoirs"
SEATS_LEFT = {"fr-FR": {11: "11 places restantes"}, "ar": {11: "11 مكانًا متبقيًا"}}


def test_book_confirm_move_and_cancel(new_page, sign_in_by_sms, assert_accessible):
    organisation = make_organisation(department_code="29")
    counsellor = make_counsellor(organisation, email="claire@example.org")
    make_beneficiary(organisation, first_name="Amina", phone="+33612345678")
    first = make_slot(counsellor, starts_in=timedelta(days=2))
    make_slot(counsellor, starts_in=timedelta(days=4))
    first_id = first.id

    person = new_page("fr-FR")
    sign_in_by_sms(person, "06 12 34 56 78")
    person.locator("main a[href='/rendez-vous/nouveau']").click()
    expect(person.get_by_role("heading", level=1)).to_have_text("Choisissez un moment")
    assert_accessible(person, "slot list")
    person.locator(f"a[href='/rendez-vous/creneaux/{first_id}']").click()
    assert_accessible(person, "booking summary")
    person.get_by_role("button", name="Demander ce rendez-vous").click()
    expect(person.locator("main")).to_contain_text("Votre demande est envoyée")
    assert_accessible(person, "booked")

    # The pathway shows it.
    person.goto("/accueil")
    expect(person.locator("ol.timeline")).to_contain_text("Rendez-vous avec")

    # The counsellor confirms, in their own browser.
    staff = new_page("fr-FR")
    staff.goto("/conseiller/connexion")
    staff.fill("input[name='email']", "claire@example.org")
    staff.fill("input[name='password']", PASSWORD)
    staff.locator("main form button[type='submit']").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("À faire")
    assert_accessible(staff, "counsellor queue")
    staff.locator("main form button.button").first.click()
    expect(staff.locator("main")).to_contain_text("Confirmé. Un SMS prévient la personne.")
    assert_accessible(staff, "queue after confirming")

    # The person sees it confirmed, moves it, then cancels it.
    person.goto("/rendez-vous/")
    expect(person.locator("main")).to_contain_text("Confirmé")
    person.locator("main .card a").first.click()
    person.get_by_role("link", name="Changer de jour ou d'heure").click()
    person.locator("a.button").first.click()
    person.get_by_role("button", name="Déplacer mon rendez-vous ici").click()
    expect(person.locator("main")).to_contain_text("Votre demande est envoyée")
    person.get_by_role("link", name="Annuler ce rendez-vous").click()
    assert_accessible(person, "cancel summary")
    person.get_by_role("button", name="Oui, annuler ce rendez-vous").click()
    # The notice says which appointment was cancelled, as people say the day and the hour.
    expect(person.locator("main")).to_contain_text(
        re.compile(r"Votre rendez-vous du \S+ \d+ \S+ à \d+ h( \d+)? est annulé")
    )
    expect(person.locator("main")).to_contain_text("Vous n'avez pas de rendez-vous prévu.")


def test_counsellor_agenda_and_slots_pages_are_accessible(new_page, assert_accessible):
    organisation = make_organisation(department_code="29")
    counsellor = make_counsellor(organisation, email="c@example.org")
    make_slot(counsellor, starts_in=timedelta(days=1))
    meeting = make_slot(counsellor, starts_in=timedelta(hours=-1), capacity=8, title=MEETING)
    make_appointment(meeting, make_beneficiary(organisation), seat=1)
    meeting_id = meeting.id
    staff = new_page("fr-FR")
    staff.goto("/conseiller/connexion")
    staff.fill("input[name='email']", "c@example.org")
    staff.fill("input[name='password']", PASSWORD)
    staff.locator("main form button[type='submit']").click()
    staff.goto("/conseiller/agenda")
    assert_accessible(staff, "agenda")
    staff.locator(f"a[href='/conseiller/seances/{meeting_id}']").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text(MEETING)
    assert_accessible(staff, "session and its attendees")
    staff.goto("/conseiller/creneaux")
    assert_accessible(staff, "slots")
    staff.locator("main form button.button").click()  # publish with nothing filled in
    expect(staff.locator("main")).to_contain_text("Choisissez un jour.")
    assert_accessible(staff, "slots with errors")


@pytest.mark.parametrize("locale", ["fr-FR", "ar"])
def test_a_person_books_a_seat_at_an_information_meeting(
    new_page, sign_in_by_sms, assert_accessible, locale
):
    organisation = make_organisation(department_code="29")
    counsellor = make_counsellor(organisation)
    make_beneficiary(organisation, phone="+33612345678", language="ar" if locale == "ar" else "fr")
    meeting = make_slot(counsellor, starts_in=timedelta(days=2), capacity=12, title=MEETING)
    make_appointment(meeting, make_beneficiary(organisation), seat=1)
    meeting_id = meeting.id

    page = new_page(locale)
    sign_in_by_sms(page, "06 12 34 56 78")
    page.goto("/rendez-vous/nouveau")
    card = page.locator(
        "main li.card", has=page.locator(f"a[href='/rendez-vous/creneaux/{meeting_id}']")
    )
    expect(card.locator(".slot-title")).to_have_text(MEETING)
    expect(card.locator(".seats-left")).to_have_text(SEATS_LEFT[locale][11])
    assert_accessible(page, f"session in the list ({locale})")
    card.locator("a.button").click()
    expect(page.locator("main .slot-title")).to_have_text(MEETING)
    expect(page.locator("main .seats-left")).to_have_text(SEATS_LEFT[locale][11])
    assert_accessible(page, f"session summary ({locale})")
    page.locator("main form button[type='submit']").click()
    page.wait_for_url(re.compile(r"/rendez-vous/\d+\?fait=1$"))
    expect(page.locator("main .slot-title")).to_have_text(MEETING)
    assert_accessible(page, f"session booked ({locale})")
    # The same session again: the person is sent to the place they have.
    page.goto(f"/rendez-vous/creneaux/{meeting_id}")
    page.wait_for_url(re.compile(r"/rendez-vous/\d+$"))
    expect(page.locator("main .slot-title")).to_have_text(MEETING)

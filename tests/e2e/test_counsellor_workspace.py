"""A counsellor's person file, agenda and slots in a browser: desktop and phone, French and
Arabic, no accessibility violation, nothing wider than the screen; htmx swaps a row."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from portal.appointments.models import AppointmentStatus, SlotMode
from portal.extensions import db
from portal.sms.models import SmsKind, SmsMessage
from tests.factories import PASSWORD, make_appointment, make_beneficiary, make_slot

DESKTOP = {"viewport": {"width": 1280, "height": 800}, "is_mobile": False, "has_touch": False}


def _sign_in(page: Page, email: str) -> None:
    page.goto("/conseiller/connexion")
    page.locator("main input[name='email']").fill(email)
    page.locator("main input[name='password']").fill(PASSWORD)
    page.locator("main form button[type='submit']").click()
    page.wait_for_url("**/conseiller/")


def _fits(page: Page, where: str) -> None:
    width, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{where}: {width} px wide in a {inner} px window"


@pytest.mark.parametrize(
    ("locale", "desktop"),
    [("fr-FR", True), ("ar", True), ("fr-FR", False), ("ar", False)],
    ids=["fr-desktop", "ar-desktop", "fr-phone", "ar-phone"],
)
def test_the_file_the_agenda_and_the_slots_in_a_browser(
    org_a, new_page, assert_accessible, working_hours, locale, desktop
):
    counsellor = org_a.counsellor
    person = make_beneficiary(
        org_a.organisation,
        first_name="Élodie",
        last_name="Kerbrat-Lemarchand",
        email="elodie.kerbrat-lemarchand@example.org",
    )
    past = make_appointment(
        make_slot(counsellor, starts_in=timedelta(hours=-1), mode=SlotMode.PHONE, location=None),
        person,
        status=AppointmentStatus.CONFIRMED,
    )
    requested = make_appointment(make_slot(counsellor, starts_in=timedelta(days=3)), person)
    db.session.add(
        SmsMessage(
            beneficiary_id=person.id,
            organisation_id=org_a.organisation.id,
            to=person.phone,
            body="Dep. Bas-Rhin : RDV confirme jeudi 10 decembre a 10 h, 1 place du Quartier Blanc",
            kind=SmsKind.APPOINTMENT_CONFIRMED,
        )
    )
    db.session.commit()
    page = new_page(locale, **(DESKTOP if desktop else {}))
    _sign_in(page, counsellor.email)

    page.goto(f"/conseiller/personnes/{person.id}")
    expect(page.locator(f"#rdv-{requested.id}")).to_be_visible()
    _fits(page, "the file")
    assert_accessible(page, f"the person's file ({locale})")
    if desktop and locale == "fr-FR":
        # htmx: the row alone is swapped, the page stays.
        page.locator(f"#rdv-{requested.id} form button[type='submit']").first.click()
        expect(page.locator(f"#rdv-{requested.id} [role='status']")).to_contain_text("Confirmé")
        expect(page.locator("h1")).to_contain_text("Kerbrat")

    page.goto("/conseiller/agenda")
    days = page.locator(".week-day")
    expect(days).to_have_count(5)
    expect(page.locator(f"#agenda-{past.id} a[href^='tel:']")).to_be_visible()
    first, second = days.nth(0).bounding_box(), days.nth(1).bounding_box()
    if desktop:
        assert abs(first["y"] - second["y"]) < 1  # days side by side
    else:
        assert second["y"] > first["y"] + first["height"] - 1  # days one under the other
    _fits(page, "the agenda")
    assert_accessible(page, f"the agenda ({locale})")

    page.goto("/conseiller/creneaux")
    for name in ("first_day", "time", "until_time", "mode"):
        height = page.locator(f"#{name}").bounding_box()["height"]
        assert height >= 44, f"{name}: {height} px high"
    _fits(page, "the slots")
    assert_accessible(page, f"the slots ({locale})")

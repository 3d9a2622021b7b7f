"""Choosing a slot on a 360 px phone, in French and Arabic: every day chip in view, a mode
filter that works without JavaScript, and a first appointment confirmed at once."""

import re
from datetime import time, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.appointments.models import Appointment, AppointmentStatus, SlotMode, SlotPurpose
from portal.core.clock import paris_moment, paris_today
from portal.extensions import db
from tests.factories import make_beneficiary, make_counsellor, make_organisation, make_slot

DAYS = 16


def _territory(language: str) -> None:
    organisation = make_organisation(department_code="29")
    organisation.purposes_confirmed_at_once = ["orientation"]
    counsellor = make_counsellor(organisation, email="claire@example.org")
    person = make_beneficiary(organisation, phone="+33612345678", language=language)
    person.follow_ups[0].referent_name = person.follow_ups[0].referent_email = None
    db.session.commit()  # not oriented yet
    for ahead in range(1, DAYS + 1):
        day = paris_today() + timedelta(days=ahead)
        make_slot(counsellor, starts_at=paris_moment(day, time(9)), purpose=SlotPurpose.ORIENTATION)
        make_slot(
            counsellor,
            starts_at=paris_moment(day, time(10)),
            purpose=SlotPurpose.ORIENTATION,
            mode=SlotMode.PHONE,
            location=None,
        )
        # Follow-ups are not for a person not oriented yet: never shown.
        make_slot(counsellor, starts_at=paris_moment(day, time(11)))


def _every_day_chip_in_view(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    chips = page.locator("ul.days a")
    expect(chips).to_have_count(DAYS)
    width = page.evaluate("window.innerWidth")
    for index in range(DAYS):
        box = chips.nth(index).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, index


@pytest.mark.parametrize(("locale", "language"), [("fr-FR", "fr"), ("ar", "ar")])
def test_choose_filter_without_javascript_and_book_at_once(
    new_page, sign_in_by_sms, assert_accessible, locale, language
):
    _territory(language)
    page = new_page(locale)
    sign_in_by_sms(page, "06 12 34 56 78")
    page.goto("/rendez-vous/nouveau")
    _every_day_chip_in_view(page)
    expect(page.locator("main .slot-card")).to_have_count(2)  # the first day's two
    assert_accessible(page, f"slot choice ({locale})")

    # The same page without JavaScript: the mode filter is plain links.
    no_script = new_page(
        locale, java_script_enabled=False, storage_state=page.context.storage_state()
    )
    no_script.goto("/rendez-vous/nouveau")
    no_script.locator("a[href*='mode=telephone']").click()
    no_script.wait_for_url("**mode=telephone**")
    expect(no_script.locator("main .slot-card")).to_have_count(1)
    expect(no_script.locator("ul.days a")).to_have_count(DAYS)
    no_script.locator("ul.days a").nth(2).click()
    no_script.wait_for_url("**mode=telephone**")
    expect(no_script.locator("ul.days a").nth(2)).to_have_attribute("aria-current", "date")
    expect(no_script.locator("main .slot-card")).to_have_count(1)
    # axe runs in the page's JavaScript: checked on the same address with it on.
    page.goto(no_script.url)
    _every_day_chip_in_view(page)
    assert_accessible(page, f"slot choice by phone ({locale})")
    page.goto("/rendez-vous/nouveau")

    # With JavaScript, htmx swaps the day: the filter and the current day follow it.
    third = page.locator("ul.days a").nth(2)
    day = re.search(r"jour=([0-9-]+)", third.get_attribute("href")).group(1)
    third.click()
    expect(page.locator("ul.days a").nth(2)).to_have_attribute("aria-current", "date")
    expect(page.locator(f"a.chip[href*='mode=telephone'][href*='jour={day}']")).to_have_count(1)
    page.goto("/rendez-vous/nouveau")

    # Booked, and confirmed at once.
    page.locator("main .slot-card a.button").first.click()
    assert_accessible(page, f"booking summary ({locale})")
    page.locator("main form button[type='submit']").click()
    page.wait_for_url("**/rendez-vous/*fait=1")
    db.session.rollback()  # read what the server committed
    appointment = db.session.scalars(select(Appointment)).one()
    assert appointment.status is AppointmentStatus.CONFIRMED
    if language == "fr":
        expect(page.locator("main")).to_contain_text("Rendez-vous confirmé")
    assert_accessible(page, f"booked at once ({locale})")

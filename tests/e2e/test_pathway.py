"""The pathway page on a phone, in French and in Arabic, with no accessibility violation."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from portal.beneficiaries.models import FollowUp
from portal.extensions import db
from portal.pathway.models import StepKind, StepStatus
from tests.factories import (
    make_appointment,
    make_beneficiary,
    make_counsellor,
    make_organisation,
    make_slot,
    make_step,
)


def _pathway(language: str):
    department = make_organisation(slug="bas-rhin")
    plie = make_organisation(slug="plie")
    person = make_beneficiary(
        department, first_name="Amina", phone="+33612345678", language=language
    )
    db.session.add(
        FollowUp(
            organisation=plie,
            beneficiary=person,
            external_id="P-1",
            referent_name="Karim Benali",
            referent_email="k@plie.example",
            referent_phone="+33388000000",
        )
    )
    db.session.commit()
    make_step(
        person,
        department,
        kind=StepKind.ORIENTATION,
        status=StepStatus.DONE,
        starts_on=date.today() - timedelta(days=12),
        title="Orientation",
    )
    make_step(
        person,
        plie,
        kind=StepKind.TRAINING,
        status=StepStatus.IN_PROGRESS,
        title="Remise à niveau en français",
        starts_on=date.today() - timedelta(days=3),
    )
    make_step(
        person,
        department,
        kind=StepKind.IMMERSION,
        status=StepStatus.PLANNED,
        title="Immersion en boulangerie",
        starts_on=date.today() + timedelta(days=9),
        description="Une semaine pour découvrir le métier.",
    )
    make_appointment(make_slot(make_counsellor(department)), person)
    return person


@pytest.mark.parametrize(("language", "direction"), [("fr", "ltr"), ("ar", "rtl")])
def test_the_pathway_page_reads_well_on_a_phone(
    new_page, sign_in_by_sms, assert_accessible, language, direction
):
    _pathway(language)
    page = new_page("fr-FR" if language == "fr" else "ar")
    sign_in_by_sms(page, "06 12 34 56 78")
    expect(page.locator("html")).to_have_attribute("dir", direction)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Amina")
    timeline = page.locator("ol.timeline > li")
    expect(timeline).to_have_count(3)
    expect(page.locator("a[href='tel:+33388000000']")).to_be_visible()
    # Nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page, f"pathway ({language})")

    timeline.nth(2).locator("a").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Immersion en boulangerie")
    expect(page.locator("main")).to_contain_text("Une semaine pour découvrir le métier.")
    assert_accessible(page, f"step page ({language})")

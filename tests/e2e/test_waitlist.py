"""On a phone, in French and in Arabic: join the waitlist after booking, get the SMS when
someone cancels an earlier appointment, follow its link and move there."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.appointments import services
from portal.appointments.models import Appointment, WaitlistEntry, WaitlistOffer
from portal.core.clock import utcnow
from portal.extensions import db
from portal.sms.sender import send_due
from tests.factories import make_beneficiary, make_counsellor, make_organisation, make_slot

LINK = re.compile(r"https?://[^/\s]+(/rendez-vous/plus-tot/\d+)")


@pytest.mark.parametrize("locale", ["fr-FR", "ar"])
def test_join_the_waitlist_then_move_when_told(
    new_page, sign_in_by_sms, assert_accessible, fake_twilio, working_hours, locale
):
    organisation = make_organisation(department_code="29")
    counsellor = make_counsellor(organisation)
    make_beneficiary(organisation, first_name="Amina", phone="+33612345678", language=locale[:2])
    later_id = make_slot(counsellor, starts_in=timedelta(days=6)).id
    other = services.book(make_beneficiary(organisation), make_slot(counsellor).id)
    db.session.commit()

    page = new_page(locale)
    sign_in_by_sms(page, "06 12 34 56 78")
    page.goto(f"/rendez-vous/creneaux/{later_id}")
    page.locator("main form button[type='submit']").click()
    expect(page).to_have_url(re.compile(r"/rendez-vous/\d+\?fait=1$"))
    waitlist = page.locator("main section[aria-labelledby='waitlist-title']")
    if locale == "fr-FR":
        expect(waitlist).to_contain_text(
            "Si un moment plus tôt se libère, nous vous envoyons un SMS."
        )
    assert_accessible(page, "booked, with the waitlist")
    waitlist.locator("button[type='submit']").click()
    expect(page.locator("main form[action$='/plus-tot/arreter']")).to_be_visible()
    assert_accessible(page, "on the waitlist")

    # Someone else cancels the earlier appointment; the worker sends what is due.
    services.cancel(other, by="beneficiary")
    db.session.commit()
    send_due()
    offer_sms = next((m for m in fake_twilio.wait_for(3) if LINK.search(m.body)), None)
    assert offer_sms is not None, fake_twilio.messages
    assert offer_sms.to == "+33612345678"

    page.goto(LINK.search(offer_sms.body).group(1))
    assert_accessible(page, "the earlier moment")
    page.locator("main form button[type='submit']").click()
    expect(page).to_have_url(re.compile(r"/rendez-vous/\d+\?fait=1$"))
    moved_id = int(re.search(r"/rendez-vous/(\d+)", page.url).group(1))
    db.session.rollback()
    moved = db.session.get(Appointment, moved_id)
    assert (moved.slot_id, moved.beneficiary.phone) == (other.slot_id, "+33612345678")

    # A link whose moment someone else took says so, and that the appointment stands.
    taken = services.book(make_beneficiary(organisation), make_slot(counsellor).id)
    entry = WaitlistEntry(appointment=moved)
    gone = WaitlistOffer(entry=entry, slot=taken.slot, due_at=utcnow())
    db.session.add_all([entry, gone])
    db.session.commit()
    page.goto(f"/rendez-vous/plus-tot/{gone.id}")
    if locale == "fr-FR":
        expect(page.locator("main")).to_contain_text("Quelqu'un l'a pris avant vous.")
    expect(page.locator("main form")).to_have_count(0)
    assert_accessible(page, "gone")

"""The booking pages and the counsellor's queue, agenda and slots, through HTTP."""

import re
from datetime import date, timedelta

from sqlalchemy import select

from portal.appointments.models import Appointment, AppointmentStatus, Slot
from portal.extensions import db
from portal.sms.models import SmsKind, SmsMessage
from tests.conftest import Browser
from tests.factories import (
    make_appointment,
    make_beneficiary,
    make_counsellor,
    make_organisation,
    make_slot,
)


def _setting():
    organisation = make_organisation(department_code="29")
    counsellor = make_counsellor(organisation, email="claire@example.org")
    person = make_beneficiary(organisation, first_name="Amina")
    return organisation, counsellor, person


def test_a_person_books_in_a_few_taps_and_reads_what_happens_next(sign_in):
    _organisation, counsellor, person = _setting()
    slot = make_slot(counsellor, starts_in=timedelta(days=2))
    browser = Browser(sign_in(person))
    home = browser.get("/accueil").get_data(as_text=True)
    assert 'href="/rendez-vous/nouveau"' in home
    choose = browser.get("/rendez-vous/nouveau").get_data(as_text=True)
    assert f'href="/rendez-vous/creneaux/{slot.id}"' in choose
    summary = browser.get(f"/rendez-vous/creneaux/{slot.id}").get_data(as_text=True)
    assert "1 place du Quartier Blanc" in summary
    booked = browser.submit(f"/rendez-vous/creneaux/{slot.id}", {})
    assert booked.status_code == 302
    detail = browser.get(booked.headers["Location"]).get_data(as_text=True)
    assert "Votre demande est envoyée" in detail
    assert "En attente de confirmation" in detail
    appointment = db.session.scalars(select(Appointment)).one()
    assert appointment.beneficiary_id == person.id


def test_the_loser_of_a_race_is_shown_other_slots_not_an_error(sign_in):
    organisation, counsellor, person = _setting()
    slot = make_slot(counsellor)
    other = make_slot(counsellor, starts_in=timedelta(days=3))
    browser = Browser(sign_in(person))
    page = browser.get(f"/rendez-vous/creneaux/{slot.id}").get_data(as_text=True)
    make_appointment(slot, make_beneficiary(organisation))  # someone was quicker
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = browser.client.post(f"/rendez-vous/creneaux/{slot.id}", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/rendez-vous/nouveau")
    choose = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "vient d&#39;être pris" in choose
    assert f"/rendez-vous/creneaux/{other.id}" in choose


def test_the_day_list_answers_a_fragment_to_htmx(sign_in):
    _organisation, counsellor, person = _setting()
    slot = make_slot(counsellor, starts_in=timedelta(days=4))
    day = slot.starts_at.date().isoformat()
    client = sign_in(person)
    fragment = client.get(f"/rendez-vous/nouveau?jour={day}", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and f"/rendez-vous/creneaux/{slot.id}" in text
    assert client.get("/rendez-vous/nouveau?jour=not-a-day").status_code == 200


def test_another_persons_appointment_is_a_404_everywhere(sign_in):
    organisation, counsellor, person = _setting()
    theirs = make_appointment(make_slot(counsellor), make_beneficiary(organisation))
    client = sign_in(person)
    for url in (
        f"/rendez-vous/{theirs.id}",
        f"/rendez-vous/{theirs.id}/annuler",
        f"/rendez-vous/{theirs.id}/agenda.ics",
        f"/rendez-vous/nouveau?deplacer={theirs.id}",
    ):
        assert client.get(url).status_code == 404, url


def test_cancel_shows_a_summary_then_cancels_and_after_the_limit_says_whom_to_call(sign_in):
    organisation, counsellor, person = _setting()
    person.follow_ups[0].referent_phone = "+33298000000"
    db.session.commit()
    later = make_appointment(make_slot(counsellor, starts_in=timedelta(days=2)), person)
    soon = make_appointment(make_slot(counsellor, starts_in=timedelta(minutes=90)), person)
    browser = Browser(sign_in(person))
    page = browser.get(f"/rendez-vous/{later.id}/annuler").get_data(as_text=True)
    assert "Oui, annuler ce rendez-vous" in page
    browser.submit(f"/rendez-vous/{later.id}/annuler", {})
    assert db.session.get(Appointment, later.id).status is AppointmentStatus.CANCELLED
    too_late = browser.get(f"/rendez-vous/{soon.id}/annuler").get_data(as_text=True)
    assert "appelez votre conseiller" in too_late
    assert 'href="tel:+33298000000"' in too_late
    browser.submit(f"/rendez-vous/{soon.id}/annuler", {}, page=f"/rendez-vous/{soon.id}")
    assert db.session.get(Appointment, soon.id).status is AppointmentStatus.REQUESTED


def test_the_calendar_file_downloads(sign_in):
    _organisation, counsellor, person = _setting()
    appointment = make_appointment(make_slot(counsellor), person)
    response = sign_in(person).get(f"/rendez-vous/{appointment.id}/agenda.ics")
    assert response.mimetype == "text/calendar"
    assert b"BEGIN:VALARM" in response.data


def test_a_person_moves_an_appointment_through_the_pages(sign_in):
    _organisation, counsellor, person = _setting()
    appointment = make_appointment(make_slot(counsellor), person)
    new_slot = make_slot(counsellor, starts_in=timedelta(days=5))
    browser = Browser(sign_in(person))
    url = f"/rendez-vous/creneaux/{new_slot.id}?deplacer={appointment.id}"
    assert "Déplacer mon rendez-vous ici" in browser.get(url).get_data(as_text=True)
    browser.submit(url, {})
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status is AppointmentStatus.CANCELLED
    moved = db.session.scalars(select(Appointment).where(Appointment.slot_id == new_slot.id)).one()
    assert moved.status is AppointmentStatus.REQUESTED


def test_the_counsellor_confirms_and_declines_from_the_queue(sign_in):
    organisation, counsellor, person = _setting()
    first = make_appointment(make_slot(counsellor), person)
    second = make_appointment(make_slot(counsellor, starts_in=timedelta(days=3)), person)
    browser = Browser(sign_in(counsellor))
    queue = browser.get("/conseiller/").get_data(as_text=True)
    assert queue.index(f"demande-{first.id}") < queue.index(f"demande-{second.id}")  # oldest first
    answered = browser.submit(
        f"/conseiller/rendez-vous/{first.id}/confirmer",
        {},
        page="/conseiller/",
        headers={"HX-Request": "true"},
    )
    assert "Confirmé. Un SMS prévient la personne." in answered.get_data(as_text=True)
    missing_reason = browser.submit(
        f"/conseiller/rendez-vous/{second.id}/refuser", {"reason": " "}, page="/conseiller/"
    )
    assert missing_reason.status_code == 422
    assert "Écrivez un motif" in missing_reason.get_data(as_text=True)
    browser.submit(
        f"/conseiller/rendez-vous/{second.id}/refuser",
        {"reason": "Absente ce jour-là"},
        page="/conseiller/",
    )
    db.session.expire_all()
    assert db.session.get(Appointment, first.id).status is AppointmentStatus.CONFIRMED
    assert db.session.get(Appointment, second.id).status_reason == "Absente ce jour-là"
    kinds = set(db.session.scalars(select(SmsMessage.kind)))
    assert {SmsKind.APPOINTMENT_CONFIRMED, SmsKind.APPOINTMENT_DECLINED} <= kinds


def test_another_organisations_appointment_is_a_404_for_a_counsellor(sign_in):
    _organisation, counsellor, person = _setting()
    foreign = make_appointment(make_slot(make_counsellor(make_organisation())), person)
    browser = Browser(sign_in(counsellor))
    response = browser.submit(
        f"/conseiller/rendez-vous/{foreign.id}/confirmer", {}, page="/conseiller/"
    )
    assert response.status_code == 404


def test_outcomes_are_recorded_after_the_start_only(sign_in):
    _organisation, counsellor, person = _setting()
    past = make_appointment(
        make_slot(counsellor, starts_in=timedelta(hours=-1)),
        person,
        status=AppointmentStatus.CONFIRMED,
    )
    future = make_appointment(make_slot(counsellor, starts_in=timedelta(days=1)), person)
    browser = Browser(sign_in(counsellor))
    agenda = browser.get("/conseiller/agenda").get_data(as_text=True)
    assert f"issue-{past.id}-attended" in agenda
    assert f"issue-{future.id}-attended" not in agenda
    browser.submit(
        f"/conseiller/rendez-vous/{past.id}/issue",
        {"outcome": "no_show"},
        page="/conseiller/agenda",
    )
    refused = browser.submit(
        f"/conseiller/rendez-vous/{future.id}/issue",
        {"outcome": "attended"},
        page="/conseiller/agenda",
        headers={"HX-Request": "true"},
    )
    assert "après l&#39;heure du rendez-vous" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Appointment, past.id).status is AppointmentStatus.NO_SHOW
    assert db.session.get(Appointment, future.id).status is AppointmentStatus.REQUESTED


def test_a_counsellor_publishes_a_weekly_series_and_withdraws_a_slot(sign_in):
    _organisation, counsellor, _person = _setting()
    browser = Browser(sign_in(counsellor))
    start = date.today() + timedelta(days=(7 - date.today().weekday()) + 7)  # a Monday ahead
    response = browser.submit(
        "/conseiller/creneaux",
        {
            "first_day": start.isoformat(),
            "time": "09:30",
            "duration_minutes": "45",
            "mode": "phone",
            "location": "",
            "purpose": "follow_up",
            "repeat_until": (start + timedelta(days=14)).isoformat(),
        },
    )
    assert response.status_code == 302
    slots = db.session.scalars(select(Slot).order_by(Slot.starts_at)).all()
    assert len(slots) == 3
    browser.submit(f"/conseiller/creneaux/{slots[0].id}/retirer", {}, page="/conseiller/creneaux")
    db.session.expire_all()
    assert db.session.get(Slot, slots[0].id).withdrawn_at is not None


def test_publishing_on_a_holiday_says_why_and_keeps_what_was_typed(sign_in):
    _organisation, counsellor, _person = _setting()
    browser = Browser(sign_in(counsellor))
    response = browser.submit(
        "/conseiller/creneaux",
        {
            "first_day": "2027-12-25",
            "time": "10:00",
            "duration_minutes": "30",
            "mode": "in_person",
            "location": "10 rue de Siam, Brest",
            "purpose": "follow_up",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422  # refused input, as everywhere
    assert "férié" in page
    assert 'value="10 rue de Siam, Brest"' in page
    assert db.session.scalars(select(Slot)).all() == []

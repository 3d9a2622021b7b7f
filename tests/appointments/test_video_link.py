"""Video appointments (contract v1.1): the link on the slot, shown to the person from 30
minutes before, carried by the day's reminder; without one, the person knows who calls."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.appointments import services as appointments
from portal.appointments.models import AppointmentStatus, Slot, SlotMode
from portal.extensions import db
from portal.sms.gsm import is_gsm7, segments
from portal.sms.models import SmsKind, SmsMessage, SmsStatus
from tests.api.conftest import assert_problem
from tests.conftest import Browser
from tests.factories import (
    make_appointment,
    make_beneficiary,
    make_counsellor,
    make_organisation,
    make_slot,
    person_of,
    put_beneficiary,
    slot_body,
)

LINK = "https://visio.example.org/salle-42?code=7"


def _video_slot(counsellor, starts_in: timedelta, video_url: str | None = LINK) -> Slot:
    return make_slot(
        counsellor, starts_in=starts_in, mode=SlotMode.VIDEO, location=None, video_url=video_url
    )


def _person_with(starts_in: timedelta, video_url: str | None = LINK, **fields):
    organisation = make_organisation(department_code="29")
    counsellor = make_counsellor(organisation)
    person = make_beneficiary(organisation)
    appointment = make_appointment(_video_slot(counsellor, starts_in, video_url), person, **fields)
    return person, appointment


# -- The API ------------------------------------------------------------------------------


def test_a_video_slot_takes_its_link_and_answers_it(org_a):
    body = slot_body(org_a, mode="video", location=None, video_url=LINK)
    created = org_a.api.put("/slots/V-1", body)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["video_url"] == LINK
    assert org_a.api.get("/slots/V-1").get_json()["video_url"] == LINK
    # Left out, it is null: the field is always in the answer.
    without = org_a.api.put("/slots/V-2", slot_body(org_a, mode="video", location=None))
    assert without.status_code == 201 and without.get_json()["video_url"] is None
    cleared = org_a.api.put("/slots/V-1", {**body, "video_url": None})
    assert cleared.status_code == 200 and cleared.get_json()["video_url"] is None


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"mode": "in_person", "video_url": LINK}, "only for a slot whose mode is video"),
        ({"mode": "phone", "location": None, "video_url": LINK}, "mode is video"),
        ({"mode": "video", "location": None, "video_url": "http://visio.example.org/a"}, "https"),
        ({"mode": "video", "location": None, "video_url": "https://"}, "https address"),
        ({"mode": "video", "location": None, "video_url": "https://a.org/ é"}, "https"),
        ({"mode": "video", "location": None, "video_url": "https://a.org/" + "x" * 490}, "500"),
        ({"mode": "video", "location": None, "video_url": 42}, "string"),
    ],
)
def test_a_video_link_that_is_not_one_is_a_422_naming_the_field(org_a, overrides, why):
    response = org_a.api.put("/slots/V-3", slot_body(org_a, **overrides))
    problem = assert_problem(response, 422)
    assert "video_url" in response.get_data(as_text=True)
    assert why in str(problem)
    assert db.session.scalars(select(Slot)).all() == []


def test_a_new_link_on_a_booked_slot_rewrites_the_reminders_still_queued(org_a):
    put_beneficiary(org_a, "DOS-1")
    body = slot_body(org_a, mode="video", location=None)
    assert org_a.api.put("/slots/V-4", body).status_code == 201
    slot = db.session.scalars(select(Slot)).one()
    appointments.book(person_of(org_a, "DOS-1"), slot.id)
    db.session.commit()
    reminder = db.session.scalars(
        select(SmsMessage).where(SmsMessage.kind == SmsKind.REMINDER_DAY)
    ).one()
    assert LINK not in reminder.body and "vous envoie le lien" in reminder.body
    due = reminder.next_attempt_at

    assert org_a.api.put("/slots/V-4", {**body, "video_url": LINK}).status_code == 200
    db.session.expire_all()
    reminder = db.session.get(SmsMessage, reminder.id)
    assert LINK in reminder.body
    assert reminder.next_attempt_at == due and reminder.status is SmsStatus.QUEUED
    # The SMS that already went out are not touched.
    requested = db.session.scalars(
        select(SmsMessage).where(SmsMessage.kind == SmsKind.APPOINTMENT_REQUESTED)
    ).one()
    assert LINK not in requested.body


# -- The day's reminder ---------------------------------------------------------------


def _days_reminder_of_a_booking(video_url: str | None, sender: str | None = None) -> SmsMessage:
    organisation = make_organisation(department_code="29")
    organisation.sms_sender_name = sender
    person = make_beneficiary(organisation)
    slot = _video_slot(make_counsellor(organisation), timedelta(days=3), video_url)
    appointments.book(person, slot.id)
    db.session.commit()
    return db.session.scalars(
        select(SmsMessage).where(SmsMessage.kind == SmsKind.REMINDER_DAY)
    ).one()


@pytest.mark.parametrize(
    ("video_url", "said"),
    [(LINK, LINK), (None, "Votre conseiller vous appelle ou vous envoie le lien.")],
)
def test_the_days_reminder_carries_the_link_or_says_who_sends_it(app, video_url, said):
    assert said in _days_reminder_of_a_booking(video_url).body
    other_kinds = db.session.scalars(
        select(SmsMessage.body).where(SmsMessage.kind != SmsKind.REMINDER_DAY)
    ).all()
    assert all(LINK not in body for body in other_kinds)


# -- The person's pages ---------------------------------------------------------------


def test_the_link_shows_from_30_minutes_before_on_the_appointment_and_home(sign_in):
    person, appointment = _person_with(timedelta(minutes=25))
    browser = Browser(sign_in(person))
    detail = browser.get(f"/rendez-vous/{appointment.id}").get_data(as_text=True)
    assert f'href="{LINK.replace("&", "&amp;")}"' in detail
    assert "Rejoindre la vidéo" in detail
    home = browser.get("/accueil").get_data(as_text=True)
    assert "Rejoindre la vidéo" in home and LINK in home


def test_the_link_is_kept_back_until_30_minutes_before(sign_in):
    person, appointment = _person_with(timedelta(minutes=45))
    browser = Browser(sign_in(person))
    for page in (f"/rendez-vous/{appointment.id}", "/accueil"):
        text = browser.get(page).get_data(as_text=True)
        assert LINK not in text, page
        assert "affiche ici 30 minutes avant" in text, page


def test_the_link_goes_once_the_appointment_is_over(sign_in):
    person, appointment = _person_with(
        -timedelta(minutes=31), status=AppointmentStatus.CONFIRMED
    )  # 30 minutes long: ended a minute ago
    text = Browser(sign_in(person)).get(f"/rendez-vous/{appointment.id}").get_data(as_text=True)
    assert LINK not in text


def test_a_cancelled_appointment_never_shows_its_link(sign_in):
    person, appointment = _person_with(timedelta(minutes=10), status=AppointmentStatus.CANCELLED)
    text = Browser(sign_in(person)).get(f"/rendez-vous/{appointment.id}").get_data(as_text=True)
    assert LINK not in text


def test_a_video_slot_without_a_link_says_who_calls(sign_in):
    person, appointment = _person_with(timedelta(minutes=10), video_url=None)
    text = Browser(sign_in(person)).get(f"/rendez-vous/{appointment.id}").get_data(as_text=True)
    assert "votre conseiller vous appelle ou vous envoie le lien" in text
    assert "recevrez le lien par SMS" not in text


# -- The counsellor publishes it ------------------------------------------------------


def _publish(browser: Browser, **fields):
    start = date.today() + timedelta(days=(7 - date.today().weekday()) + 7)  # a Monday ahead
    return browser.submit(
        "/conseiller/creneaux",
        {
            "first_day": start.isoformat(),
            "time": "09:30",
            "duration_minutes": "45",
            "mode": "video",
            "location": "",
            "purpose": "follow_up",
            **fields,
        },
    )


def test_a_counsellor_publishes_a_video_slot_with_its_link(sign_in):
    counsellor = make_counsellor(make_organisation(department_code="29"))
    browser = Browser(sign_in(counsellor))
    assert _publish(browser, video_url=f"  {LINK} ").status_code == 302
    assert db.session.scalars(select(Slot.video_url)).one() == LINK
    page = browser.get("/conseiller/creneaux").get_data(as_text=True)
    assert "Lien de la vidéo" in page


def test_a_link_that_is_not_https_is_refused_and_what_was_typed_stays(sign_in):
    counsellor = make_counsellor(make_organisation(department_code="29"))
    response = _publish(Browser(sign_in(counsellor)), video_url="visio.example.org/salle")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "https://" in page and 'value="visio.example.org/salle"' in page
    assert db.session.scalars(select(Slot)).all() == []


def test_a_link_typed_for_a_phone_slot_is_not_kept(sign_in):
    counsellor = make_counsellor(make_organisation(department_code="29"))
    assert _publish(Browser(sign_in(counsellor)), mode="phone", video_url=LINK).status_code == 302
    assert db.session.scalars(select(Slot.video_url)).one() is None


def test_the_days_reminder_with_a_link_still_fits_two_sms(app):
    reminder = _days_reminder_of_a_booking(LINK, sender="Departement du Finistere")
    assert LINK in reminder.body
    assert is_gsm7(reminder.body) and segments(reminder.body) <= 2

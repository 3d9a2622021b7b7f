"""Collective sessions: seats, one place per person, the booking page and the counsellor's
session page (rules through the services, pages through HTTP)."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.appointments import services
from portal.appointments.models import Appointment, AppointmentStatus, Slot
from portal.core.clock import paris_today
from portal.extensions import db
from tests.conftest import Browser
from tests.factories import (
    make_appointment,
    make_beneficiary,
    make_counsellor,
    make_organisation,
    make_slot,
)

TITLE = "Réunion d'information : vos droits et devoirs"


@pytest.fixture
def setting(app):
    organisation = make_organisation(department_code="67")
    counsellor = make_counsellor(organisation, email="claire@example.org")
    session = make_slot(counsellor, capacity=3, title=TITLE)
    return organisation, counsellor, session


def test_each_person_takes_the_lowest_free_seat_until_none_is_left(setting):
    organisation, _counsellor, session = setting
    people = [make_beneficiary(organisation) for _ in range(4)]
    booked = [services.book(person, session.id) for person in people[:3]]
    db.session.commit()
    assert [a.seat for a in booked] == [1, 2, 3]
    assert {a.status for a in booked} == {AppointmentStatus.REQUESTED}
    assert session not in services.bookable_slots(people[3])
    with pytest.raises(services.AppointmentError) as refused:
        services.book(people[3], session.id)
    assert refused.value.code == "taken"
    db.session.rollback()
    # A cancellation frees its seat for the next person.
    services.cancel_by_beneficiary(booked[1])
    db.session.commit()
    assert services.book(people[3], session.id).seat == 2


def test_moving_to_a_session_takes_a_seat_of_it(setting):
    organisation, counsellor, session = setting
    make_appointment(session, make_beneficiary(organisation), seat=1)
    person = make_beneficiary(organisation)
    first = services.book(person, make_slot(counsellor, starts_in=timedelta(days=5)).id)
    db.session.commit()
    moved = services.reschedule(first, session.id)
    db.session.commit()
    assert (moved.slot_id, moved.seat, first.status) == (
        session.id,
        2,
        AppointmentStatus.CANCELLED,
    )


def test_a_person_books_a_session_once(setting):
    organisation, _counsellor, session = setting
    person = make_beneficiary(organisation)
    services.book(person, session.id)
    db.session.commit()
    assert session not in services.bookable_slots(person)
    with pytest.raises(services.AppointmentError) as refused:
        services.book(person, session.id)
    assert refused.value.code == "already_booked"


def test_the_database_refuses_a_shared_seat_and_a_second_place(setting):
    organisation, _counsellor, session = setting
    person = make_beneficiary(organisation)
    make_appointment(session, person, seat=1)
    for second in (
        lambda: Appointment(slot=session, beneficiary=make_beneficiary(organisation), seat=1),
        lambda: Appointment(slot=session, beneficiary=person, seat=2),
        lambda: Appointment(slot=session, beneficiary=make_beneficiary(organisation), seat=0),
    ):
        db.session.add(second())
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    make_appointment(session, make_beneficiary(organisation), seat=2)
    assert db.session.scalar(select(Slot.appointments_count).where(Slot.id == session.id)) == 2


@pytest.mark.parametrize("capacity", [0, 201])
def test_a_slot_has_1_to_200_seats(app, capacity):
    with pytest.raises(IntegrityError):
        make_slot(capacity=capacity)
    db.session.rollback()


def test_the_booking_page_shows_the_title_and_seats_left(setting, sign_in):
    organisation, _counsellor, session = setting
    make_appointment(session, make_beneficiary(organisation), seat=1)
    person = make_beneficiary(organisation)
    browser = Browser(sign_in(person))
    day = browser.get("/rendez-vous/nouveau").get_data(as_text=True)
    assert "Réunion d&#39;information : vos droits et devoirs" in day
    assert "2 places restantes" in day
    confirm = browser.get(f"/rendez-vous/creneaux/{session.id}").get_data(as_text=True)
    assert "vos droits et devoirs" in confirm and "2 places restantes" in confirm
    booked = browser.submit(f"/rendez-vous/creneaux/{session.id}", {})
    assert booked.status_code == 302 and booked.headers["Location"].endswith("?fait=1")
    # Again: the person is sent to the place they have, not given a second one.
    again = browser.get(f"/rendez-vous/creneaux/{session.id}")
    mine = db.session.scalars(select(Appointment).where(Appointment.beneficiary_id == person.id))
    assert again.headers["Location"] == f"/rendez-vous/{mine.one().id}"
    detail = browser.get(again.headers["Location"]).get_data(as_text=True)
    assert "Vous avez déjà une place à cette réunion." in detail


def test_the_last_seat_taken_a_moment_ago_is_said_plainly(setting, sign_in):
    organisation, _counsellor, session = setting
    person = make_beneficiary(organisation)
    browser = Browser(sign_in(person))
    page = browser.get(f"/rendez-vous/creneaux/{session.id}").get_data(as_text=True)
    assert "3 places restantes" in page
    for seat in (1, 2, 3):
        make_appointment(session, make_beneficiary(organisation), seat=seat)
    response = browser.submit(f"/rendez-vous/creneaux/{session.id}", {}, page="/rendez-vous/")
    assert response.headers["Location"].startswith("/rendez-vous/nouveau")
    assert "vient d&#39;être pris" in browser.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_a_counsellor_publishes_a_session_and_sees_its_seats(setting, sign_in):
    organisation, counsellor, session = setting
    make_appointment(session, make_beneficiary(organisation), seat=1)
    browser = Browser(sign_in(counsellor))
    start = date(paris_today().year + 1, 3, 1)  # a Tuesday in March: never a holiday
    start += timedelta(days=(1 - start.weekday()) % 7)
    response = browser.submit(
        "/conseiller/creneaux",
        {
            "first_day": start.isoformat(),
            "time": "14:00",
            "duration_minutes": "90",
            "mode": "in_person",
            "location": "2 rue du Travail, 67000 Strasbourg",
            "purpose": "orientation",
            "capacity": "12",
            "title": "  Atelier CV  ",
        },
    )
    assert response.status_code == 302
    published = db.session.scalars(select(Slot).where(Slot.title == "Atelier CV")).one()
    assert published.capacity == 12
    assert "1 place prise sur 3" in browser.get("/conseiller/creneaux").get_data(as_text=True)
    page = browser.get(f"/conseiller/creneaux?depuis={start}").get_data(as_text=True)
    assert "0 place prise sur 12" in page
    assert f'href="/conseiller/seances/{published.id}"' in page
    refused = browser.submit(
        "/conseiller/creneaux",
        {
            "first_day": start.isoformat(),
            "time": "09:00",
            "duration_minutes": "30",
            "mode": "phone",
            "purpose": "other",
            "capacity": "201",
        },
    )
    assert refused.status_code == 422 and "Entre 1 et 200 places." in refused.get_data(as_text=True)


def test_the_session_page_lists_followed_attendees_and_records_each_outcome(app, sign_in):
    organisation = make_organisation(department_code="67")
    counsellor = make_counsellor(organisation)
    session = make_slot(counsellor, starts_in=timedelta(hours=-1), capacity=5, title=TITLE)
    came = make_beneficiary(organisation, first_name="Amina", last_name="Benali")
    missed = make_beneficiary(organisation, first_name="Marc", last_name="Weber")
    elsewhere = make_beneficiary(make_organisation(), first_name="Zoé", last_name="Ailleurs")
    attended = make_appointment(session, came, seat=1, status=AppointmentStatus.CONFIRMED)
    make_appointment(session, missed, seat=2, status=AppointmentStatus.CONFIRMED)
    make_appointment(session, elsewhere, seat=3, status=AppointmentStatus.CONFIRMED)
    browser = Browser(sign_in(counsellor))
    url = f"/conseiller/seances/{session.id}"
    page = browser.get(url).get_data(as_text=True)
    assert "Amina Benali" in page and "Marc Weber" in page
    assert "Ailleurs" not in page  # not followed by this organisation
    assert "3 places prises sur 5" in page

    row = browser.submit(
        f"/conseiller/rendez-vous/{attended.id}/issue",
        {"depuis": "seance", "outcome": "attended"},
        page=url,
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert row.strip().startswith(f'<li class="card" id="seance-{attended.id}"')
    assert "Présence" in row and "Enregistré." in row
    plain = browser.submit(
        f"/conseiller/rendez-vous/{attended.id}/issue",
        {"depuis": "seance", "outcome": "no_show"},
        page=url,
    )
    assert plain.headers["Location"] == f"{url}#seance-{attended.id}"
    db.session.expire_all()
    assert db.session.get(Appointment, attended.id).status is AppointmentStatus.NO_SHOW

    other_staff = Browser(sign_in(make_counsellor(make_organisation())))
    assert other_staff.get(url).status_code == 404
    one_seat = make_slot(counsellor)
    assert browser.get(f"/conseiller/seances/{one_seat.id}").status_code == 404


def test_the_agenda_shows_a_session_once_with_its_seats(app, sign_in):
    organisation = make_organisation(department_code="67")
    counsellor = make_counsellor(organisation)
    session = make_slot(counsellor, capacity=4, title=TITLE)
    for seat in (1, 2):
        make_appointment(session, make_beneficiary(organisation), seat=seat)
    day = session.starts_at.date().isoformat()
    page = Browser(sign_in(counsellor)).get(f"/conseiller/agenda?semaine={day}")
    text = page.get_data(as_text=True)
    assert text.count(f'id="agenda-seance-{session.id}"') == 1
    assert "2 places prises sur 4" in text
    assert f'href="/conseiller/seances/{session.id}"' in text

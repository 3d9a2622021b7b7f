"""The week's agenda in columns and the slots page: what they show and what they say."""

import re
from datetime import date, time, timedelta

from sqlalchemy import select

from portal.appointments.models import AppointmentStatus, Slot, SlotMode
from portal.core.clock import paris_moment, paris_today
from portal.core.phones import display_phone
from portal.extensions import db
from tests.conftest import Browser
from tests.factories import (
    make_appointment,
    make_beneficiary,
    make_counsellor,
    make_organisation,
    make_slot,
)


def _monday(weeks_ahead: int) -> date:
    today = paris_today()
    return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)


def _at(day: date, hour: int) -> dict:
    """make_slot's start at a Paris wall-clock time that day."""
    return {"starts_at": paris_moment(day, time(hour, 0))}


def _columns(page: str) -> list[str]:
    return page.split('<section class="week-day')[1:]


def test_the_week_is_a_column_a_day_with_links_numbers_and_outcomes(sign_in):
    organisation = make_organisation(department_code="29")
    counsellor = make_counsellor(organisation)
    colleague = make_counsellor(organisation)
    person = make_beneficiary(organisation, first_name="Élodie", last_name="Kerbrat")
    monday = _monday(2)
    phone = make_appointment(
        make_slot(counsellor, mode=SlotMode.PHONE, location=None, **_at(monday, 9)),
        person,
        status=AppointmentStatus.CONFIRMED,
    )
    video = make_appointment(
        make_slot(
            counsellor,
            mode=SlotMode.VIDEO,
            location=None,
            video_url="https://visio.example.org/salle-12",
            **_at(monday + timedelta(days=2), 14),
        ),
        person,
    )
    theirs = make_appointment(
        make_slot(colleague, **_at(monday + timedelta(days=1), 11)),
        make_beneficiary(organisation, last_name="Collègue"),
    )
    client = sign_in(counsellor)
    page = client.get(f"/conseiller/agenda?semaine={monday.isoformat()}").get_data(as_text=True)
    columns = _columns(page)
    assert len(columns) == 5 and 'class="week week-5"' in page  # Monday to Friday
    assert f'id="agenda-{phone.id}"' in columns[0]
    assert f'id="agenda-{video.id}"' in columns[2]
    assert f'href="/conseiller/personnes/{person.id}">Élodie Kerbrat</a>' in columns[0]
    assert f'href="tel:{person.phone}"' in columns[0] and display_phone(person.phone) in page
    assert 'href="https://visio.example.org/salle-12"' in columns[2]
    assert "Collègue" not in page  # mine by default
    everyone = client.get(f"/conseiller/agenda?semaine={monday.isoformat()}&qui=organisation")
    columns = _columns(everyone.get_data(as_text=True))
    assert f'id="agenda-{theirs.id}"' in columns[1] and "Collègue" in columns[1]
    # The week's links keep the choice.
    assert "qui=organisation" in everyone.get_data(as_text=True).split("Semaine suivante")[0]


def test_a_recorded_outcome_replaces_the_form_and_can_be_corrected(sign_in):
    organisation = make_organisation(department_code="29")
    counsellor = make_counsellor(organisation)
    person = make_beneficiary(organisation)
    past = make_appointment(
        make_slot(counsellor, starts_in=timedelta(hours=-1)),
        person,
        status=AppointmentStatus.CONFIRMED,
    )
    browser = Browser(sign_in(counsellor))
    row = browser.submit(
        f"/conseiller/rendez-vous/{past.id}/issue",
        {"depuis": "agenda", "outcome": "attended"},
        page="/conseiller/agenda",
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert row.strip().startswith(f'<li class="agenda-item agenda-attended" id="agenda-{past.id}"')
    assert "Présence" in row and "Enregistré." in row
    assert "<details>" in row and "Corriger" in row  # the form folds away
    page = browser.get("/conseiller/agenda").get_data(as_text=True)
    item = page.split(f'id="agenda-{past.id}"')[1].split("</li>")[0]
    assert '<span class="status">Présence</span>' in item
    assert re.search(r'value="attended" id="issue-\d+-attended" checked', item)
    # Corrected from the organisation's agenda: the row keeps saying whose it is.
    corrected = browser.submit(
        f"/conseiller/rendez-vous/{past.id}/issue",
        {"depuis": "agenda", "qui": "organisation", "outcome": "excused"},
        page="/conseiller/agenda?qui=organisation",
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert "Absence excusée" in corrected and "avec Claire Muller" in corrected


def _next_march_mondays() -> tuple[date, date]:
    """Two Mondays a week apart in March of next year: no holiday, one month."""
    first = date(paris_today().year + 1, 3, 1)
    first += timedelta(days=(7 - first.weekday()) % 7)
    return first, first + timedelta(days=7)


SERIES = {
    "time": "09:00",
    "until_time": "10:30",
    "duration_minutes": "30",
    "mode": "phone",
    "location": "",
    "purpose": "follow_up",
}


def test_publishing_says_how_many_moments_and_when_in_french_and_english(sign_in):
    counsellor = make_counsellor(make_organisation(department_code="29"))
    browser = Browser(sign_in(counsellor))
    first, second = _next_march_mondays()
    series = {**SERIES, "first_day": first.isoformat(), "repeat_until": second.isoformat()}
    response = browser.submit("/conseiller/creneaux", series)
    assert response.status_code == 302
    page = browser.get("/conseiller/creneaux").get_data(as_text=True)
    assert (
        f"6 moments publiés : lundi {first.day} au lundi {second.day} mars, 09:00–10:30."
    ) in page
    starts = db.session.scalars(select(Slot.starts_at).order_by(Slot.starts_at)).all()
    assert len(starts) == 6
    one = {**SERIES, "first_day": first.isoformat(), "until_time": "", "repeat_until": ""}
    one["time"] = "14:00"
    english = {"Accept-Language": "en"}
    response = browser.submit("/conseiller/creneaux", one, headers=english)
    page = browser.get("/conseiller/creneaux", headers=english).get_data(as_text=True)
    assert f"1 slot published: Monday {first.day} March, 14:00–14:30." in page


def test_an_end_time_with_no_room_is_refused_next_to_the_field(sign_in):
    counsellor = make_counsellor(make_organisation(department_code="29"))
    browser = Browser(sign_in(counsellor))
    first, _second = _next_march_mondays()
    response = browser.submit(
        "/conseiller/creneaux",
        {**SERIES, "first_day": first.isoformat(), "until_time": "09:15", "repeat_until": ""},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="until_time-error"' in page and "au moins un moment" in page
    assert 'value="09:15"' in page
    assert db.session.scalars(select(Slot)).all() == []


def test_the_slots_to_come_by_week_with_who_booked_them_four_weeks_a_page(sign_in):
    organisation = make_organisation(department_code="29")
    counsellor = make_counsellor(organisation)
    person = make_beneficiary(organisation, first_name="Élodie", last_name="Kerbrat")
    booked = make_slot(counsellor, **_at(_monday(1) + timedelta(days=1), 10))
    make_appointment(booked, person, status=AppointmentStatus.CONFIRMED)
    free = make_slot(counsellor, **_at(_monday(2) + timedelta(days=3), 15))
    later = make_slot(counsellor, **_at(_monday(6) + timedelta(days=1), 9))
    someone_elses = make_slot(make_counsellor(organisation), **_at(_monday(1), 10))
    client = sign_in(counsellor)
    page = client.get("/conseiller/creneaux").get_data(as_text=True)
    weeks = page.split('<section aria-labelledby="semaine-')[1:]
    assert len(weeks) == 2
    assert f'href="/conseiller/personnes/{person.id}">Élodie Kerbrat</a>' in weeks[0]
    assert f"/conseiller/creneaux/{booked.id}/retirer" not in page  # booked: cancel first
    assert f"/conseiller/creneaux/{free.id}/retirer" in weeks[1] and "Libre" in weeks[1]
    assert f"/conseiller/creneaux/{later.id}/retirer" not in page
    assert f"/conseiller/creneaux/{someone_elses.id}/" not in page
    next_weeks = re.search(r'href="(/conseiller/creneaux\?depuis=[\d-]+)"', page).group(1)
    assert f"/conseiller/creneaux/{later.id}/retirer" in client.get(next_weeks).get_data(
        as_text=True
    )

"""The booking page offers what fits the person: first appointments before orientation,
follow-ups after; one day at a time, by purpose and in time order; filtered by mode."""

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import event

from portal.appointments import services
from portal.appointments.models import AppointmentStatus, SlotMode, SlotPurpose
from portal.core.clock import paris_day, paris_moment, paris_today
from portal.extensions import db
from portal.pathway.models import StepKind, StepStatus
from tests.conftest import Browser
from tests.factories import (
    make_appointment,
    make_beneficiary,
    make_counsellor,
    make_organisation,
    make_slot,
    make_step,
)

ALL_PURPOSES = list(SlotPurpose)


def _at(days_ahead: int, hour: int, minute: int = 0) -> datetime:
    return paris_moment(paris_today() + timedelta(days=days_ahead), time(hour, minute))


@pytest.fixture
def organisation(app):
    return make_organisation(department_code="29")


@pytest.fixture
def counsellor(organisation):
    return make_counsellor(organisation, email="claire@example.org")


def _new_comer(organisation):
    """A person no organisation has oriented yet: no référent named."""
    person = make_beneficiary(organisation)
    person.follow_ups[0].referent_name = person.follow_ups[0].referent_email = None
    db.session.commit()
    return person


def _one_slot_per_purpose(counsellor, **fields):
    return {
        purpose: make_slot(
            counsellor, starts_in=timedelta(days=3, hours=n), purpose=purpose, **fields
        )
        for n, purpose in enumerate(ALL_PURPOSES)
    }


def _purposes(person) -> set[SlotPurpose]:
    return {slot.purpose for slot in services.bookable_slots(person)}


def test_a_person_not_oriented_yet_is_offered_first_appointments_and_meetings(
    organisation, counsellor
):
    person = _new_comer(organisation)
    slots = _one_slot_per_purpose(counsellor)
    assert not services.is_oriented(person)
    assert _purposes(person) == {SlotPurpose.ORIENTATION, SlotPurpose.OTHER}
    # A follow-up slot is not theirs to book, even by its address.
    assert services.bookable_slot(person, slots[SlotPurpose.FOLLOW_UP].id) is None
    with pytest.raises(services.AppointmentError):
        services.book(person, slots[SlotPurpose.FOLLOW_UP].id)


def test_an_oriented_person_is_offered_follow_ups_the_contract_and_meetings(
    organisation, counsellor
):
    person = make_beneficiary(organisation)  # a référent is named: oriented
    slots = _one_slot_per_purpose(counsellor)
    assert services.is_oriented(person)
    assert _purposes(person) == {SlotPurpose.FOLLOW_UP, SlotPurpose.CONTRACT, SlotPurpose.OTHER}
    assert services.bookable_slot(person, slots[SlotPurpose.ORIENTATION].id) is None


def test_a_done_orientation_step_orients_a_person_a_planned_one_does_not(organisation, counsellor):
    person = _new_comer(organisation)
    step = make_step(person, organisation, kind=StepKind.ORIENTATION, status=StepStatus.PLANNED)
    assert not services.is_oriented(person)
    step.status = StepStatus.DONE
    db.session.commit()
    assert services.is_oriented(person)


def test_an_attended_orientation_appointment_orients_a_person(organisation, counsellor):
    person = _new_comer(organisation)
    past = make_slot(counsellor, starts_in=timedelta(days=-2), purpose=SlotPurpose.ORIENTATION)
    appointment = make_appointment(past, person, status=AppointmentStatus.NO_SHOW)
    assert not services.is_oriented(person)
    appointment.status = AppointmentStatus.ATTENDED
    db.session.commit()
    assert services.is_oriented(person)


def test_a_slot_reserved_for_the_person_is_always_shown(organisation, counsellor):
    person = _new_comer(organisation)
    reserved = make_slot(counsellor, purpose=SlotPurpose.FOLLOW_UP, reserved_for=person)
    assert [slot.id for slot in services.bookable_slots(person)] == [reserved.id]
    assert services.bookable_slot(person, reserved.id) is reserved


def test_the_days_are_counted_and_one_day_is_read_alone(organisation, counsellor):
    person = make_beneficiary(organisation)
    first = make_slot(counsellor, starts_at=_at(3, 9), mode=SlotMode.PHONE, location=None)
    make_slot(counsellor, starts_at=_at(3, 14))
    other_day = make_slot(counsellor, starts_at=_at(5, 10))
    days = services.bookable_days(person)
    assert days.counts == {paris_day(first.starts_at): 2, paris_day(other_day.starts_at): 1}
    assert days.modes == {SlotMode.PHONE, SlotMode.IN_PERSON}
    by_phone = services.bookable_days(person, SlotMode.PHONE)
    assert by_phone.counts == {paris_day(first.starts_at): 1}
    assert by_phone.modes == days.modes  # the filter still offers every mode
    one_day = services.bookable_slots(person, day=paris_day(other_day.starts_at))
    assert [slot.id for slot in one_day] == [other_day.id]


def _statements(run) -> list[str]:
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


def test_the_page_reads_one_days_slots_and_never_the_whole_history(
    organisation, counsellor, sign_in
):
    person = make_beneficiary(organisation)
    for days_ahead in (3, 4, 5):
        make_slot(counsellor, starts_at=_at(days_ahead, 10))
    client = sign_in(person)
    statements = _statements(lambda: client.get("/rendez-vous/nouveau").close())
    slot_reads = [s for s in statements if "FROM slot" in s and "appointment" in s.lower()]
    assert slot_reads, statements
    assert not any("NOT IN" in s.upper() for s in slot_reads)
    assert all("NOT (EXISTS" in s or "NOT EXISTS" in s for s in slot_reads)
    page = client.get("/rendez-vous/nouveau").get_data(as_text=True)
    assert page.count("Choisir ce moment") == 1  # the first day's only


def test_within_a_day_slots_are_grouped_by_purpose_in_time_order_the_referent_marked(
    organisation, counsellor, sign_in
):
    person = make_beneficiary(organisation)
    person.follow_ups[0].referent_email = "claire@example.org"
    db.session.commit()
    colleague = make_counsellor(organisation, email="karim@example.org")
    colleague.name = "Karim Benali"
    db.session.commit()
    late = make_slot(colleague, starts_at=_at(3, 15, 30))
    early = make_slot(colleague, starts_at=_at(3, 9))
    referents = make_slot(counsellor, starts_at=_at(3, 11))
    meeting = make_slot(colleague, starts_at=_at(3, 8), purpose=SlotPurpose.OTHER)
    page = Browser(sign_in(person)).get("/rendez-vous/nouveau").get_data(as_text=True)
    positions = [
        page.index(f"/rendez-vous/creneaux/{slot.id}") for slot in (early, referents, late)
    ]
    assert positions == sorted(positions)  # time order, the référent's not first
    assert page.index("Rendez-vous de suivi") < positions[0]
    assert page.index("Réunion d'information") > positions[-1]  # after the follow-ups
    assert page.index(f"/rendez-vous/creneaux/{meeting.id}") > page.index("Réunion d'information")
    assert page.count("Votre référent") == 1
    card = page[page.index("Votre référent") - 300 : page.index("Votre référent")]
    assert "Claire Muller" in card
    assert "Premier rendez-vous pour choisir" not in page


def test_the_mode_filter_works_without_javascript_and_keeps_the_day_and_the_move(
    organisation, counsellor, sign_in
):
    person = make_beneficiary(organisation)
    moving = make_appointment(make_slot(counsellor, starts_at=_at(2, 10)), person)
    in_person = make_slot(counsellor, starts_at=_at(4, 9))
    by_phone = make_slot(counsellor, starts_at=_at(4, 10), mode=SlotMode.PHONE, location=None)
    by_video = make_slot(counsellor, starts_at=_at(6, 10), mode=SlotMode.VIDEO, location=None)
    day = paris_day(in_person.starts_at).isoformat()
    browser = Browser(sign_in(person))
    page = browser.get(f"/rendez-vous/nouveau?jour={day}&deplacer={moving.id}").get_data(
        as_text=True
    )
    link = f"/rendez-vous/nouveau?mode=telephone&amp;jour={day}&amp;deplacer={moving.id}"
    assert f'href="{link}"' in page
    assert "Par téléphone" in page and "En vidéo" in page
    filtered = browser.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert f"/rendez-vous/creneaux/{by_phone.id}?deplacer={moving.id}" in filtered
    assert f"/rendez-vous/creneaux/{in_person.id}" not in filtered
    assert f"/rendez-vous/creneaux/{by_video.id}" not in filtered
    # The day chips keep the mode; only days with a phone slot are left.
    assert f"mode=telephone&amp;deplacer={moving.id}" in filtered
    assert paris_day(by_video.starts_at).isoformat() not in filtered
    # An unknown mode is no filter.
    everything = browser.get(f"/rendez-vous/nouveau?mode=pigeon&jour={day}").get_data(as_text=True)
    assert f"/rendez-vous/creneaux/{in_person.id}" in everything


def test_a_mode_without_slots_says_so_and_offers_all_of_them(organisation, counsellor, sign_in):
    person = make_beneficiary(organisation)
    make_slot(counsellor, starts_at=_at(4, 9))
    make_slot(counsellor, starts_at=_at(4, 10), mode=SlotMode.PHONE, location=None)
    page = Browser(sign_in(person)).get("/rendez-vous/nouveau?mode=video").get_data(as_text=True)
    assert "pas de moment libre de cette façon" in page
    assert 'href="/rendez-vous/nouveau"' in page

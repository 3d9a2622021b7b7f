"""Booking, moving and cancelling: the rules, through the services the pages and API share."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from portal.appointments import services
from portal.appointments.models import Appointment, AppointmentStatus, SlotMode, SlotPurpose
from portal.beneficiaries.models import FollowUp
from portal.core.clock import utcnow
from portal.events.models import Event
from portal.extensions import db
from portal.pathway.models import PathwayStep, StepSource, StepStatus
from portal.sms.models import SmsKind, SmsMessage
from tests.conftest import Browser
from tests.factories import (
    make_appointment,
    make_beneficiary,
    make_counsellor,
    make_organisation,
    make_slot,
)


def _events(type_: str) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.type == type_)))


def _sms(kind: SmsKind) -> list[SmsMessage]:
    return list(db.session.scalars(select(SmsMessage).where(SmsMessage.kind == kind)))


@pytest.fixture
def setting(app):
    organisation = make_organisation(department_code="67")
    counsellor = make_counsellor(organisation, email="claire@example.org")
    person = make_beneficiary(organisation, first_name="Amina")
    return organisation, counsellor, person


def test_booking_makes_a_requested_appointment_with_its_event_step_and_sms(setting):
    _organisation, counsellor, person = setting
    slot = make_slot(counsellor)
    appointment = services.book(person, slot.id)
    db.session.commit()
    assert appointment.status is AppointmentStatus.REQUESTED
    [event] = _events("appointment.requested")
    assert event.data["appointment_id"] == appointment.id
    step = db.session.scalars(select(PathwayStep)).one()
    assert (step.source, step.status, step.appointment_id) == (
        StepSource.PORTAL,
        StepStatus.PLANNED,
        appointment.id,
    )
    assert len(_sms(SmsKind.APPOINTMENT_REQUESTED)) == 1


def test_no_sms_for_a_person_who_said_no(setting):
    _organisation, counsellor, person = setting
    person.sms_consent = False
    db.session.commit()
    services.book(person, make_slot(counsellor).id)
    db.session.commit()
    assert _sms(SmsKind.APPOINTMENT_REQUESTED) == []


def test_a_slot_already_taken_is_refused(setting):
    organisation, counsellor, person = setting
    slot = make_slot(counsellor)
    make_appointment(slot, make_beneficiary(organisation))
    with pytest.raises(services.AppointmentError) as error:
        services.book(person, slot.id)
    assert error.value.code == "taken"


def test_only_slots_of_organisations_that_follow_the_person_and_not_reserved_for_others(setting):
    organisation, counsellor, person = setting
    elsewhere = make_slot(make_counsellor(make_organisation()))
    mine = make_slot(counsellor, starts_in=timedelta(days=3))
    reserved_for_me = make_slot(counsellor, starts_in=timedelta(days=4), reserved_for=person)
    reserved_for_other = make_slot(
        counsellor, starts_in=timedelta(days=1), reserved_for=make_beneficiary(organisation)
    )
    too_soon = make_slot(counsellor, starts_in=timedelta(minutes=30))
    withdrawn = make_slot(counsellor, starts_in=timedelta(days=2), withdrawn_at=utcnow())
    ids = [slot.id for slot in services.bookable_slots(person)]
    assert ids == [mine.id, reserved_for_me.id]
    for refused in (elsewhere, reserved_for_other, too_soon, withdrawn):
        assert refused.id not in ids


def test_slots_come_in_time_order_the_referents_among_the_others(setting):
    organisation, counsellor, person = setting
    colleague = make_counsellor(organisation, email="karim@example.org")
    person.follow_ups[0].referent_email = "karim@example.org"
    db.session.commit()
    early = make_slot(counsellor, starts_in=timedelta(days=1))
    referents = make_slot(colleague, starts_in=timedelta(days=5))
    assert [s.id for s in services.bookable_slots(person)] == [early.id, referents.id]


def test_cancelling_is_possible_until_the_organisations_limit(setting):
    organisation, counsellor, person = setting
    slot = make_slot(counsellor, starts_in=timedelta(hours=5))
    appointment = make_appointment(slot, person)
    three_hours_before = slot.starts_at - timedelta(hours=3)
    ninety_minutes_before = slot.starts_at - timedelta(minutes=90)
    assert services.may_change(appointment, three_hours_before)
    assert not services.may_change(appointment, ninety_minutes_before)
    organisation.cancellation_limit_minutes = 60
    db.session.commit()
    assert services.may_change(appointment, ninety_minutes_before)
    with pytest.raises(services.AppointmentError):
        services.cancel_by_beneficiary(appointment, slot.starts_at - timedelta(minutes=30))
    services.cancel_by_beneficiary(appointment, three_hours_before)
    db.session.commit()
    assert appointment.status is AppointmentStatus.CANCELLED
    assert len(_events("appointment.cancelled")) == 1
    assert len(_sms(SmsKind.APPOINTMENT_CANCELLED)) == 1


def test_rescheduling_moves_in_one_transaction_and_one_event(setting):
    _organisation, counsellor, person = setting
    old_slot = make_slot(counsellor, starts_in=timedelta(days=2))
    new_slot = make_slot(counsellor, starts_in=timedelta(days=3))
    appointment = services.book(person, old_slot.id)
    db.session.commit()
    moved = services.reschedule(appointment, new_slot.id)
    db.session.commit()
    assert moved.slot_id == new_slot.id and moved.status is AppointmentStatus.REQUESTED
    assert appointment.status is AppointmentStatus.CANCELLED
    assert appointment.rescheduled_to_id == moved.id
    [event] = _events("appointment.rescheduled")
    assert event.data["old_slot_external_id"] == old_slot.external_id
    assert event.data["new_slot_external_id"] == new_slot.external_id
    assert _events("appointment.cancelled") == []
    # The old slot is free again; the pathway step follows the new appointment.
    assert old_slot.id in [s.id for s in services.bookable_slots(make_beneficiary(_organisation))]
    step = db.session.scalars(select(PathwayStep)).one()
    assert step.appointment_id == moved.id


def test_a_failed_move_leaves_the_old_appointment_as_it_was(setting):
    organisation, counsellor, person = setting
    old_slot = make_slot(counsellor, starts_in=timedelta(days=2))
    new_slot = make_slot(counsellor, starts_in=timedelta(days=3))
    appointment = services.book(person, old_slot.id)
    db.session.commit()
    # Someone takes the new slot between the page and the click: the database refuses.
    db.session.add(Appointment(slot=new_slot, beneficiary=make_beneficiary(organisation)))
    db.session.commit()
    with pytest.raises(services.AppointmentError):
        services.reschedule(appointment, new_slot.id)
    db.session.rollback()
    db.session.refresh(appointment)
    assert appointment.status is AppointmentStatus.REQUESTED
    assert appointment.slot_id == old_slot.id
    assert _events("appointment.rescheduled") == []


def test_the_database_refuses_a_second_booking_the_check_did_not_see(setting):
    organisation, counsellor, person = setting
    slot = make_slot(counsellor)
    # The slot looked free when the page was built; another person books it meanwhile.
    bookable = services.bookable_slot(person, slot.id)
    assert bookable is not None
    db.session.add(Appointment(slot=slot, beneficiary=make_beneficiary(organisation)))
    db.session.add(Appointment(slot=slot, beneficiary=person))
    with pytest.raises(Exception):  # noqa: B017 - IntegrityError, whatever the driver's class
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize(
    ("status", "target", "after_start", "allowed"),
    [
        ("requested", "confirmed", False, True),
        ("requested", "declined", False, True),
        ("confirmed", "declined", False, False),
        ("requested", "attended", False, False),
        ("confirmed", "attended", True, True),
        ("confirmed", "no_show", True, True),
        ("requested", "excused", True, True),
        ("attended", "no_show", True, True),
        ("cancelled", "confirmed", False, False),
        ("cancelled", "attended", True, False),
        ("declined", "confirmed", False, False),
    ],
)
def test_every_transition(setting, status, target, after_start, allowed):
    _organisation, counsellor, person = setting
    starts_in = timedelta(hours=-1) if after_start else timedelta(days=1)
    appointment = make_appointment(
        make_slot(counsellor, starts_in=starts_in), person, status=AppointmentStatus(status)
    )
    if allowed:
        assert services.set_status(appointment, AppointmentStatus(target), "r", by="counsellor")
        db.session.commit()
        assert appointment.status.value == target
        assert len(_events(f"appointment.{target}")) == 1
    else:
        with pytest.raises(services.AppointmentError):
            services.set_status(appointment, AppointmentStatus(target), "r", by="counsellor")


def test_confirm_and_decline_tell_the_person_by_sms(setting):
    organisation, counsellor, person = setting
    first = make_appointment(make_slot(counsellor), person)
    second = make_appointment(make_slot(counsellor, starts_in=timedelta(days=3)), person)
    services.set_status(first, AppointmentStatus.CONFIRMED, None, by="counsellor")
    services.set_status(second, AppointmentStatus.DECLINED, "Je suis absente", by="counsellor")
    db.session.commit()
    assert len(_sms(SmsKind.APPOINTMENT_CONFIRMED)) == 1
    [declined] = _sms(SmsKind.APPOINTMENT_DECLINED)
    assert "Je suis absente" in declined.body
    assert "RSA" not in declined.body


def test_an_appointment_outcome_moves_its_step(setting):
    _organisation, counsellor, person = setting
    appointment = services.book(person, make_slot(counsellor).id)
    db.session.commit()
    appointment.slot.starts_at = utcnow() - timedelta(hours=1)
    services.set_status(appointment, AppointmentStatus.ATTENDED, None, by="counsellor")
    db.session.commit()
    assert db.session.scalars(select(PathwayStep.status)).one() is StepStatus.DONE


@pytest.mark.parametrize(
    ("department", "day", "refused"),
    [
        ("67", date(2027, 3, 26), True),  # Good Friday, Alsace-Moselle
        ("67", date(2026, 12, 26), True),  # Saint-Étienne, Alsace-Moselle
        ("29", date(2027, 3, 26), False),
        ("29", date(2026, 12, 26), False),
        ("29", date(2026, 12, 25), True),
        ("974", date(2026, 12, 20), True),  # Abolition of slavery, La Réunion
    ],
)
def test_no_slot_on_a_public_holiday_of_the_department(app, department, day, refused):
    counsellor = make_counsellor(make_organisation(department_code=department))
    publish = lambda: services.publish_slots(  # noqa: E731
        counsellor, day, time(10, 0), 30, SlotMode.PHONE, None, SlotPurpose.FOLLOW_UP
    )
    if refused:
        with pytest.raises(services.AppointmentError) as error:
            publish()
        assert error.value.code == "holiday"
    else:
        assert len(publish()) == 1


def test_a_weekly_series_skips_nothing_and_stops_at_a_holiday(app):
    counsellor = make_counsellor(make_organisation(department_code="29"))
    slots = services.publish_slots(
        counsellor,
        date(2027, 1, 4),
        time(9, 30),
        45,
        SlotMode.IN_PERSON,
        "1 rue X",
        SlotPurpose.FOLLOW_UP,
        repeat_until=date(2027, 2, 1),
    )
    assert [s.starts_at.date() for s in slots] == [date(2027, 1, d) for d in (4, 11, 18, 25)] + [
        date(2027, 2, 1)
    ]
    assert all(s.starts_at.hour == 8 for s in slots)  # 09:30 in Paris in winter is 08:30 UTC
    with pytest.raises(services.AppointmentError):
        services.publish_slots(
            counsellor,
            date(2027, 12, 11),
            time(9, 30),
            45,
            SlotMode.PHONE,
            None,
            SlotPurpose.FOLLOW_UP,
            repeat_until=date(2028, 1, 1),
        )  # reaches 25 December


def test_a_time_the_clocks_skip_does_not_exist(app):
    counsellor = make_counsellor(make_organisation(department_code="29"))
    # 2027-03-28 is the last Sunday of March: 02:00 jumps to 03:00 in Paris.
    with pytest.raises(services.AppointmentError) as error:
        services.local_start(date(2027, 3, 28), time(2, 30))
    assert error.value.code == "no_such_time"
    assert services.local_start(date(2027, 3, 28), time(3, 30)) == datetime(
        2027, 3, 28, 1, 30, tzinfo=UTC
    )
    # In October, 02:30 happens twice: the first one (summer time) is taken.
    assert services.local_start(date(2027, 10, 31), time(2, 30)) == datetime(
        2027, 10, 31, 0, 30, tzinfo=UTC
    )
    assert counsellor is not None


def test_the_calendar_file_has_the_place_and_an_alarm(setting):
    _organisation, counsellor, person = setting
    appointment = make_appointment(make_slot(counsellor), person)
    calendar = Calendar.from_ical(services.calendar_file(appointment, "RDV", "Bientôt"))
    [event] = calendar.walk("VEVENT")
    assert event["LOCATION"] == appointment.slot.location
    assert event.decoded("DTSTART") == appointment.slot.starts_at
    [alarm] = event.walk("VALARM")
    assert alarm.decoded("TRIGGER") == timedelta(hours=-1)


def test_follow_up_of_another_organisation_does_not_open_its_slots(setting):
    organisation, counsellor, person = setting
    other = make_organisation()
    db.session.add(FollowUp(organisation=other, beneficiary=person, external_id="X-1"))
    db.session.commit()
    theirs = make_slot(make_counsellor(other))
    assert theirs.id in [s.id for s in services.bookable_slots(person)]


def test_a_person_holds_at_most_three_appointments_to_come(setting):
    """One account cannot take every slot, nor queue SMS without end."""
    _organisation, counsellor, person = setting
    slots = [make_slot(counsellor, starts_in=timedelta(days=3, hours=n)) for n in range(5)]
    for slot in slots[:3]:
        services.book(person, slot.id)
        db.session.commit()
    sms_before = db.session.scalar(select(func.count()).select_from(SmsMessage))
    with pytest.raises(services.AppointmentError) as refused:
        services.book(person, slots[3].id)
    assert refused.value.code == "too_many"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(SmsMessage)) == sms_before
    # Cancelling one makes room again.
    services.cancel_by_beneficiary(services.upcoming(person)[0])
    db.session.commit()
    services.book(person, slots[3].id)
    db.session.commit()
    assert len(services.upcoming(person)) == 3


def test_the_booking_page_says_why_a_fourth_is_refused(setting, sign_in):
    _organisation, counsellor, person = setting
    for n in range(3):
        services.book(person, make_slot(counsellor, starts_in=timedelta(days=3, hours=n)).id)
    db.session.commit()
    slot = make_slot(counsellor, starts_in=timedelta(days=4))
    client = Browser(sign_in(person))
    response = client.submit(f"/rendez-vous/creneaux/{slot.id}", {})
    assert response.headers["Location"] == "/rendez-vous/"
    assert "déjà 3 rendez-vous à venir" in client.get("/rendez-vous/").get_data(as_text=True)


# -- Never two appointments at once ------------------------------------------------------------


def test_a_slot_at_the_same_hour_with_another_counsellor_is_refused_and_named(setting):
    """A missed appointment can cost a sanction: the person never holds two at once."""
    organisation, counsellor, person = setting
    other_counsellor = make_counsellor(organisation)
    first = services.book(person, make_slot(counsellor, starts_in=timedelta(days=3)).id)
    db.session.commit()
    overlapping = make_slot(
        other_counsellor,
        starts_in=timedelta(days=3, minutes=15),
        mode=SlotMode.VIDEO,
        location=None,
    )
    with pytest.raises(services.AppointmentError) as refused:
        services.book(person, overlapping.id)
    assert (refused.value.code, refused.value.other) == ("clash", first)
    db.session.rollback()
    assert len(services.upcoming(person)) == 1


def test_back_to_back_appointments_do_not_clash(setting):
    _organisation, counsellor, person = setting
    first = make_slot(counsellor, starts_in=timedelta(days=3))  # 30 minutes long
    services.book(person, first.id)
    services.book(person, make_slot(counsellor, starts_in=timedelta(days=3, minutes=30)).id)
    db.session.commit()
    assert len(services.upcoming(person)) == 2


def test_a_long_appointment_clashes_with_one_starting_inside_it(setting):
    _organisation, counsellor, person = setting
    services.book(
        person, make_slot(counsellor, starts_in=timedelta(days=3), duration_minutes=240).id
    )
    inside = make_slot(counsellor, starts_in=timedelta(days=3, hours=3, minutes=50))
    with pytest.raises(services.AppointmentError) as refused:
        services.book(person, inside.id)
    assert refused.value.code == "clash"


def test_a_cancelled_or_declined_appointment_leaves_its_time_free(setting):
    _organisation, counsellor, person = setting
    first = services.book(person, make_slot(counsellor, starts_in=timedelta(days=3)).id)
    services.cancel_by_beneficiary(first)
    db.session.commit()
    services.book(person, make_slot(counsellor, starts_in=timedelta(days=3, minutes=10)).id)
    db.session.commit()
    assert len(services.upcoming(person)) == 1


def test_moving_onto_the_hour_of_another_appointment_is_refused(setting):
    """The case seen on the demo: Wednesday 10:00 pending, Thursday moved onto Wednesday."""
    organisation, counsellor, person = setting
    wednesday = services.book(person, make_slot(counsellor, starts_in=timedelta(days=3)).id)
    thursday = services.book(person, make_slot(counsellor, starts_in=timedelta(days=4)).id)
    db.session.commit()
    elsewhere = make_slot(make_counsellor(organisation), starts_in=timedelta(days=3))
    with pytest.raises(services.AppointmentError) as refused:
        services.reschedule(thursday, elsewhere.id)
    assert (refused.value.code, refused.value.other) == ("clash", wednesday)
    db.session.rollback()
    assert thursday.status is AppointmentStatus.REQUESTED


def test_moving_an_appointment_to_a_time_that_overlaps_only_itself_is_allowed(setting):
    _organisation, counsellor, person = setting
    appointment = services.book(person, make_slot(counsellor, starts_in=timedelta(days=3)).id)
    db.session.commit()
    later = make_slot(counsellor, starts_in=timedelta(days=3, minutes=15))
    moved = services.reschedule(appointment, later.id)
    db.session.commit()
    assert [a.id for a in services.upcoming(person)] == [moved.id]


def test_the_page_names_the_other_appointment_and_offers_no_button(setting, sign_in):
    organisation, counsellor, person = setting
    services.book(person, make_slot(counsellor, starts_in=timedelta(days=3)).id)
    db.session.commit()
    other = make_counsellor(organisation)
    other.name = "Karim Benali"
    overlapping = make_slot(other, starts_in=timedelta(days=3, minutes=10))
    client = Browser(sign_in(person))
    page = client.get(f"/rendez-vous/creneaux/{overlapping.id}").get_data(as_text=True)
    assert "déjà un rendez-vous à ce moment-là" in page
    assert counsellor.name in page
    assert "Demander ce rendez-vous" not in page
    # A POST made anyway (an old tab) is refused the same way, and books nothing.
    response = client.submit(f"/rendez-vous/creneaux/{overlapping.id}", {}, page="/rendez-vous/")
    assert response.status_code == 409
    assert "déjà un rendez-vous à ce moment-là" in response.get_data(as_text=True)
    assert len(services.upcoming(person)) == 1


def test_the_ceiling_of_appointments_to_come_is_the_organisations(setting, sign_in):
    organisation, counsellor, person = setting
    organisation.max_upcoming_appointments = 2
    db.session.commit()
    for n in range(2):
        services.book(person, make_slot(counsellor, starts_in=timedelta(days=3, hours=n)).id)
    db.session.commit()
    with pytest.raises(services.AppointmentError) as refused:
        services.book(person, make_slot(counsellor, starts_in=timedelta(days=4)).id)
    assert (refused.value.code, refused.value.limit) == ("too_many", 2)
    db.session.rollback()
    client = Browser(sign_in(person))
    client.submit(
        f"/rendez-vous/creneaux/{make_slot(counsellor, starts_in=timedelta(days=5)).id}", {}
    )
    assert "déjà 2 rendez-vous à venir" in client.get("/rendez-vous/").get_data(as_text=True)

"""The waitlist ("tell me if an earlier time frees up"): joining, the SMS a freed slot
sends and to whom, the caps, quiet hours, and the first to take it winning."""

import re
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.appointments import services
from portal.appointments.models import (
    AppointmentStatus,
    SlotPurpose,
    WaitlistEntry,
    WaitlistOffer,
)
from portal.core.clock import PARIS
from portal.events.models import Event
from portal.extensions import db
from portal.sms.gsm import segments
from portal.sms.models import SmsKind, SmsMessage, SmsStatus
from portal.sms.sender import send_due
from tests.conftest import Browser
from tests.factories import make_beneficiary, make_counsellor, make_organisation, make_slot

# A Tuesday at 10:00 in Finistère, no holiday that week.
TUESDAY_10 = datetime(2027, 3, 9, 10, 0, tzinfo=PARIS)
LINK = re.compile(r"https://portail\.test(/rendez-vous/plus-tot/(\d+))")


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def clock(app):
    with time_machine.travel(TUESDAY_10, tick=False) as traveller:
        yield traveller


@pytest.fixture
def place(clock):
    organisation = make_organisation(department_code="29")
    counsellor = make_counsellor(organisation)
    return organisation, counsellor


def at(counsellor, moment: datetime, **fields):
    return make_slot(counsellor, starts_at=moment, **fields)


def waiting(organisation, counsellor, moment: datetime, **person_fields):
    """A person with an appointment at `moment`, on the waitlist for an earlier one."""
    person = make_beneficiary(organisation, **person_fields)
    appointment = services.book(person, at(counsellor, moment).id)
    services.join_waitlist(appointment)
    db.session.commit()
    return person, appointment


def booked(organisation, counsellor, moment: datetime):
    appointment = services.book(make_beneficiary(organisation), at(counsellor, moment).id)
    db.session.commit()
    return appointment


def offers_sms(person=None) -> list[SmsMessage]:
    query = select(SmsMessage).where(SmsMessage.kind == SmsKind.WAITLIST_OFFER)
    if person is not None:
        query = query.where(SmsMessage.beneficiary_id == person.id)
    return list(db.session.scalars(query.order_by(SmsMessage.id)))


def cancel(appointment) -> None:
    services.cancel(appointment, by="counsellor", reason="Je suis absente")
    db.session.commit()


def test_joining_and_leaving_from_the_appointment_page(app, place, sign_in):
    organisation, counsellor = place
    person = make_beneficiary(organisation)
    appointment = services.book(person, at(counsellor, paris(15, 10)).id)
    db.session.commit()
    browser = Browser(sign_in(person))
    page = browser.get(f"/rendez-vous/{appointment.id}?fait=1").get_data(as_text=True)
    assert "Si un moment plus tôt se libère, nous vous envoyons un SMS." in page
    assert "Prévenez-moi" in page

    response = browser.submit(
        f"/rendez-vous/{appointment.id}/plus-tot", {}, page=f"/rendez-vous/{appointment.id}"
    )
    assert response.headers["Location"] == f"/rendez-vous/{appointment.id}"
    entry = db.session.scalars(select(WaitlistEntry)).one()
    assert entry.ended_at is None
    page = browser.get(f"/rendez-vous/{appointment.id}").get_data(as_text=True)
    assert "Vous êtes sur la liste d'attente." in page
    # A second tap does no harm.
    browser.submit(f"/rendez-vous/{appointment.id}/plus-tot", {}, page="/parametres")
    assert len(db.session.scalars(select(WaitlistEntry)).all()) == 1

    browser.submit(f"/rendez-vous/{appointment.id}/plus-tot/arreter", {}, page="/parametres")
    db.session.refresh(entry)
    assert entry.ended_at is not None
    assert "Prévenez-moi" in browser.get(f"/rendez-vous/{appointment.id}").get_data(as_text=True)


def test_no_waitlist_for_someone_without_sms_or_an_appointment_too_close(app, place, clock):
    organisation, counsellor = place
    person = make_beneficiary(organisation, sms_consent=False)
    appointment = services.book(person, at(counsellor, paris(15, 10)).id)
    soon = services.book(make_beneficiary(organisation), at(counsellor, paris(9, 12, 30)).id)
    db.session.commit()
    assert services.waitlist_state(appointment) is None
    with pytest.raises(services.AppointmentError):
        services.join_waitlist(appointment)
    assert services.waitlist_state(soon) == "may_join"
    clock.move_to(paris(9, 10, 45))  # past the 2-hour limit to move it online
    assert services.waitlist_state(soon) is None


def test_a_cancellation_offers_the_slot_to_later_appointments_of_the_same_kind(app, place):
    organisation, counsellor = place
    later, later_appointment = waiting(organisation, counsellor, paris(15, 10), language="ar")
    earlier, _ = waiting(organisation, counsellor, paris(10, 9))
    other_purpose, _ = waiting(organisation, counsellor, paris(16, 10))
    other_purpose_slot = db.session.scalars(
        select(WaitlistEntry).order_by(WaitlistEntry.id.desc())
    ).first()
    other_purpose_slot.appointment.slot.purpose = SlotPurpose.CONTRACT
    elsewhere_org = make_organisation(department_code="29")
    elsewhere, _ = waiting(elsewhere_org, make_counsellor(elsewhere_org), paris(15, 11))
    freed = booked(organisation, counsellor, paris(11, 14))

    cancel(freed)

    [message] = offers_sms()
    assert message.beneficiary_id == later.id
    assert message.appointment_id == later_appointment.id
    assert message.language == "ar"
    assert message.next_attempt_at == TUESDAY_10  # in allowed hours: now
    assert message.send_before == freed.slot.starts_at - timedelta(hours=2)
    path, offer_id = LINK.search(message.body).groups()
    offer = db.session.get(WaitlistOffer, int(offer_id))
    assert (offer.slot_id, offer.entry.appointment_id) == (freed.slot_id, later_appointment.id)
    assert offers_sms(earlier) == offers_sms(other_purpose) == offers_sms(elsewhere) == []
    # No event for the back office: the contract has none for the waitlist.
    assert not [e for e in db.session.scalars(select(Event)) if "waitlist" in e.type]


def test_the_sms_is_short_plain_and_in_the_persons_language(app, place):
    organisation, counsellor = place
    person, _ = waiting(organisation, counsellor, paris(15, 10))
    in_arabic, _ = waiting(organisation, counsellor, paris(16, 10), language="ar")
    cancel(booked(organisation, counsellor, paris(11, 14, 30)))
    [message] = offers_sms(person)
    assert message.body.startswith(f"{organisation.sender_name} : un RDV plus tot est libre le ")
    assert "jeudi 11 mars à 14 h 30" in message.body
    assert segments(message.body) == 1
    [arabic] = offers_sms(in_arabic)
    assert "موعد أبكر" in arabic.body and LINK.search(arabic.body)
    assert segments(arabic.body) <= 2


def test_a_decline_or_a_move_frees_a_slot_too(app, place):
    organisation, counsellor = place
    person, _ = waiting(organisation, counsellor, paris(15, 10))
    declined = booked(organisation, counsellor, paris(11, 9))
    services.set_status(declined, AppointmentStatus.DECLINED, "Absente", by="counsellor")
    db.session.commit()
    assert len(offers_sms(person)) == 1

    other, _ = waiting(organisation, counsellor, paris(16, 10))
    mover = booked(organisation, counsellor, paris(12, 9))
    services.reschedule(mover, at(counsellor, paris(17, 9)).id)
    db.session.commit()
    # The first person had their SMS of the day; the second gets the slot the move freed.
    assert len(offers_sms(person)) == 1
    [message] = offers_sms(other)
    assert "vendredi 12 mars" in message.body


def test_a_slot_withdrawn_with_its_booking_is_offered_to_nobody(app, place):
    organisation, counsellor = place
    waiting(organisation, counsellor, paris(15, 10))
    freed = booked(organisation, counsellor, paris(11, 14))
    services.withdraw_slot(freed.slot, cancel_booking=True)
    db.session.commit()
    assert offers_sms() == []


def test_leaving_cancelling_or_moving_ends_the_entry(app, place):
    organisation, counsellor = place
    left, left_appointment = waiting(organisation, counsellor, paris(15, 10))
    services.leave_waitlist(left_appointment)
    cancelled, cancelled_appointment = waiting(organisation, counsellor, paris(15, 11))
    services.cancel_by_beneficiary(cancelled_appointment)
    moved, moved_appointment = waiting(organisation, counsellor, paris(15, 14))
    services.reschedule(moved_appointment, at(counsellor, paris(16, 14)).id)
    db.session.commit()
    entries = db.session.scalars(select(WaitlistEntry)).all()
    assert all(entry.ended_at is not None for entry in entries)

    cancel(booked(organisation, counsellor, paris(11, 14)))
    assert offers_sms() == []


def test_a_passed_appointment_waits_no_more(app, place, clock):
    organisation, counsellor = place
    person, _ = waiting(organisation, counsellor, paris(10, 9))
    clock.move_to(paris(10, 12))  # the appointment has passed
    cancel(booked(organisation, counsellor, paris(11, 14)))
    assert offers_sms(person) == []


def test_one_sms_a_day_per_person_and_three_per_appointment(app, place, clock):
    organisation, counsellor = place
    person, appointment = waiting(organisation, counsellor, paris(26, 10))
    first = booked(organisation, counsellor, paris(11, 14))
    second = booked(organisation, counsellor, paris(11, 15))
    cancel(first)
    cancel(second)
    assert len(offers_sms(person)) == 1  # the second the same day is not sent

    for day in (10, 11, 12):
        clock.move_to(paris(day, 10))
        cancel(booked(organisation, counsellor, paris(day + 5, 14)))
    # Wednesday's and Thursday's make three for this appointment; Friday's is not sent.
    assert len(offers_sms(person)) == 3
    offered_days = [message.next_attempt_at.astimezone(PARIS).day for message in offers_sms()]
    assert offered_days == [9, 10, 11]
    assert services.waitlist_state(appointment) == "waiting"


def test_freed_in_quiet_hours_the_sms_waits_for_the_morning_and_is_dropped_if_late(
    app, place, clock
):
    organisation, counsellor = place
    person, _ = waiting(organisation, counsellor, paris(15, 10))
    clock.move_to(paris(9, 22))
    # Freed at 22:00 for Wednesday 10:30: the SMS is due Wednesday 08:00, before 08:30.
    cancel(booked_at_night := booked(organisation, counsellor, paris(10, 10, 30)))
    [message] = offers_sms(person)
    assert message.next_attempt_at == paris(10, 8)
    assert message.send_before == booked_at_night.slot.starts_at - timedelta(hours=2)
    send_due()
    db.session.expire_all()
    assert db.session.get(SmsMessage, message.id).status is SmsStatus.QUEUED  # not at night

    clock.move_to(paris(10, 8, 31))  # the worker was late: less than 2 hours remain
    send_due()
    db.session.expire_all()
    assert db.session.get(SmsMessage, message.id).status is SmsStatus.DROPPED


def test_freed_at_night_for_early_the_next_morning_no_sms_at_all(app, place, clock):
    organisation, counsellor = place
    person, _ = waiting(organisation, counsellor, paris(15, 10))
    freed = booked(organisation, counsellor, paris(10, 9, 30))
    clock.move_to(paris(9, 22))
    cancel(freed)  # by 08:00, less than 2 hours would remain before 09:30
    assert offers_sms(person) == []


def test_freed_on_a_saturday_evening_the_sms_waits_for_monday(app, place, clock):
    organisation, counsellor = place
    person, _ = waiting(organisation, counsellor, paris(19, 10))
    freed = booked(organisation, counsellor, paris(16, 10))
    clock.move_to(paris(13, 21))
    cancel(freed)
    [message] = offers_sms(person)
    assert message.next_attempt_at == paris(15, 8)  # Sunday is quiet too


def test_the_first_to_take_it_wins_and_the_other_is_told_it_is_gone(app, place, sign_in):
    organisation, counsellor = place
    first, first_appointment = waiting(organisation, counsellor, paris(15, 10))
    second, second_appointment = waiting(organisation, counsellor, paris(16, 10))
    freed = booked(organisation, counsellor, paris(11, 14))
    cancel(freed)
    [to_first] = offers_sms(first)
    [to_second] = offers_sms(second)
    first_link = LINK.search(to_first.body).group(1)
    second_link = LINK.search(to_second.body).group(1)

    first_browser = Browser(sign_in(first))
    page = first_browser.get(first_link).get_data(as_text=True)
    assert "Un moment plus tôt s'est libéré" in page
    assert "Il remplacera votre rendez-vous du lundi 15 mars à 10 h." in page
    response = first_browser.submit(first_link, {})
    moved_id = int(re.match(r"^/rendez-vous/(\d+)\?fait=1$", response.headers["Location"])[1])
    db.session.expire_all()
    assert first_appointment.status is AppointmentStatus.CANCELLED
    assert first_appointment.rescheduled_to_id == moved_id
    [event] = db.session.scalars(select(Event).where(Event.type == "appointment.rescheduled"))
    assert event.data["new_slot_external_id"] == freed.slot.external_id
    # A second tap on the same link leads to the appointment, not to an error.
    assert first_browser.get(first_link).headers["Location"] == f"/rendez-vous/{moved_id}"

    second_browser = Browser(sign_in(second))
    page = second_browser.get(second_link).get_data(as_text=True)
    assert "Ce moment n'est plus libre" in page
    assert "Quelqu'un l'a pris avant vous." in page
    assert "reste prévu" in page
    response = second_browser.submit(second_link, {}, page=f"/rendez-vous/{second_appointment.id}")
    assert response.status_code == 409
    db.session.expire_all()
    assert second_appointment.status is AppointmentStatus.REQUESTED
    assert second_appointment.slot.starts_at == paris(16, 10)


def test_a_queued_offer_is_dropped_once_the_slot_is_taken(app, place, clock):
    organisation, counsellor = place
    person, _ = waiting(organisation, counsellor, paris(15, 10))
    freed = booked(organisation, counsellor, paris(12, 14))
    clock.move_to(paris(9, 21))
    cancel(freed)
    [message] = offers_sms(person)
    assert message.status is SmsStatus.QUEUED  # for the morning
    services.book(make_beneficiary(organisation), freed.slot_id)  # booked overnight
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(SmsMessage, message.id).status is SmsStatus.DROPPED


def test_a_queued_offer_of_a_session_stays_while_a_seat_is_left(app, place, clock):
    organisation, counsellor = place
    session = at(counsellor, paris(12, 14), capacity=3, title="Réunion d'information")
    person, _ = waiting(organisation, counsellor, paris(15, 10))
    first = services.book(make_beneficiary(organisation), session.id)
    services.book(make_beneficiary(organisation), session.id)
    db.session.commit()
    clock.move_to(paris(9, 21))
    cancel(first)
    [message] = offers_sms(person)
    services.book(make_beneficiary(organisation), session.id)  # one seat of two taken
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(SmsMessage, message.id).status is SmsStatus.QUEUED
    services.book(make_beneficiary(organisation), session.id)  # the last seat
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(SmsMessage, message.id).status is SmsStatus.DROPPED


def test_the_slot_a_taker_leaves_goes_to_the_next_in_line(app, place, sign_in):
    organisation, counsellor = place
    first, first_appointment = waiting(organisation, counsellor, paris(15, 10))
    freed = booked(organisation, counsellor, paris(11, 14))
    cancel(freed)
    [offer] = db.session.scalars(select(WaitlistOffer)).all()
    later, _ = waiting(organisation, counsellor, paris(17, 10))
    services.take_offer(offer)
    db.session.commit()
    [message] = offers_sms(later)
    assert "lundi 15 mars" in message.body  # the first person's old slot


def test_another_persons_offer_is_a_404(app, place, sign_in):
    organisation, counsellor = place
    waiting(organisation, counsellor, paris(15, 10))
    cancel(booked(organisation, counsellor, paris(11, 14)))
    [offer] = db.session.scalars(select(WaitlistOffer)).all()
    stranger = sign_in(make_beneficiary(organisation))
    assert stranger.get(f"/rendez-vous/plus-tot/{offer.id}").status_code == 404

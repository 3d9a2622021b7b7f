"""Constraints that make bad states impossible in the database, whatever the code above does."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from portal.appointments.models import Appointment, AppointmentStatus, SlotMode
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.extensions import db
from portal.pathway.models import PathwayStep
from tests.factories import (
    make_appointment,
    make_beneficiary,
    make_counsellor,
    make_organisation,
    make_slot,
    make_step,
)


def _refused(action):
    with pytest.raises((IntegrityError, StatementError)):
        action()
        db.session.commit()
    db.session.rollback()


def test_a_slot_never_holds_two_live_appointments(app):
    slot = make_slot()
    make_appointment(slot, make_beneficiary())
    _refused(lambda: db.session.add(Appointment(slot=slot, beneficiary=make_beneficiary())))
    assert len(db.session.scalars(select(Appointment)).all()) == 1


@pytest.mark.parametrize("freeing", [AppointmentStatus.CANCELLED, AppointmentStatus.DECLINED])
def test_a_cancelled_or_declined_appointment_frees_its_slot(app, freeing):
    slot = make_slot()
    make_appointment(slot, make_beneficiary(), status=freeing)
    make_appointment(slot, make_beneficiary())
    live = db.session.scalars(
        select(Appointment).where(Appointment.status == AppointmentStatus.REQUESTED)
    ).all()
    assert len(live) == 1


def test_an_external_id_is_unique_per_organisation_only(app):
    first, second = make_organisation(), make_organisation()
    make_beneficiary(first, external_id="DOS-1")
    make_beneficiary(second, external_id="DOS-1")
    _refused(lambda: make_beneficiary(first, external_id="DOS-1"))


def test_one_person_is_followed_once_by_an_organisation(app):
    organisation = make_organisation()
    person = make_beneficiary(organisation)
    _refused(
        lambda: db.session.add(
            FollowUp(organisation=organisation, beneficiary=person, external_id="OTHER")
        )
    )


def test_one_person_can_be_followed_by_several_organisations(app):
    first, second = make_organisation(), make_organisation()
    person = make_beneficiary(first)
    db.session.add(FollowUp(organisation=second, beneficiary=person, external_id="PLIE-7"))
    db.session.commit()
    db.session.refresh(person)
    assert {f.organisation.slug for f in person.follow_ups} == {first.slug, second.slug}


def test_a_phone_must_be_e164_and_a_postal_code_five_characters(app):
    _refused(lambda: make_beneficiary(phone="0612345678"))
    _refused(lambda: make_beneficiary(postal_code="670"))


def test_a_slot_lasts_10_to_240_minutes_and_in_person_needs_a_place(app):
    counsellor = make_counsellor()
    _refused(lambda: make_slot(counsellor, duration_minutes=5))
    _refused(lambda: make_slot(counsellor, duration_minutes=241))
    _refused(lambda: make_slot(counsellor, mode=SlotMode.IN_PERSON, location=None))
    make_slot(counsellor, mode=SlotMode.PHONE, location=None)


def test_an_unknown_enum_value_is_refused_by_the_database(app):
    person = make_beneficiary()
    step = make_step(person, person.follow_ups[0].organisation)
    _refused(
        lambda: db.session.execute(
            text("UPDATE pathway_step SET status = 'teleported' WHERE id = :id"), {"id": step.id}
        )
    )


def test_a_step_cannot_end_before_it_starts(app):
    person = make_beneficiary()
    organisation = person.follow_ups[0].organisation
    _refused(
        lambda: make_step(
            person, organisation, starts_on=date(2026, 3, 2), ends_on=date(2026, 3, 1)
        )
    )
    assert db.session.scalars(select(PathwayStep)).all() == []


def test_times_come_back_in_utc_whatever_zone_they_were_given_in(app):
    paris = datetime(2026, 3, 29, 3, 30, tzinfo=ZoneInfo("Europe/Paris"))  # just after the DST jump
    slot = make_slot(starts_at=paris)
    db.session.expire_all()
    assert slot.starts_at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert slot.starts_at.tzinfo is not None


def test_a_naive_time_is_refused(app):
    with pytest.raises(StatementError):
        make_slot(starts_at=datetime(2026, 3, 2, 9, 30))
    db.session.rollback()


def test_event_ids_only_grow_and_are_never_reused(app):
    from portal.events.models import Event
    from portal.events.services import record_event

    person = make_beneficiary()
    ids = [record_event("beneficiary.activated", person).id for _ in range(3)]
    db.session.commit()
    db.session.delete(db.session.get(Event, ids[-1]))
    db.session.commit()
    later = record_event("beneficiary.activated", person).id
    db.session.commit()
    assert ids == sorted(set(ids))
    assert later > ids[-1]


def test_erasing_a_person_keeps_anonymous_events(app):
    from portal.events.models import Event
    from portal.events.services import record_event

    person = make_beneficiary()
    record_event("beneficiary.activated", person)
    db.session.commit()
    db.session.delete(db.session.get(Beneficiary, person.id))
    db.session.commit()
    event = db.session.scalars(select(Event)).one()
    assert (event.type, event.beneficiary_id) == ("beneficiary.activated", None)
    assert event.occurred_at > datetime.now(UTC) - timedelta(minutes=1)

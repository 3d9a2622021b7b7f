"""The generated cohort whose every answer is known in advance (see test_definitions)."""

import itertools
from datetime import date, datetime, time, timedelta

import pytest
import time_machine

from portal.appointments.models import AppointmentStatus
from portal.auth.models import InvitationToken
from portal.core.clock import paris_moment
from portal.erasure.services import end_follow_up
from portal.extensions import db
from portal.pathway.models import PathwayStep, StepKind, StepStatus
from portal.pathway.services import upsert_step
from portal.sms.models import SmsKind, SmsMessage, SmsStatus
from portal.sms.opt_out import set_sms_opt_out
from tests.factories import make_appointment, make_beneficiary, make_slot, make_step

REGISTERED = date(2025, 3, 10)
MARCH = (date(2025, 3, 1), date(2025, 3, 31))
ACTIVITY = [StepKind.IMMERSION, StepKind.TRAINING, StepKind.VOLUNTEERING, StepKind.EMPLOYMENT]
_hashes = itertools.count(1)


def day(offset: int) -> date:
    return REGISTERED + timedelta(days=offset)


def at(offset: int, hour: int = 10) -> datetime:
    return paris_moment(day(offset), time(hour))


def _step(person, organisation, offset: int | None, **fields) -> PathwayStep:
    index = person.id
    values = {
        "kind": ACTIVITY[index % 4],
        "status": StepStatus.IN_PROGRESS if index % 2 else StepStatus.DONE,
        "starts_on": None if offset is None else day(offset),
    }
    values.update(fields)
    return make_step(person, organisation, **values)


def _sms(organisation, status, created, segments=1, **fields) -> SmsMessage:
    message = SmsMessage(
        organisation_id=organisation.id,
        to="+33600000000",
        body="Dép. Bas-Rhin : rappel",
        kind=fields.pop("kind", SmsKind.APPOINTMENT_CONFIRMED),
        status=status,
        segments=segments,
        created_at=created,
        **fields,
    )
    db.session.add(message)
    return message


def _invite(person, organisation, invited_at: datetime) -> None:
    db.session.add(
        InvitationToken(
            beneficiary_id=person.id,
            organisation_id=organisation.id,
            token_hash=f"{next(_hashes):064x}",
            expires_at=invited_at + timedelta(days=7),
            created_at=invited_at,
        )
    )


@pytest.fixture
def cohort(org_a, org_b):
    """Builds the scenario; returns the people by group, for the tests that need them."""
    organisation, counsellor = org_a.organisation, org_a.counsellor
    people = [make_beneficiary(organisation, rsa_registration_date=REGISTERED) for _n in range(100)]
    on_30, seen_30, on_90 = people[:60], people[60:69], people[69]
    on_120, on_91, never = people[70:89], people[89], people[90:]
    for person in on_30:
        _step(person, organisation, 30)
    for person in people[:3]:  # an earlier cancelled activity changes nothing
        _step(person, organisation, 5, status=StepStatus.CANCELLED)
    # No starts_on: counted from the day the portal first saw the step in progress.
    for n, person in enumerate(seen_30):
        fields = {"kind": "training", "title": "Formation", "status": "planned"}
        with time_machine.travel(at(2), tick=False):
            upsert_step(organisation, person, f"SEEN-{n}", fields)
            db.session.commit()
        with time_machine.travel(at(30, 23), tick=False):  # 23:00 Paris is still day 30
            upsert_step(organisation, person, f"SEEN-{n}", {**fields, "status": "in_progress"})
            db.session.commit()
        with time_machine.travel(at(200), tick=False):  # done later: the day stays
            upsert_step(organisation, person, f"SEEN-{n}", {**fields, "status": "done"})
            db.session.commit()
    _step(on_90, organisation, 90)
    for person in on_120:
        _step(person, organisation, 120)
    _step(on_91, organisation, 91)
    _step(never[0], organisation, 10, status=StepStatus.CANCELLED)
    _step(never[1], organisation, 5, status=StepStatus.PLANNED)
    _step(never[2], organisation, 3, kind=StepKind.ORIENTATION)
    for n, person in enumerate(people[:10]):  # référents: counts per name
        person.follow_ups[0].referent_name = "Karim Benali" if n < 4 else "Claire Muller"

    # Appointments starting in March: 10 held (5 on day 5, 5 on day 12), 4 no-shows,
    # 2 excused, cancellations by each side, one moved, one declined.
    def appointment(person, offset, status, hour=10, **fields):
        slot = make_slot(counsellor, starts_at=at(offset, hour))
        return make_appointment(slot, person, status=status, booked_at=at(-3), **fields)

    held = [appointment(p, 5, AppointmentStatus.ATTENDED) for p in people[10:15]]
    held += [appointment(p, 12, AppointmentStatus.ATTENDED) for p in people[15:20]]
    no_shows = [appointment(p, 6, AppointmentStatus.NO_SHOW) for p in people[20:24]]
    excused = [appointment(p, 7, AppointmentStatus.EXCUSED) for p in people[24:26]]
    for who, group in (("beneficiary", people[26:29]), ("counsellor", people[29:31])):
        for p in group:
            appointment(p, 8, AppointmentStatus.CANCELLED, cancelled_by=who)
    appointment(people[31], 8, AppointmentStatus.CANCELLED, cancelled_by="backoffice")
    replacement = appointment(people[32], 15, AppointmentStatus.REQUESTED)
    appointment(
        people[32],
        9,
        AppointmentStatus.CANCELLED,
        cancelled_by="beneficiary",
        status_reason="rescheduled",
        rescheduled_to_id=replacement.id,
    )
    appointment(people[33], 9, AppointmentStatus.DECLINED)
    # Confirmed after 1, 2, 3, 4 and 10 days: median 3, 80th percentile 4.
    for n, delay in enumerate((1, 2, 3, 4, 10)):
        a = appointment(people[34 + n], 20, AppointmentStatus.CONFIRMED)
        a.confirmed_at = a.booked_at + timedelta(days=delay)
    # Outside the period (1 April) and an earlier no-show outside it: not counted.
    appointment(people[40], 22, AppointmentStatus.NO_SHOW)
    # Reminders delivered before the start: 6 held and 1 no-show.
    for a in held[:6] + no_shows[:1]:
        _sms(
            organisation,
            SmsStatus.DELIVERED,
            at(3),
            kind=SmsKind.REMINDER_48H,
            appointment_id=a.id,
            sent_at=a.slot.starts_at - timedelta(hours=48),
        )
    # ...which these are not: delivered after the start, failed, or not a reminder.
    _sms(
        organisation,
        SmsStatus.DELIVERED,
        at(3),
        kind=SmsKind.REMINDER_DAY,
        appointment_id=no_shows[1].id,
        sent_at=no_shows[1].slot.starts_at + timedelta(hours=1),
    )
    _sms(
        organisation,
        SmsStatus.FAILED,
        at(3),
        kind=SmsKind.REMINDER_DAY,
        appointment_id=no_shows[2].id,
        segments=None,
    )
    _sms(
        organisation,
        SmsStatus.DELIVERED,
        at(3),
        kind=SmsKind.APPOINTMENT_CONFIRMED,
        appointment_id=excused[0].id,
        sent_at=at(3),
    )
    # Other SMS of March: 3 sent, 2 undelivered, 2 still queued, and one of 2 segments.
    for _n in range(3):
        _sms(organisation, SmsStatus.SENT, at(1))
    for _n in range(2):
        _sms(organisation, SmsStatus.UNDELIVERED, at(1))
    for _n in range(2):
        _sms(organisation, SmsStatus.QUEUED, at(1))
    _sms(organisation, SmsStatus.DELIVERED, at(1), segments=2)
    _sms(organisation, SmsStatus.DELIVERED, at(25))  # April: outside
    _sms(org_b.organisation, SmsStatus.DELIVERED, at(1))  # another organisation's

    # Invitations: signed in 1, 2, 3 and 10 days later, one never; 2 signed in uninvited.
    for person, delay in zip(people[40:44], (1, 2, 3, 10), strict=True):
        _invite(person, organisation, at(1, 9))
        person.activated_at = at(1, 9) + timedelta(days=delay)
    _invite(people[44], organisation, at(1, 9))
    people[45].activated_at = people[46].activated_at = at(4)
    db.session.commit()
    for person in people[47:49]:
        with time_machine.travel(at(15), tick=False):
            set_sms_opt_out(person, True, by="sms")
            db.session.commit()

    # Another organisation: its people, steps and appointments never show in ours.
    stranger = make_beneficiary(org_b.organisation, rsa_registration_date=REGISTERED)
    _step(stranger, org_b.organisation, 1)
    appointment_b = make_slot(org_b.counsellor, starts_at=at(5))
    make_appointment(appointment_b, stranger, status=AppointmentStatus.NO_SHOW)
    with time_machine.travel(at(15), tick=False):
        set_sms_opt_out(stranger, True, by="sms")
        db.session.commit()

    # Erased (the organisation lets go, nobody else follows them): they still count.
    erased = [
        people[0],
        people[1],
        people[2],
        people[60],
        people[70],
        people[90],
        people[19],
        people[43],
    ]
    for person in erased:
        end_follow_up(organisation, person.follow_ups[0])
    db.session.commit()
    return {"people": people, "erased": erased}

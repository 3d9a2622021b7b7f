"""Correct by construction: a generated cohort whose every answer is known in advance.

100 people registered on 10 March 2025 (their 90 days long passed):
- 60 start an activity on day 30 (starts_on), 9 more on day 30 with no starts_on (the
  day the portal saw the step in progress), 1 on day 90 exactly: 70 within 90 days;
- 19 start on day 120 and 1 on day 91: not within 90 days;
- 10 never do (a cancelled activity, a planned one, an orientation in progress);
- 7 of them are then erased (the organisation lets go), and still count.
Appointments, reminders, SMS, invitations and opt-outs with known outcomes, plus another
organisation's people and rows that must never show.
"""

import itertools
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from portal.appointments.models import Appointment, AppointmentStatus
from portal.appointments.status import set_status
from portal.auth.models import InvitationToken
from portal.beneficiaries.models import FollowUp
from portal.core.clock import paris_moment
from portal.erasure.services import end_follow_up
from portal.extensions import db
from portal.indicators import services as indicators
from portal.indicators.models import CohortFact
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


EXPECTED_COHORT = {
    "month": "2025-03",
    "people": 100,
    "anonymous": 8,
    "complete": True,
    "in_activity_within_90_days": 70,
    "rate": 0.7,
    "in_activity_within_60_days": 69,
    "rate_60_days": 0.69,
    "in_activity_within_30_days": 69,
    "rate_30_days": 0.69,
    "target_rate": 0.7,
    "people_with_first_activity": 90,
    # 69 × 30, 90, 91, 19 × 120: the 45th and 46th are 30; the 72nd is 120.
    "median_days_to_first_activity": 30.0,
    "p80_days_to_first_activity": 120.0,
    # 5 × 5 and 5 × 12: (5 + 12) / 2; the 8th is 12.
    "people_with_first_appointment": 10,
    "median_days_to_first_appointment": 8.5,
    "p80_days_to_first_appointment": 12.0,
    "invited": 5,
    "median_days_invitation_to_sign_in": 2.5,
    "p80_days_invitation_to_sign_in": 10.0,
    "activated": 6,
    "activation_rate": 0.06,
}

EXPECTED_APPOINTMENTS = {
    "held": 10,
    "no_show": 4,
    "excused": 2,
    "cancelled": 6,
    "cancelled_by": {"beneficiary": 3, "counsellor": 2, "backoffice": 1},
    "rescheduled": 1,
    "declined": 1,
    "requested": 1,
    "confirmed": 5,
    "no_show_rate": 0.25,
    "with_reminder": {"outcomes": 7, "no_show": 1, "no_show_rate": 1 / 7},
    "without_reminder": {"outcomes": 9, "no_show": 3, "no_show_rate": 3 / 9},
    "confirmations": 5,
    "median_days_to_confirmation": 3.0,
    "p80_days_to_confirmation": 4.0,
}

EXPECTED_SMS = {"sent": 15, "delivered": 10, "failed": 3, "segments": 16, "opted_out": 2}


def _close(actual, expected):
    """Equal, floats to 1e-9 (a rate of 1/7 is the same on both databases to that)."""
    if isinstance(expected, dict):
        assert set(actual) >= set(expected), (actual, expected)
        for key, value in expected.items():
            _close(actual[key], value)
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, abs=1e-9), (actual, expected)
    else:
        assert actual == expected, (actual, expected)


def test_every_figure_of_the_known_cohort(cohort, org_a):
    figures = indicators.indicators(org_a.organisation.id, *MARCH).payload()
    [march] = figures["cohorts"]
    _close(march, EXPECTED_COHORT)
    _close(figures["appointments"], EXPECTED_APPOINTMENTS)
    assert figures["sms"] == EXPECTED_SMS
    assert figures["referents"] == [
        # Live people only (the erased keep no référent): 92 in all.
        {"name": "Claire Muller", "people": 91, "in_activity_within_90_days": 63, "activated": 5},
        {"name": "Karim Benali", "people": 1, "in_activity_within_90_days": 1, "activated": 0},
    ]


def test_the_api_answers_the_same_numbers(cohort, org_a):
    response = org_a.api.get("/indicators", query_string={"from": "2025-03-01", "to": "2025-03-31"})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["from"] == "2025-03-01" and body["to"] == "2025-03-31"
    [march] = body["cohorts"]
    _close(march, EXPECTED_COHORT)
    _close(body["appointments"], EXPECTED_APPOINTMENTS)
    assert body["sms"] == EXPECTED_SMS
    assert body["definitions_url"].endswith("/conseiller/indicateurs/definitions")


def test_another_organisation_sees_none_of_it(cohort, org_b):
    body = org_b.api.get("/indicators", query_string={"from": "2025-03-01", "to": "2025-03-31"})
    body = body.get_json()
    [march] = body["cohorts"]
    assert march["people"] == 1 and march["in_activity_within_90_days"] == 1
    assert body["appointments"]["no_show"] == 1 and body["appointments"]["held"] == 0
    assert body["sms"] == {"sent": 1, "delivered": 1, "failed": 0, "segments": 1, "opted_out": 1}
    assert [r["people"] for r in body["referents"]] == [1]


def test_erased_people_leave_nothing_that_identifies_them(cohort, org_a):
    facts = db.session.query(CohortFact).all()
    assert len(facts) == 8
    columns = set(CohortFact.__table__.columns.keys())
    assert columns == {
        "id",
        "organisation_id",
        "registration_month",
        "activity_day",
        "appointment_day",
        "is_invited",
        "sign_in_after_invitation_days",
        "is_activated",
    }
    assert {fact.registration_month for fact in facts} == {date(2025, 3, 1)}
    assert sorted(f.activity_day for f in facts if f.activity_day is not None) == [
        30,
        30,
        30,
        30,
        30,
        30,
        120,
    ]
    assert sorted(f.appointment_day for f in facts if f.appointment_day is not None) == [12]
    assert [f.sign_in_after_invitation_days for f in facts if f.is_invited] == [10.0]
    assert db.session.query(FollowUp).filter_by(organisation_id=org_a.organisation.id).count() == 92


def test_a_cohort_whose_days_have_not_all_passed_is_in_progress(org_a):
    today = date(2026, 12, 1)
    person = make_beneficiary(org_a.organisation, rsa_registration_date=date(2026, 10, 1))
    make_step(person, org_a.organisation, starts_on=date(2026, 10, 11))
    figures = indicators.indicators(
        org_a.organisation.id, date(2026, 10, 1), date(2026, 10, 31), today=today
    )
    [october] = figures.cohorts
    assert october.complete == {30: True, 60: False, 90: False}
    assert october.rates == {30: 1.0, 60: None, 90: None}
    assert october.in_activity == {30: 1, 60: 1, 90: 1}
    # The last day of October's 90th day is 29 January: over on the 30th.
    late = indicators.indicators(
        org_a.organisation.id, date(2026, 10, 1), date(2026, 10, 31), today=date(2027, 1, 29)
    )
    assert late.cohorts[0].rates[90] is None
    later = indicators.indicators(
        org_a.organisation.id, date(2026, 10, 1), date(2026, 10, 31), today=date(2027, 1, 30)
    )
    assert later.cohorts[0].rates[90] == 1.0


def test_the_portal_records_when_it_first_saw_a_step_started(org_a):
    person = make_beneficiary(org_a.organisation)
    fields = {"kind": "immersion", "title": "Immersion", "status": "planned"}
    upsert_step(org_a.organisation, person, "S1", fields)
    db.session.commit()
    step = db.session.query(PathwayStep).filter_by(external_id="S1").one()
    assert step.seen_started_on is None
    moment = datetime(2026, 6, 3, 22, 30, tzinfo=UTC)  # 00:30 on the 4th in Paris
    with time_machine.travel(moment, tick=False):
        upsert_step(org_a.organisation, person, "S1", {**fields, "status": "in_progress"})
        db.session.commit()
    assert step.seen_started_on == date(2026, 6, 4)


def test_a_confirmation_records_its_time(org_a):
    person = make_beneficiary(org_a.organisation)
    slot = make_slot(org_a.counsellor)
    appointment = make_appointment(slot, person)
    moment = datetime(2026, 6, 3, 8, 0, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        set_status(appointment, AppointmentStatus.CONFIRMED, None, by="counsellor")
        db.session.commit()
    assert appointment.confirmed_at == moment
    assert db.session.get(Appointment, appointment.id).confirmed_at == moment


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"to": "2025-03-31"}, "/from"),
        ({"from": "2025-03-01"}, "/to"),
        ({"from": "2025-04-01", "to": "2025-03-31"}, "/from"),
        ({"from": "2020-03-01", "to": "2025-03-02"}, "/to"),
        ({"from": "2025-02-30", "to": "2025-03-31"}, "/from"),
        ({"from": "1 mars", "to": "2025-03-31"}, "/from"),
    ],
)
def test_the_period_is_checked(org_a, query, field):
    from tests.api.conftest import assert_problem

    assert_problem(org_a.api.get("/indicators", query_string=query), 422, field)


def test_five_years_exactly_is_allowed(org_a):
    response = org_a.api.get("/indicators", query_string={"from": "2020-03-01", "to": "2025-03-01"})
    assert response.status_code == 200
    assert len(response.get_json()["cohorts"]) == 61


def test_without_a_key_nothing(client):
    response = client.get("/api/v1/indicators?from=2025-03-01&to=2025-03-31")
    assert response.status_code == 401

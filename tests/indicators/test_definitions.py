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

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from portal.appointments.models import Appointment, AppointmentStatus
from portal.appointments.status import set_status
from portal.beneficiaries.models import FollowUp
from portal.erasure.services import end_follow_up
from portal.extensions import db
from portal.indicators import services as indicators
from portal.indicators.models import CohortFact
from portal.pathway.models import PathwayStep
from portal.pathway.services import upsert_step
from tests.factories import make_appointment, make_beneficiary, make_slot, make_step
from tests.indicators.conftest import MARCH

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
        "beneficiary_id",  # only while the person is on the portal: see below
        "registration_month",
        "activity_day",
        "appointment_day",
        "is_invited",
        "sign_in_after_invitation_days",
        "is_activated",
    }
    assert {fact.beneficiary_id for fact in facts} == {None}
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


def test_a_person_followed_again_counts_once(org_a, org_b):
    """Let go while another organisation follows them (so not erased), then followed
    again: the live person counts, not also the fact kept when the follow-up ended."""
    organisation = org_a.organisation
    person = make_beneficiary(organisation, rsa_registration_date=date(2025, 3, 10))
    db.session.add(FollowUp(organisation=org_b.organisation, beneficiary=person, external_id="B-1"))
    make_step(person, organisation, starts_on=date(2025, 4, 9))  # day 30
    db.session.commit()

    def march():
        [cohort] = indicators.indicators(organisation.id, *MARCH).cohorts
        return cohort.people, cohort.anonymous, cohort.in_activity[30]

    assert march() == (1, 0, 1)
    end_follow_up(organisation, _follow_up(organisation, person))
    db.session.commit()
    assert march() == (1, 1, 1)
    db.session.add(FollowUp(organisation=organisation, beneficiary=person, external_id="A-2"))
    db.session.commit()
    assert march() == (1, 0, 0)  # as they are now: A's step went with the first follow-up
    end_follow_up(organisation, _follow_up(organisation, person))
    db.session.commit()
    assert march() == (1, 1, 0)
    assert db.session.query(CohortFact).count() == 1  # the latest, not one per ending
    end_follow_up(org_b.organisation, _follow_up(org_b.organisation, person))  # erased
    db.session.commit()
    assert march() == (1, 1, 0)
    # One fact for each organisation's cohort, neither pointing at anyone any more.
    assert db.session.scalars(select(CohortFact.beneficiary_id)).all() == [None, None]


def _follow_up(organisation, person) -> FollowUp:
    return db.session.scalars(
        select(FollowUp).filter_by(organisation_id=organisation.id, beneficiary_id=person.id)
    ).one()


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
        ({"from": "9999-12-30", "to": "9999-12-31"}, "/from"),
        ({"from": "0001-01-01", "to": "0001-12-31"}, "/from"),
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

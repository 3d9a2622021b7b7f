"""Current step, next step and the 90-day aim, computed from the steps alone."""

from datetime import date, timedelta

import pytest

from portal.pathway.models import PathwayStep, StepKind, StepStatus
from portal.pathway.services import aim, current_step, first_activity, next_step

TODAY = date(2026, 11, 23)
_ids = iter(range(1, 10_000))


def step(kind=StepKind.TRAINING, status=StepStatus.PLANNED, starts_on=None, **fields):
    return PathwayStep(
        id=next(_ids), kind=kind, status=status, starts_on=starts_on, title="x", **fields
    )


def test_no_step_means_no_current_and_no_next():
    assert current_step([]) is None
    assert next_step([], TODAY) is None


def test_the_current_step_is_the_one_in_progress_that_started_last():
    older = step(status=StepStatus.IN_PROGRESS, starts_on=TODAY - timedelta(days=30))
    newer = step(status=StepStatus.IN_PROGRESS, starts_on=TODAY - timedelta(days=2))
    done = step(status=StepStatus.DONE, starts_on=TODAY - timedelta(days=1))
    assert current_step([older, newer, done]) is newer


def test_an_undated_step_in_progress_counts_but_a_dated_one_wins():
    undated = step(status=StepStatus.IN_PROGRESS)
    dated = step(status=StepStatus.IN_PROGRESS, starts_on=TODAY - timedelta(days=40))
    assert current_step([undated]) is undated
    assert current_step([undated, dated]) is dated


def test_cancelled_planned_and_done_steps_are_never_current():
    steps = [
        step(status=StepStatus.CANCELLED, starts_on=TODAY),
        step(status=StepStatus.PLANNED, starts_on=TODAY - timedelta(days=1)),
        step(status=StepStatus.DONE, starts_on=TODAY - timedelta(days=1)),
    ]
    assert current_step(steps) is None


def test_the_next_step_is_the_earliest_planned_one_not_in_the_past():
    past = step(starts_on=TODAY - timedelta(days=1))
    later = step(starts_on=TODAY + timedelta(days=10))
    sooner = step(starts_on=TODAY + timedelta(days=3))
    undated = step()
    cancelled = step(status=StepStatus.CANCELLED, starts_on=TODAY + timedelta(days=1))
    assert next_step([past, later, undated, sooner, cancelled], TODAY) is sooner


def test_a_planned_step_today_is_next_and_an_undated_one_comes_last():
    today = step(starts_on=TODAY)
    undated = step()
    assert next_step([undated, today], TODAY) is today
    assert next_step([undated], TODAY) is undated


@pytest.mark.parametrize(
    ("days_ago", "within"),
    [(0, True), (1, True), (89, True), (90, True), (91, False), (400, False)],
)
def test_the_aim_counts_ninety_days_from_registration(days_ago, within):
    registered = TODAY - timedelta(days=days_ago)
    result = aim(registered, [], TODAY)
    assert result.days_since == days_ago
    assert result.is_within is within
    assert result.deadline == registered + timedelta(days=90)
    assert result.activity is None


def test_a_registration_date_in_the_future_counts_as_today():
    assert aim(TODAY + timedelta(days=3), [], TODAY).days_since == 0


def test_an_activity_counts_once_started_not_when_only_planned_or_cancelled():
    registered = TODAY - timedelta(days=60)
    planned = step(StepKind.TRAINING, StepStatus.PLANNED, TODAY + timedelta(days=5))
    cancelled = step(StepKind.IMMERSION, StepStatus.CANCELLED, TODAY - timedelta(days=5))
    contract = step(StepKind.CONTRACT, StepStatus.DONE, TODAY - timedelta(days=30))
    assert aim(registered, [planned, cancelled, contract], TODAY).activity is None

    started = step(StepKind.VOLUNTEERING, StepStatus.IN_PROGRESS, TODAY - timedelta(days=10))
    result = aim(registered, [planned, cancelled, contract, started], TODAY)
    assert result.activity is started
    assert result.started_in_time


def test_the_first_activity_is_the_earliest_started_one():
    first = step(StepKind.IMMERSION, StepStatus.DONE, TODAY - timedelta(days=50))
    second = step(StepKind.EMPLOYMENT, StepStatus.IN_PROGRESS, TODAY - timedelta(days=5))
    undated = step(StepKind.TRAINING, StepStatus.IN_PROGRESS)
    assert first_activity([undated, second, first]) is first
    assert first_activity([undated]) is undated


def test_an_activity_started_after_the_deadline_is_not_in_time():
    registered = TODAY - timedelta(days=120)
    late = step(StepKind.TRAINING, StepStatus.IN_PROGRESS, registered + timedelta(days=100))
    result = aim(registered, [late], TODAY)
    assert result.activity is late
    assert not result.started_in_time

"""Quiet hours and reminder times, in Paris time, across holidays and clock changes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.sms.schedule import is_quiet, next_allowed, reminder_times

PARIS = ZoneInfo("Europe/Paris")


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (paris(2026, 11, 24, 7, 59), True),
        (paris(2026, 11, 24, 8, 0), False),
        (paris(2026, 11, 24, 19, 59), False),
        (paris(2026, 11, 24, 20, 0), True),
        (paris(2026, 11, 29, 11, 0), True),  # a Sunday
        (paris(2026, 12, 25, 11, 0), True),  # Christmas
        (paris(2026, 12, 26, 11, 0), True),  # Saint-Étienne, Alsace-Moselle (a Saturday)
    ],
)
def test_quiet_hours_in_bas_rhin(moment, quiet):
    assert is_quiet(moment, "67") is quiet


def test_26_december_is_not_quiet_in_finistere():
    assert not is_quiet(paris(2026, 12, 26, 11, 0), "29")


def test_a_message_due_in_quiet_hours_goes_at_the_next_allowed_minute():
    assert next_allowed(paris(2026, 11, 24, 21, 0), "67") == paris(2026, 11, 25, 8, 0)
    assert next_allowed(paris(2026, 11, 25, 6, 30), "67") == paris(2026, 11, 25, 8, 0)
    # Saturday night → Sunday is quiet → Monday morning.
    assert next_allowed(paris(2026, 11, 28, 21, 0), "67") == paris(2026, 11, 30, 8, 0)
    # Christmas Eve evening in Alsace: 25 and 26 are holidays, 27 a Sunday.
    assert next_allowed(paris(2026, 12, 24, 20, 30), "67") == paris(2026, 12, 28, 8, 0)
    assert next_allowed(paris(2026, 11, 25, 10, 0), "67") == paris(2026, 11, 25, 10, 0)


def test_reminders_48_hours_before_and_on_the_morning():
    start = paris(2026, 11, 26, 10, 30)  # a Thursday
    times = reminder_times(start, paris(2026, 11, 20, 12, 0), "29")
    assert times == {"48h": paris(2026, 11, 24, 10, 30), "day": paris(2026, 11, 26, 8, 0)}


def test_booked_after_the_morning_the_day_reminder_goes_two_hours_before():
    start = paris(2026, 11, 26, 15, 0)
    times = reminder_times(start, paris(2026, 11, 26, 9, 0), "29")
    assert times == {"day": paris(2026, 11, 26, 13, 0)}


def test_no_reminder_when_there_is_no_time_left():
    start = paris(2026, 11, 26, 10, 0)
    assert reminder_times(start, paris(2026, 11, 26, 9, 0), "29") == {}


def test_a_reminder_that_quiet_hours_push_past_the_start_is_left_out():
    # An 08:30 appointment on Monday: 48 h before is Saturday 08:30 (allowed); the morning
    # reminder at 08:00 is fine. An appointment at 08:30 on a Sunday gets none at all.
    sunday = paris(2026, 11, 29, 8, 30)
    assert reminder_times(sunday, paris(2026, 11, 25, 12, 0), "29") == {
        "48h": paris(2026, 11, 27, 8, 30)
    }


def test_the_48_hour_reminder_moved_close_to_the_morning_one_is_dropped():
    # Tuesday 09:00: 48 h before is Sunday 09:00, moved to Monday 08:00, 25 h before the
    # morning reminder: both stay. Monday 09:00 after a holiday weekend is the close case.
    tuesday = paris(2026, 12, 1, 9, 0)
    times = reminder_times(tuesday, paris(2026, 11, 25, 12, 0), "29")
    assert times == {"48h": paris(2026, 11, 30, 8, 0), "day": paris(2026, 12, 1, 8, 0)}


def test_organisation_settings_are_followed():
    start = paris(2026, 11, 26, 10, 30)
    now = paris(2026, 11, 20, 12, 0)
    assert reminder_times(start, now, "29", hours_before=None, morning_hour=None) == {}
    assert reminder_times(start, now, "29", hours_before=24, morning_hour=None) == {
        "48h": paris(2026, 11, 25, 10, 30)
    }


def test_the_week_the_clocks_go_forward():
    # Monday 30 March 2026, 10:00 summer time; the clocks changed on Sunday 29 March.
    start = paris(2026, 3, 30, 10, 0)
    times = reminder_times(start, paris(2026, 3, 20, 12, 0), "29")
    # 48 real hours before is Saturday 09:00 winter time; the morning reminder 08:00 summer.
    assert times["48h"] == start - timedelta(hours=48)
    assert times["48h"].astimezone(PARIS).hour == 9
    assert times["day"] == paris(2026, 3, 30, 8, 0)
    assert times["day"] == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)


def test_the_week_the_clocks_go_back():
    start = paris(2026, 10, 26, 10, 0)  # Monday after the change of 25 October
    times = reminder_times(start, paris(2026, 10, 20, 12, 0), "29")
    assert times["day"] == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)
    assert times["48h"].astimezone(PARIS).hour == 11  # Saturday, summer time

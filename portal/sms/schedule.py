"""When an SMS may go: not at night, not on Sundays or public holidays; when reminders go."""

from datetime import UTC, datetime, time, timedelta

from portal.core.clock import PARIS
from portal.core.holidays import holiday_name

DAY_STARTS = time(8, 0)
DAY_ENDS = time(20, 0)
# A 48-hour reminder moved this close to the morning one is not worth a second SMS.
REMINDERS_APART = timedelta(hours=12)


def is_quiet(moment: datetime, department_code: str | None) -> bool:
    """Between 20:00 and 08:00 Paris time, on Sundays and on the department's holidays."""
    local = moment.astimezone(PARIS)
    return (
        not DAY_STARTS <= local.time() < DAY_ENDS
        or local.weekday() == 6
        or holiday_name(local.date(), department_code) is not None
    )


def next_allowed(moment: datetime, department_code: str | None) -> datetime:
    """`moment` itself if an SMS may go then, else the next 08:00 of an allowed day."""
    if not is_quiet(moment, department_code):
        return moment
    local = moment.astimezone(PARIS)
    day = local.date() if local.time() < DAY_STARTS else local.date() + timedelta(days=1)
    while day.weekday() == 6 or holiday_name(day, department_code) is not None:
        day += timedelta(days=1)
    return datetime.combine(day, DAY_STARTS, PARIS).astimezone(UTC)


def reminder_times(
    starts_at: datetime,
    now: datetime,
    department_code: str | None,
    hours_before: int | None = 48,
    morning_hour: int | None = 8,
) -> dict[str, datetime]:
    """When to remind of an appointment: {'48h': …, 'day': …}, each in allowed hours and
    before the start; a reminder that cannot be sent in time is left out."""
    reminders: dict[str, datetime] = {}
    if morning_hour is not None:
        local_day = starts_at.astimezone(PARIS).date()
        due = datetime.combine(local_day, time(morning_hour), PARIS).astimezone(UTC)
        if due <= now or due >= starts_at:
            due = starts_at - timedelta(hours=2)  # booked after the morning: 2 hours before
        due = next_allowed(due, department_code)
        if now < due < starts_at:
            reminders["day"] = due
    if hours_before:
        due = next_allowed(starts_at - timedelta(hours=hours_before), department_code)
        morning = reminders.get("day")
        if now < due < starts_at and (morning is None or morning - due >= REMINDERS_APART):
            reminders["48h"] = due
    return reminders

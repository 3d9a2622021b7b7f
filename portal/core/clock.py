"""The one clock: instants in UTC, days and wall-clock times in Paris."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def utcnow() -> datetime:
    return datetime.now(UTC)


def paris_today() -> date:
    return datetime.now(PARIS).date()


def paris_day(moment: datetime) -> date:
    """The day `moment` falls on in Paris."""
    return moment.astimezone(PARIS).date()


def paris_midnight(day: date) -> datetime:
    """00:00 in Paris on `day`, as a UTC instant."""
    return paris_moment(day, time(0))


def paris_moment(day: date, at: time) -> datetime:
    """A Paris wall-clock time as a UTC instant (an ambiguous one takes its first occurrence)."""
    return datetime.combine(day, at, tzinfo=PARIS).astimezone(UTC)


def exists_in_paris(day: date, at: time) -> bool:
    """False for a time the clocks skip (02:30 on the last Sunday of March)."""
    local = datetime.combine(day, at, tzinfo=PARIS)
    return local.astimezone(UTC).astimezone(PARIS).replace(tzinfo=None) == local.replace(
        tzinfo=None
    )

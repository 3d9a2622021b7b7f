"""Dates, times and numbers as people say them, in Europe/Paris and the chosen language."""

from datetime import date, datetime

from flask_babel import format_date, format_decimal, format_time, get_locale
from flask_babel import gettext as _

from portal.core.clock import paris_day, paris_today
from portal.core.phones import display_phone

# Within this many days of today a date goes without its year, as people say it.
_YEAR_SAID_BEYOND_DAYS = 180


def _time_said(value: datetime) -> str:
    """'10 h 30', '10 h' in French; the language's short time elsewhere ('10:30 AM')."""
    if str(get_locale()) == "fr":
        return format_time(value, "H 'h'" if value.minute == 0 else "H 'h' mm")
    return format_time(value, "short")


def _day_said(day: date) -> str:
    near = abs((day - paris_today()).days) <= _YEAR_SAID_BEYOND_DAYS
    return format_date(day, "EEEE d MMMM" if near else "EEEE d MMMM y")


def datetime_human(value: datetime | None) -> str:
    """'mardi 3 mars à 10 h 30' (the year only when far off), Paris time: as people say it,
    and as an SMS read days later still says it."""
    if value is None:
        return ""
    return _("%(date)s à %(time)s", date=_day_said(paris_day(value)), time=_time_said(value))


def when_relative(value: datetime | None) -> str:
    """'aujourd'hui à 10 h', 'demain à 10 h 30', else as datetime_human: for pages, read
    the moment they are shown (never in an SMS, which may be read another day)."""
    if value is None:
        return ""
    days_away = (paris_day(value) - paris_today()).days
    if days_away == 0:
        return _("aujourd'hui à %(time)s", time=_time_said(value))
    if days_away == 1:
        return _("demain à %(time)s", time=_time_said(value))
    return datetime_human(value)


def time_human(value: datetime | None) -> str:
    """'10:30', Paris time."""
    return format_time(value, "HH:mm") if value else ""


def date_short(value: date | None) -> str:
    """'mar. 3 mars'."""
    return format_date(value, "EEE d MMM") if value else ""


def date_human(value: date | None) -> str:
    if value is None:
        return ""
    return format_date(value, "EEEE d MMMM y")


def phone_display(value: str | None) -> str:
    return display_phone(value) if value else ""


def number(value: float | int | None) -> str:
    """'17,5' in French, '17.5' in English: Babel's decimal for the chosen language."""
    return "" if value is None else format_decimal(value)

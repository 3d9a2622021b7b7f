"""Dates, times and numbers as people say them, in Europe/Paris and the chosen language."""

from datetime import date, datetime

from flask_babel import format_date, format_datetime, format_decimal, format_time

from portal.core.phones import display_phone


def datetime_human(value: datetime | None) -> str:
    """'mardi 3 mars 2026 à 10:30' in French; Babel's long form for the other languages."""
    if value is None:
        return ""
    return format_datetime(value, "EEEE d MMMM y, HH:mm")


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

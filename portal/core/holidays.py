"""Public holidays by department: no slot is offered on one."""

from datetime import date
from functools import lru_cache

import holidays

# Departments whose local law adds holidays (Alsace-Moselle) and the overseas ones,
# mapped to the `holidays` package's subdivision codes; the rest use the national list.
_SUBDIVISIONS = {
    "67": "6AE",
    "68": "6AE",
    "57": "57",
    "971": "971",
    "972": "972",
    "973": "973",
    "974": "974",
    "976": "976",
}


@lru_cache(maxsize=64)
def _calendar(department_code: str | None, year: int) -> holidays.HolidayBase:
    subdiv = _SUBDIVISIONS.get(department_code or "")
    return holidays.France(subdiv=subdiv, years=year, language="fr")


def holiday_name(day: date, department_code: str | None) -> str | None:
    """The holiday's French name if `day` is a public holiday in that department."""
    return _calendar(department_code, day.year).get(day)

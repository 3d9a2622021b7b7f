"""GET /api/v1/indicators: the indicators page's numbers, as JSON (contract v1.1)."""

from flask import g, url_for

from portal.api import schemas
from portal.api.routing import date_arg, field_problem, operation, respond
from portal.indicators import services as indicators


@operation(
    "/indicators",
    "GET",
    summary="The organisation's indicators for the registration cohorts of a period",
    responses={200: schemas.IndicatorsOut, 422: None},
    query=[
        {
            "name": "from",
            "required": True,
            "schema": {"type": "string", "format": "date"},
            "description": "first day of the period (YYYY-MM-DD)",
        },
        {
            "name": "to",
            "required": True,
            "schema": {"type": "string", "format": "date"},
            "description": "last day of the period, at most 5 years after from",
        },
    ],
)
def get_indicators():
    """The same numbers and definitions as the indicators page: cohorts are the calendar
    months the period touches, appointments those that start in it. Rates are fractions
    (0.7 is 70 %); a rate is null while its cohort's days have not all passed."""
    try:
        start, end = indicators.check_period(date_arg("from"), date_arg("to"))
    except indicators.PeriodError as error:
        raise field_problem(error.field, str(error)) from None
    figures = indicators.indicators(g.organisation.id, start, end)
    payload = figures.payload()
    payload["definitions_url"] = url_for("indicators.definitions", _external=True)
    return respond(schemas.IndicatorsOut, payload)

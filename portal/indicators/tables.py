"""The indicators as tables: the page shows them under each chart, the CSV files export them.

One place for the columns, so that a CSV file has exactly the table the page shows.
"""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import format_date, format_decimal, format_percent
from flask_babel import lazy_gettext as _l

from portal.indicators.services import Indicators

TABLES = ("cohorts", "delays", "activation", "appointments", "sms", "referents")


class Rate(float):
    """A fraction: shown as a percentage, exported as 0.7."""


class Days(float):
    """A delay in days."""


def rate(value: float | None) -> Rate | None:
    return None if value is None else Rate(value)


class Pending(str):
    """A rate whose cohort has not had all its days yet: "en cours", not a low rate."""


def cohort_rate(cohort, window: int) -> Rate | Pending:
    if not cohort.complete[window]:
        return Pending(_l("en cours"))
    return rate(cohort.rates[window])


def in_days(value: float | None) -> Days | None:
    return None if value is None else Days(value)


def shown(value: Any) -> str:
    """A cell as the page shows it, in the page's language."""
    if value is None:
        return "–"
    if isinstance(value, Rate):
        return percent(value)
    if isinstance(value, float):
        return days(value)
    if isinstance(value, int):
        return format_decimal(value, "#,##0")
    return str(value)


@dataclass
class Table:
    name: str
    headers: list[str]
    rows: list[list[Any]]  # raw values: int, float (fractions are rates), str, None


def percent(value: float | None) -> str:
    return "" if value is None else format_percent(value, "#,##0 %")


def days(value: float | None) -> str:
    return "" if value is None else format_decimal(value, "#,##0.#")


def month_label(month) -> str:
    return format_date(month, "MMMM yyyy")


def _cohorts(figures: Indicators) -> Table:
    rows = []
    for cohort in figures.cohorts:
        rows.append(
            [
                cohort.month.strftime("%Y-%m"),
                cohort.people,
                cohort.in_activity[30],
                cohort_rate(cohort, 30),
                cohort.in_activity[60],
                cohort_rate(cohort, 60),
                cohort.in_activity[90],
                cohort_rate(cohort, 90),
            ]
        )
    return Table(
        "cohorts",
        [
            str(_l("Mois d'inscription")),
            str(_l("Personnes")),
            str(_l("En activité sous 30 jours")),
            str(_l("Taux à 30 jours")),
            str(_l("En activité sous 60 jours")),
            str(_l("Taux à 60 jours")),
            str(_l("En activité sous 90 jours")),
            str(_l("Taux à 90 jours")),
        ],
        rows,
    )


def _delays(figures: Indicators) -> Table:
    rows = []
    for cohort in figures.cohorts:
        payload = cohort.payload()
        rows.append(
            [
                payload["month"],
                in_days(payload["median_days_to_first_appointment"]),
                in_days(payload["p80_days_to_first_appointment"]),
                in_days(payload["median_days_to_first_activity"]),
                in_days(payload["p80_days_to_first_activity"]),
                in_days(payload["median_days_invitation_to_sign_in"]),
                in_days(payload["p80_days_invitation_to_sign_in"]),
            ]
        )
    return Table(
        "delays",
        [
            str(_l("Mois d'inscription")),
            str(_l("Jusqu'au 1er rendez-vous tenu : médiane (jours)")),
            str(_l("Jusqu'au 1er rendez-vous tenu : 80e centile (jours)")),
            str(_l("Jusqu'à la 1re activité : médiane (jours)")),
            str(_l("Jusqu'à la 1re activité : 80e centile (jours)")),
            str(_l("De l'invitation à la 1re connexion : médiane (jours)")),
            str(_l("De l'invitation à la 1re connexion : 80e centile (jours)")),
        ],
        rows,
    )


def _activation(figures: Indicators) -> Table:
    return Table(
        "activation",
        [
            str(_l("Mois d'inscription")),
            str(_l("Personnes")),
            str(_l("Invitées")),
            str(_l("Connectées au moins une fois")),
            str(_l("Taux d'activation")),
        ],
        [
            [c.month.strftime("%Y-%m"), c.people, c.invited, c.activated, rate(c.activation_rate)]
            for c in figures.cohorts
        ],
    )


def _appointments(figures: Indicators) -> Table:
    a = figures.appointments
    rows = [
        [str(_l("Rendez-vous tenus")), a["held"]],
        [str(_l("Absences non excusées")), a["no_show"]],
        [str(_l("Absences excusées")), a["excused"]],
        [str(_l("Annulés par la personne")), a["cancelled_by"]["beneficiary"]],
        [str(_l("Annulés par un conseiller")), a["cancelled_by"]["counsellor"]],
        [str(_l("Annulés par le logiciel métier")), a["cancelled_by"]["backoffice"]],
        [str(_l("Déplacés par la personne")), a["rescheduled"]],
        [str(_l("Refusés")), a["declined"]],
        [str(_l("Taux d'absence")), rate(a["no_show_rate"])],
        [str(_l("Taux d'absence avec un rappel reçu")), rate(a["with_reminder"]["no_show_rate"])],
        [str(_l("Taux d'absence sans rappel reçu")), rate(a["without_reminder"]["no_show_rate"])],
        [
            str(_l("Demande → confirmation : médiane (jours)")),
            in_days(a["median_days_to_confirmation"]),
        ],
        [
            str(_l("Demande → confirmation : 80e centile (jours)")),
            in_days(a["p80_days_to_confirmation"]),
        ],
    ]
    if a["cancelled_by"].get("unknown"):
        rows.insert(6, [str(_l("Annulés (auteur inconnu)")), a["cancelled_by"]["unknown"]])
    return Table("appointments", [str(_l("Rendez-vous")), str(_l("Nombre ou taux"))], rows)


def _sms(figures: Indicators) -> Table:
    s = figures.sms
    return Table(
        "sms",
        [str(_l("SMS")), str(_l("Nombre"))],
        [
            [str(_l("Envoyés")), s["sent"]],
            [str(_l("Remis")), s["delivered"]],
            [str(_l("En échec")), s["failed"]],
            [str(_l("Segments facturés")), s["segments"]],
            [str(_l("Désinscriptions (STOP)")), s["opted_out"]],
        ],
    )


def _referents(figures: Indicators) -> Table:
    return Table(
        "referents",
        [
            str(_l("Référent")),
            str(_l("Personnes")),
            str(_l("En activité sous 90 jours")),
            str(_l("Connectées au moins une fois")),
        ],
        [
            [
                r["name"] or str(_l("Sans référent")),
                r["people"],
                r["in_activity_within_90_days"],
                r["activated"],
            ]
            for r in figures.referents
        ],
    )


BUILDERS: dict[str, Callable[[Indicators], Table]] = {
    "cohorts": _cohorts,
    "delays": _delays,
    "activation": _activation,
    "appointments": _appointments,
    "sms": _sms,
    "referents": _referents,
}


def table(figures: Indicators, name: str) -> Table:
    return BUILDERS[name](figures)


def as_csv(data: Table) -> str:
    """Rates as fractions with a dot (0.7), so that a spreadsheet reads every file alike."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(data.headers)
    for row in data.rows:
        writer.writerow(["" if value is None else _csv_value(value) for value in row])
    return out.getvalue()


def _csv_value(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # a référent's name never becomes a spreadsheet formula
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return value

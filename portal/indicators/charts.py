"""Horizontal bar charts as plain SVG, laid out here and drawn by templates/_macros/charts.html.

Why not pygal: it always writes a <style> element and inline style="" attributes into its
SVG, and a <script> even with js=[]; the portal's Content-Security-Policy (no inline style
or script) would block them, leaving unstyled charts. These charts are a few rects and
texts styled by classes from the portal's own stylesheet, readable without JavaScript,
mirrored for right-to-left languages, with a title and a description for screen readers
and the numbers in a table under each one.
"""

from dataclasses import dataclass, field

from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from portal.indicators.services import TARGET_RATE, Indicators
from portal.indicators.tables import days, percent

WIDTH = 360
LABEL_WIDTH = 92
BAR_START = 98
BAR_SPACE = 190
ROW = 28
BAR_HEIGHT = 18
TOP = 22


@dataclass
class Bar:
    label: str
    text: str
    y: int
    label_x: int
    label_anchor: str
    bar_x: float = 0
    bar_width: float = 0
    text_x: float = 0
    text_anchor: str = "start"
    is_pending: bool = False
    meets_target: bool = False


@dataclass
class Chart:
    id: str
    title: str
    description: str
    height: int
    bars: list[Bar] = field(default_factory=list)
    target_x: float | None = None
    target_label: str = ""
    target_label_x: float = 0
    target_anchor: str = "middle"


def _is_rtl() -> bool:
    return str(get_locale()) in {"ar"}


def bar_chart(
    chart_id: str,
    title: str,
    rows: list[tuple[str, float | None, str]],
    maximum: float | None = None,
    target: float | None = None,
) -> Chart:
    """`rows` are (label, value or None for "en cours", text shown at the bar's end)."""
    rtl = _is_rtl()
    values = [value for _label, value, _text in rows if value is not None]
    top = maximum or max([*values, target or 0, 1])
    height = TOP + ROW * max(1, len(rows)) + 4
    summary = "; ".join(f"{label} : {text}" for label, _value, text in rows)
    chart = Chart(chart_id, title, summary, height)

    def x(position: float, width: float = 0) -> float:
        return round(WIDTH - position - width, 1) if rtl else round(position, 1)

    for index, (label, value, text) in enumerate(rows):
        y = TOP + ROW * index
        bar = Bar(
            label=label,
            text=text,
            y=y,
            label_x=int(x(LABEL_WIDTH)),
            label_anchor="start" if rtl else "end",
        )
        width = 0.0 if value is None else BAR_SPACE * max(0.0, value) / top
        bar.bar_x = x(BAR_START, width)
        bar.bar_width = round(width, 1)
        bar.text_x = x(BAR_START + width + 4)
        bar.text_anchor = "end" if rtl else "start"
        bar.is_pending = value is None
        bar.meets_target = target is not None and value is not None and value >= target
        chart.bars.append(bar)
    if target is not None:
        position = BAR_START + BAR_SPACE * target / top
        chart.target_x = x(position)
        chart.target_label_x = chart.target_x
        chart.target_label = _("objectif %(rate)s", rate=percent(target))
    return chart


def _month(month) -> str:
    return format_date(month, "MMM yy")


def charts_of(figures: Indicators) -> dict[str, Chart]:
    pending = _("en cours")
    charts: dict[str, Chart] = {}
    for window in (90, 60, 30):
        charts[f"rate_{window}"] = bar_chart(
            f"chart-rate-{window}",
            _(
                "Part des personnes en activité sous %(days)d jours, par mois d'inscription",
                days=window,
            ),
            [
                (
                    _month(c.month),
                    c.rates[window],
                    percent(c.rates[window]) if c.complete[window] else pending,
                )
                for c in figures.cohorts
            ],
            maximum=1,
            target=TARGET_RATE,
        )
    for key, title in (
        ("median_days_to_first_appointment", _("Délai médian jusqu'au 1er rendez-vous tenu")),
        ("median_days_to_first_activity", _("Délai médian jusqu'à la 1re activité")),
    ):
        rows = []
        for cohort in figures.cohorts:
            value = cohort.payload()[key]
            rows.append(
                (
                    _month(cohort.month),
                    value or 0,
                    "–" if value is None else _("%(days)s j", days=days(value)),
                )
            )
        charts[key] = bar_chart(f"chart-{key.replace('_', '-')}", title, rows)
    charts["activation"] = bar_chart(
        "chart-activation",
        _("Taux d'activation du portail, par mois d'inscription"),
        [
            (_month(c.month), c.activation_rate or 0, percent(c.activation_rate) or "–")
            for c in figures.cohorts
        ],
        maximum=1,
    )
    a = figures.appointments
    charts["appointments"] = bar_chart(
        "chart-appointments",
        _("Rendez-vous de la période"),
        [
            (_("Tenus"), a["held"], str(a["held"])),
            (_("Absences"), a["no_show"], str(a["no_show"])),
            (_("Excusés"), a["excused"], str(a["excused"])),
            (_("Annulés"), a["cancelled"], str(a["cancelled"])),
        ],
    )
    charts["no_show"] = bar_chart(
        "chart-no-show",
        _("Taux d'absence, avec ou sans rappel reçu"),
        [
            (
                _("Avec rappel"),
                a["with_reminder"]["no_show_rate"] or 0,
                percent(a["with_reminder"]["no_show_rate"]) or "–",
            ),
            (
                _("Sans rappel"),
                a["without_reminder"]["no_show_rate"] or 0,
                percent(a["without_reminder"]["no_show_rate"]) or "–",
            ),
            (_("Tous"), a["no_show_rate"] or 0, percent(a["no_show_rate"]) or "–"),
        ],
        maximum=1,
    )
    s = figures.sms
    charts["sms"] = bar_chart(
        "chart-sms",
        _("SMS de la période"),
        [
            (_("Envoyés"), s["sent"], str(s["sent"])),
            (_("Remis"), s["delivered"], str(s["delivered"])),
            (_("En échec"), s["failed"], str(s["failed"])),
            (_("Segments"), s["segments"], str(s["segments"])),
            (_("STOP"), s["opted_out"], str(s["opted_out"])),
        ],
    )
    return charts

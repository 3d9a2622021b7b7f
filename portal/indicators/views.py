"""The indicators page, its CSV files and the page of definitions."""

from datetime import date

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from portal.audit import services as audit
from portal.auth.roles import STAFF, public, roles_required
from portal.core.clock import paris_today
from portal.core.web import csv_download
from portal.extensions import db
from portal.indicators import charts, tables
from portal.indicators import services as indicators

bp = Blueprint("indicators", __name__, url_prefix="/conseiller/indicateurs")


def _period() -> tuple[date, date, str | None]:
    """The period in the URL, or the last twelve months with what to fix."""
    raw = (request.args.get("from"), request.args.get("to"))
    if not any(raw):
        return (*indicators.default_period(), None)
    try:
        start = date.fromisoformat(raw[0]) if raw[0] else None
        end = date.fromisoformat(raw[1]) if raw[1] else None
        start, end = indicators.check_period(start, end)
    except (ValueError, indicators.PeriodError):
        message = _(
            "Choisissez une date de début avant la date de fin, au plus 5 ans plus tard. "
            "Les 12 derniers mois sont affichés."
        )
        return (*indicators.default_period(), message)
    return start, end, None


@bp.route("/")
@roles_required(*STAFF)
def page():
    """Every indicator of the organisation for the period: a chart, its table, its CSV."""
    start, end, error = _period()
    figures = indicators.indicators(current_user.organisation_id, start, end)
    return render_template(
        "indicators/page.html",
        figures=figures,
        tables={name: tables.table(figures, name) for name in tables.TABLES},
        charts=charts.charts_of(figures),
        start=start,
        end=end,
        error=error,
        today=paris_today(),
        target=indicators.TARGET_RATE,
        shown=tables.shown,
    )


@bp.route("/<name>.csv")
@roles_required(*STAFF)
def export(name: str):
    """One table of the page as CSV, for the same period."""
    if name not in tables.TABLES:
        abort(404)
    start, end, _error = _period()
    figures = indicators.indicators(current_user.organisation_id, start, end)
    body = tables.as_csv(tables.table(figures, name))
    audit.record(current_user, audit.INDICATORS_EXPORTED, request.remote_addr, detail=name)
    db.session.commit()
    return csv_download(body, f"indicateurs-{name}-{start.isoformat()}-{end.isoformat()}.csv")


@bp.route("/definitions")
@public
def definitions():
    """How each figure is counted: linked from the page and from the API's answers."""
    return render_template("indicators/definitions.html", target=indicators.TARGET_RATE)

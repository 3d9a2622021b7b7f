from datetime import date, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal.appointments import services as appointments
from portal.appointments.forms import DeclineForm, OutcomeForm, SlotForm
from portal.appointments.models import AppointmentStatus, SlotMode, SlotPurpose
from portal.auth.roles import ADMIN, STAFF, roles_required
from portal.caseload import risk, todo
from portal.caseload import search as caseload
from portal.core.clock import paris_day, paris_midnight, paris_today, utcnow
from portal.core.forms import ConfirmForm
from portal.core.web import back_or, query_date
from portal.counsellor.services import person_file
from portal.events import webhooks
from portal.extensions import db
from portal.indicators import tables
from portal.offers import services as offers

bp = Blueprint("counsellor", __name__, url_prefix="/conseiller")


def _home(decline_form=None, failed_id=None, status: int = 200):
    """The staff home: what to do now, for the organisation (default) or for me (?qui=moi)."""
    mine = request.args.get("qui") == "moi"
    only = request.args.get("voir")
    blocks = todo.home(current_user, mine, only if only in todo.BLOCKS else None)
    return render_template(
        "counsellor/home.html",
        blocks=blocks,
        mine=mine,
        rules=risk.RULES,
        rule_labels={rule.key: rule.label for rule in risk.RULES},
        paris_day=paris_day,
        decline_form=decline_form or DeclineForm(),
        blank_decline_form=DeclineForm(formdata=None),
        confirm_form=ConfirmForm(),
        failed_id=failed_id,
    ), status


@bp.route("/")
@roles_required(*STAFF)
def index():
    """What to do now: each block with its count, the oldest requests first."""
    return _home()


@bp.route("/interets/<int:interest_id>/vu", methods=["POST"])
@roles_required(*STAFF)
def acknowledge_interest(interest_id: int):
    """The référent took the person's interest in hand: it leaves the to-do list."""
    interest = offers.organisation_interest(current_user, interest_id)
    if interest is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    offers.acknowledge(interest)
    db.session.commit()
    message = _(
        "Noté : l'intérêt de %(name)s pour « %(offer)s » est traité.",
        name=interest.beneficiary.first_name,
        offer=interest.offer.title,
    )
    if request.htmx:
        return render_template("counsellor/_acknowledged.html", message=message)
    flash(message, "info")
    return redirect(url_for("counsellor.index"))


def _appointment_or_404(appointment_id: int):
    appointment = appointments.organisation_appointment(
        current_user.organisation_id, appointment_id
    )
    if appointment is None:
        abort(404)
    return appointment


def _answer_row(appointment, message: str, error: str | None = None):
    """After an action: the row alone for htmx, the page it came from otherwise."""
    if request.htmx:
        return render_template(
            "counsellor/_answered.html", appointment=appointment, message=message, error=error
        )
    flash(error or message, "error" if error else "info")
    return redirect(back_or(url_for("counsellor.index")))


@bp.route("/rendez-vous/<int:appointment_id>/confirmer", methods=["POST"])
@roles_required(*STAFF)
def confirm(appointment_id: int):
    """Confirms a request; the person gets an SMS and the back office an event."""
    appointment = _appointment_or_404(appointment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        appointments.set_status(appointment, AppointmentStatus.CONFIRMED, None, by="counsellor")
    except appointments.AppointmentError:
        db.session.rollback()
        return _answer_row(appointment, "", _("Ce rendez-vous ne peut plus être confirmé."))
    db.session.commit()
    return _answer_row(appointment, _("Confirmé. Un SMS prévient la personne."))


@bp.route("/rendez-vous/<int:appointment_id>/refuser", methods=["POST"])
@roles_required(*STAFF)
def decline(appointment_id: int):
    """Declines a request with a reason the person will read."""
    appointment = _appointment_or_404(appointment_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        if request.htmx:
            return render_template(
                "counsellor/_request.html",
                appointment=appointment,
                decline_form=form,
                blank_decline_form=form,
                confirm_form=ConfirmForm(),
            )
        return _home(form, appointment.id, 422)
    try:
        appointments.set_status(
            appointment, AppointmentStatus.DECLINED, form.reason.data.strip(), by="counsellor"
        )
    except appointments.AppointmentError:
        db.session.rollback()
        return _answer_row(appointment, "", _("Ce rendez-vous ne peut plus être refusé."))
    db.session.commit()
    return _answer_row(appointment, _("Refusé. Un SMS prévient la personne, avec votre motif."))


@bp.route("/agenda")
@roles_required(*STAFF)
def agenda():
    """Today and the week: after the start, record what happened."""
    today = paris_today()
    start = query_date("semaine") or today
    start -= timedelta(days=start.weekday())
    begin = paris_midnight(start)
    end = paris_midnight(start + timedelta(days=7))
    days: dict[date, list] = {}
    for appointment in appointments.agenda(current_user, begin, end):
        days.setdefault(paris_day(appointment.slot.starts_at), []).append(appointment)
    return render_template(
        "counsellor/agenda.html",
        days=days,
        today=today,
        week_start=start,
        previous_week=start - timedelta(days=7),
        next_week=start + timedelta(days=7),
        now=utcnow(),
        outcome_form=OutcomeForm(),
    )


@bp.route("/rendez-vous/<int:appointment_id>/issue", methods=["POST"])
@roles_required(*STAFF)
def outcome(appointment_id: int):
    """Attended, no-show or excused, once the appointment has started."""
    appointment = _appointment_or_404(appointment_id)
    form = OutcomeForm()
    if not form.validate_on_submit():
        return _answer_row(appointment, "", _("Choisissez ce qui s'est passé."))
    try:
        appointments.set_status(
            appointment, AppointmentStatus(form.outcome.data), None, by="counsellor"
        )
    except appointments.AppointmentError as error:
        db.session.rollback()
        message = (
            _("Ce sera possible après l'heure du rendez-vous.")
            if error.code == "too_early"
            else _("Ce changement n'est pas possible pour ce rendez-vous.")
        )
        return _answer_row(appointment, "", message)
    db.session.commit()
    return _answer_row(appointment, _("Enregistré. Le logiciel métier est prévenu."))


@bp.route("/creneaux", methods=["GET", "POST"])
@roles_required(*STAFF)
def slots():
    """The counsellor's free and booked slots to come, and a form to publish more."""
    form = SlotForm()
    if form.validate_on_submit():
        try:
            created = appointments.publish_slots(
                current_user,
                form.first_day.data,
                form.time.data,
                form.duration_minutes.data,
                SlotMode(form.mode.data),
                (form.location.data or "").strip() or None,
                SlotPurpose(form.purpose.data),
                form.repeat_until.data,
            )
        except appointments.AppointmentError as error:
            db.session.rollback()
            field = {"starts_at": "first_day", "time": "time"}.get(error.field or "", error.field)
            target = getattr(form, field, None) if field else None
            message = _slot_error_message(error)
            if target is not None:
                target.errors = [*target.errors, message]
            else:
                form.form_errors.append(message)
        else:
            db.session.commit()
            flash(
                ngettext("%(num)s moment publié.", "%(num)s moments publiés.", len(created)), "info"
            )
            return redirect(url_for("counsellor.slots"))
    return render_template(
        "counsellor/slots.html",
        form=form,
        slots=appointments.own_slots(current_user),
        confirm_form=ConfirmForm(),
    )


def _slot_error_message(error) -> str:
    return {
        "holiday": _("Ce jour est férié dans votre département : choisissez-en un autre."),
        "no_such_time": _("Cette heure n'existe pas ce jour-là (changement d'heure)."),
        "past": _("Ce moment est déjà passé."),
        "location_required": _("Indiquez l'adresse pour un rendez-vous sur place."),
        "bad_period": _("La fin de la série doit tomber entre le premier jour et un an plus tard."),
    }.get(error.code, _("Ce créneau ne peut pas être publié."))


@bp.route("/creneaux/<int:slot_id>/retirer", methods=["POST"])
@roles_required(*STAFF)
def withdraw(slot_id: int):
    """Withdraws one of the counsellor's free slots."""
    slot = appointments.own_slot(current_user, slot_id)
    if slot is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        appointments.withdraw_slot(slot, cancel_booking=False)
    except appointments.AppointmentError:
        db.session.rollback()
        flash(_("Ce moment est réservé : annulez d'abord le rendez-vous."), "error")
    else:
        db.session.commit()
        flash(_("Moment retiré."), "info")
    return redirect(url_for("counsellor.slots"))


def _caseload_filters() -> caseload.Filters:
    """The caseload's filters from the query string; a value out of its choices is ignored."""
    referent = request.args.get("referent") or None
    if referent and referent not in dict(caseload.referents(current_user)):
        referent = None
    chosen_risk = request.args.get("risque")
    activity = {"oui": True, "non": False}.get(request.args.get("activite", ""))
    page = request.args.get("page", "")
    return caseload.Filters(
        text=request.args.get("q", "")[: caseload.MAX_TEXT],
        mine=request.args.get("qui") == "moi",
        referent=referent,
        risk=chosen_risk if chosen_risk in (*risk.RULE_KEYS, risk.ANY) else None,
        activity=activity,
        registered_from=query_date("du"),
        registered_to=query_date("au"),
        sort=request.args.get("tri") if request.args.get("tri") in caseload.SORTS else "nom",
        page=int(page) if page.isascii() and page.isdigit() and len(page) < 7 else 1,
    )


@bp.route("/dossiers", endpoint="caseload")
@roles_required(*STAFF)
def caseload_page():
    """The organisation's people: search, filters, sort, 50 a page."""
    filters = _caseload_filters()
    return render_template(
        "counsellor/caseload.html",
        filters=filters,
        page=caseload.search(current_user, filters),
        counts=caseload.counts(current_user, with_risks=False),
        referents=caseload.referents(current_user),
        rules=risk.RULES,
        rule_labels={rule.key: rule.label for rule in risk.RULES},
        sorts=caseload.SORTS,
    )


@bp.route("/dossiers.csv", endpoint="caseload_export")
@roles_required(*STAFF)
def caseload_csv():
    """The filtered caseload, every page, as CSV (UTF-8 with its mark, for Excel)."""
    filters = _caseload_filters()
    labels = {rule.key: str(rule.label) for rule in risk.RULES}
    headers = [str(header) for header in caseload.CSV_HEADERS]
    rows = [caseload.csv_values(row, labels) for row in caseload.every_row(current_user, filters)]
    body = tables.as_csv(tables.Table("dossiers", headers, rows))
    filename = f"dossiers-{paris_today().isoformat()}.csv"
    return Response(
        "\ufeff" + body,  # Excel reads UTF-8 (accents, Arabic) only with the mark
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/webhooks")
@roles_required(ADMIN)
def webhook_deliveries():
    """For the organisation's administrators: what the back office's receiver was sent,
    attempt by attempt, and what it answered."""
    return render_template(
        "counsellor/webhooks.html",
        endpoint=webhooks.endpoint_of(current_user.organisation),
        deliveries=webhooks.recent_deliveries(current_user.organisation),
    )


@bp.route("/personnes/<int:beneficiary_id>")
@roles_required(*STAFF)
def person(beneficiary_id: int):
    """The same timeline the person sees, for a person the counsellor's organisation follows."""
    file = person_file(current_user, beneficiary_id)
    if file is None:
        abort(404)
    return render_template(
        "counsellor/person.html",
        person=file.person,
        external_id=file.external_id,
        pathway=file.pathway,
        messages=file.messages,
        interests=file.interests,
    )

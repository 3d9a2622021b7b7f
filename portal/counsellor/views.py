from datetime import date, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_time, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from portal.appointments import services as appointments
from portal.appointments.forms import (
    PURPOSE_CHOICES,
    CancelForm,
    DeclineForm,
    OutcomeForm,
    SlotForm,
)
from portal.appointments.models import AppointmentStatus, SlotMode, SlotPurpose
from portal.audit import services as audit
from portal.auth.roles import ADMIN, STAFF, roles_required
from portal.caseload import risk, todo
from portal.caseload import search as caseload
from portal.core.clock import PARIS, paris_day, paris_midnight, paris_today, utcnow
from portal.core.forms import ConfirmForm
from portal.core.web import back_or, csv_download, query_date, query_page
from portal.counsellor.services import person_file
from portal.events import webhooks
from portal.extensions import db
from portal.handover.services import handovers_to_answer
from portal.indicators import tables
from portal.offers import services as offers

bp = Blueprint("counsellor", __name__, url_prefix="/conseiller")


@bp.context_processor
def staff_words() -> dict:
    """Slot purposes in the counsellors' words (the person's pages say them at length)."""
    return {"purpose_labels": {choice.value: choice.label for choice in PURPOSE_CHOICES}}


def _home(decline_form=None, failed_id=None, status: int = 200):
    """The staff home: what to do now, for the organisation (default) or for me (?qui=moi)."""
    mine = request.args.get("qui") == "moi"
    only = request.args.get("voir")
    blocks = todo.home(current_user, mine, only if only in todo.BLOCKS else None)
    # Hand-overs are proposed to the organisation as a whole: shown on its full home.
    handovers = None if mine or only else handovers_to_answer(current_user)
    return render_template(
        "counsellor/home.html",
        blocks=blocks,
        handovers=handovers,
        mine=mine,
        rules=risk.RULES,
        rule_labels=risk.LABELS,
        dormant_months=current_app.config["DORMANT_PERSON_MONTHS"],
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


# Where an action on an appointment was made: the form says so, and the answer (the row
# alone for htmx, the page again otherwise) goes back there.
FROM_FILE = "dossier"
FROM_AGENDA = "agenda"
FROM_SESSION = "seance"


def _answer_row(appointment, message: str, error: str | None = None):
    """After an action: the row alone for htmx, the page it came from otherwise."""
    origin = request.form.get("depuis")
    if request.htmx:
        if origin == FROM_FILE:
            return _file_row(appointment, message=message, error=error)
        if origin == FROM_AGENDA:
            return render_template(
                "counsellor/_agenda_appointment.html",
                appointment=appointment,
                message=message,
                error=error,
                now=utcnow(),
                outcome_form=OutcomeForm(formdata=None),
                whole_organisation=request.form.get("qui") == "organisation",
            )
        if origin == FROM_SESSION:
            return render_template(
                "counsellor/_session_attendee.html",
                appointment=appointment,
                message=message,
                error=error,
                now=utcnow(),
                outcome_form=OutcomeForm(formdata=None),
            )
        return render_template(
            "counsellor/_answered.html", appointment=appointment, message=message, error=error
        )
    flash(error or message, "error" if error else "info")
    if origin == FROM_SESSION:
        return redirect(
            url_for("counsellor.session", slot_id=appointment.slot_id) + f"#seance-{appointment.id}"
        )
    if origin == FROM_FILE and appointment.beneficiary_id is not None:
        return redirect(
            url_for("counsellor.person", beneficiary_id=appointment.beneficiary_id)
            + f"#rdv-{appointment.id}"
        )
    return redirect(back_or(url_for("counsellor.index")))


def _file_row(appointment, status: int = 200, failed_form=None, **context):
    return render_template(
        "counsellor/_file_appointment.html",
        appointment=appointment,
        **_file_forms(failed_form),
        **context,
    ), status


def _file_forms(failed_form=None) -> dict:
    """The blank forms of a file's appointment rows, and the one that failed, if any."""
    forms = {
        "confirm_form": ConfirmForm(),
        "decline_form": DeclineForm(formdata=None),
        "cancel_form": CancelForm(formdata=None),
        "outcome_form": OutcomeForm(formdata=None),
        "now": utcnow(),
    }
    if isinstance(failed_form, CancelForm):
        forms["failed_cancel"] = failed_form
    elif isinstance(failed_form, DeclineForm):
        forms["failed_decline"] = failed_form
    return forms


def _refused_reason(appointment, form):
    """A reason missing or too long: said next to the field, on the page it came from,
    with what was typed. A 422 for a page; htmx swaps only a 2xx, so the row comes as 200."""
    if request.form.get("depuis") == FROM_FILE:
        if request.htmx:
            return _file_row(appointment, failed_form=form)
        file = person_file(current_user, appointment.beneficiary_id or 0)
        if file is None:
            abort(404)
        return _render_file(file, 422, failed_form=form, failed_id=appointment.id)
    if request.htmx:
        return render_template(
            "counsellor/_request.html",
            appointment=appointment,
            decline_form=form,
            blank_decline_form=form,
            confirm_form=ConfirmForm(),
        )
    return _home(form, appointment.id, 422)


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
        return _refused_reason(appointment, form)
    try:
        appointments.set_status(
            appointment, AppointmentStatus.DECLINED, form.reason.data.strip(), by="counsellor"
        )
    except appointments.AppointmentError:
        db.session.rollback()
        return _answer_row(appointment, "", _("Ce rendez-vous ne peut plus être refusé."))
    db.session.commit()
    return _answer_row(appointment, _("Refusé. Un SMS prévient la personne, avec votre motif."))


@bp.route("/rendez-vous/<int:appointment_id>/annuler", methods=["POST"])
@roles_required(*STAFF)
def cancel(appointment_id: int):
    """Cancels a requested or confirmed appointment with a reason: the person reads it in
    an SMS, the back office gets an event."""
    appointment = _appointment_or_404(appointment_id)
    form = CancelForm()
    if not form.validate_on_submit():
        return _refused_reason(appointment, form)
    try:
        appointments.cancel(appointment, by="counsellor", reason=form.reason.data.strip())
    except appointments.AppointmentError:
        db.session.rollback()
        return _answer_row(appointment, "", _("Ce rendez-vous ne peut plus être annulé."))
    db.session.commit()
    return _answer_row(appointment, _("Annulé. Un SMS prévient la personne, avec votre motif."))


@bp.route("/agenda")
@roles_required(*STAFF)
def agenda():
    """The week, a column a day: after the start, record what happened. Mine by default,
    the whole organisation's with ?qui=organisation."""
    today = paris_today()
    start = query_date("semaine") or today
    start -= timedelta(days=start.weekday())
    whole_organisation = request.args.get("qui") == "organisation"
    days: dict[date, list] = {start + timedelta(days=n): [] for n in range(5)}
    for entry in appointments.agenda(
        current_user,
        paris_midnight(start),
        paris_midnight(start + timedelta(days=7)),
        whole_organisation=whole_organisation,
    ):
        days.setdefault(paris_day(entry.slot.starts_at), []).append(entry)
    return render_template(
        "counsellor/agenda.html",
        days=days,
        today=today,
        week_start=start,
        previous_week=start - timedelta(days=7),
        next_week=start + timedelta(days=7),
        this_week=today - timedelta(days=today.weekday()),
        whole_organisation=whole_organisation,
        now=utcnow(),
        outcome_form=OutcomeForm(formdata=None),
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


@bp.route("/seances/<int:slot_id>")
@roles_required(*STAFF)
def session(slot_id: int):
    """A collective session of the organisation: its seats, the people booked on it with
    their status and, once it has started, what happened for each one."""
    found = appointments.session_attendees(current_user.organisation_id, slot_id)
    if found is None:
        abort(404)
    slot, attendees = found
    return render_template(
        "counsellor/session.html",
        slot=slot,
        attendees=attendees,
        day=paris_day(slot.starts_at),
        now=utcnow(),
        outcome_form=OutcomeForm(formdata=None),
    )


SLOT_WEEKS_SHOWN = 4


@bp.route("/creneaux", methods=["GET", "POST"])
@roles_required(*STAFF)
def slots():
    """The counsellor's slots to come, four weeks a page, and a form to publish more."""
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
                form.until_time.data,
                video_url=form.video_url.data or None,
                capacity=form.capacity.data or 1,
                title=(form.title.data or "").strip() or None,
            )
        except appointments.AppointmentError as error:
            db.session.rollback()
            field = {"starts_at": "first_day", "until": "until_time"}.get(
                error.field or "", error.field
            )
            target = getattr(form, field, None) if field else None
            message = _slot_error_message(error)
            if target is not None:
                target.errors = [*target.errors, message]
            else:
                form.form_errors.append(message)
        else:
            db.session.commit()
            flash(published_message(created), "info")
            return redirect(url_for("counsellor.slots"))
    status = 422 if request.method == "POST" else 200
    this_week = paris_today() - timedelta(days=paris_today().weekday())
    first_week = max(query_date("depuis") or this_week, this_week)
    first_week -= timedelta(days=first_week.weekday())
    end = first_week + timedelta(weeks=SLOT_WEEKS_SHOWN)
    weeks: dict[date, list] = {}
    for slot, booked in appointments.slots_with_bookings(
        current_user, paris_midnight(first_week), paris_midnight(end)
    ):
        day = paris_day(slot.starts_at)
        weeks.setdefault(day - timedelta(days=day.weekday()), []).append((slot, booked))
    return render_template(
        "counsellor/slots.html",
        form=form,
        weeks=weeks,
        first_week=first_week,
        next_weeks=end,
        previous_weeks=first_week - timedelta(weeks=SLOT_WEEKS_SHOWN)
        if first_week > this_week
        else None,
        confirm_form=ConfirmForm(),
    ), status


def published_message(created: list) -> str:
    """'12 moments publiés : lundi 7 au vendredi 11 décembre, 09:00–12:00', in the
    counsellor's language."""
    starts = [slot.starts_at for slot in created]
    first, last = paris_day(min(starts)), paris_day(max(starts))
    if first == last:
        days = format_date(first, "EEEE d MMMM")
    else:
        same_month = (first.year, first.month) == (last.year, last.month)
        days = _(
            "%(first)s au %(last)s",
            first=format_date(first, "EEEE d" if same_month else "EEEE d MMMM"),
            last=format_date(last, "EEEE d MMMM"),
        )
    ends = [slot.ends_at for slot in created]
    hours = _(
        "%(start)s–%(end)s",
        start=format_time(min(starts, key=_wall_clock), "HH:mm"),
        end=format_time(max(ends, key=_wall_clock), "HH:mm"),
    )
    return ngettext(
        "%(num)s moment publié : %(days)s, %(hours)s.",
        "%(num)s moments publiés : %(days)s, %(hours)s.",
        len(created),
        days=days,
        hours=hours,
    )


def _wall_clock(moment):
    return moment.astimezone(PARIS).time()


def _slot_error_message(error) -> str:
    return {
        "holiday": _("Ce jour est férié dans votre département : choisissez-en un autre."),
        "no_such_time": _("Cette heure n'existe pas ce jour-là (changement d'heure)."),
        "past": _("Ce moment est déjà passé."),
        "location_required": _("Indiquez l'adresse pour un rendez-vous sur place."),
        "bad_period": _("La fin de la série doit tomber entre le premier jour et un an plus tard."),
        "bad_until": _("L'heure de fin doit laisser la place d'au moins un moment."),
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
    return caseload.Filters(
        text=request.args.get("q", ""),
        mine=request.args.get("qui") == "moi",
        referent=referent,
        risk=chosen_risk if chosen_risk in (*risk.RULE_KEYS, risk.ANY) else None,
        activity=activity,
        registered_from=query_date("du"),
        registered_to=query_date("au"),
        sort=request.args.get("tri") if request.args.get("tri") in caseload.SORTS else "nom",
        page=query_page(),
    )


@bp.route("/dossiers", endpoint="caseload")
@roles_required(*STAFF)
def caseload_page():
    """The organisation's people: search, filters, sort, 50 a page."""
    filters = _caseload_filters()
    html = render_template(
        "counsellor/caseload.html",
        filters=filters,
        page=caseload.search(current_user, filters),
        counts=caseload.counts(current_user, with_risks=False),
        referents=caseload.referents(current_user),
        rules=risk.RULES,
        rule_labels=risk.LABELS,
        sorts=caseload.SORTS,
    )
    _audit_caseload(audit.CASELOAD_SEARCHED, filters)
    return html


def _audit_caseload(action: str, filters: caseload.Filters) -> None:
    """Who searched the caseload, with the kind of terms only (never a number typed)."""
    audit.record(
        current_user, action, request.remote_addr, detail=caseload.terms_kind(filters.text)
    )
    db.session.commit()


@bp.route("/dossiers.csv", endpoint="caseload_export")
@roles_required(*STAFF)
def caseload_csv():
    """The filtered caseload, every page, as CSV (UTF-8 with its mark, for Excel)."""
    filters = _caseload_filters()
    labels = {key: str(label) for key, label in risk.LABELS.items()}
    headers = [str(header) for header in caseload.CSV_HEADERS]
    rows = [caseload.csv_values(row, labels) for row in caseload.every_row(current_user, filters)]
    body = tables.as_csv(tables.Table("dossiers", headers, rows))
    _audit_caseload(audit.CASELOAD_EXPORTED, filters)
    return csv_download(body, f"dossiers-{paris_today().isoformat()}.csv")


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
    """A person's file, for a person the counsellor's organisation follows: who they are,
    who follows them, their pathway, the organisation's appointments with them (to act
    on), invitations, interests and SMS."""
    file = person_file(current_user, beneficiary_id)
    if file is None:
        abort(404)
    # Rendered before the commit, which would expire what the page reads: one INSERT more.
    page = _render_file(file)
    audit.record(current_user, audit.PERSON_VIEWED, request.remote_addr, person_id=beneficiary_id)
    db.session.commit()
    return page


def _render_file(file, status: int = 200, failed_form=None, failed_id=None):
    return render_template(
        "counsellor/person.html", file=file, failed_id=failed_id, **_file_forms(failed_form)
    ), status

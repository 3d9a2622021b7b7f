"""Booking, moving and cancelling, for the beneficiary."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.appointments import labels, services
from portal.appointments.models import SlotMode, SlotPurpose
from portal.auth.roles import BENEFICIARY, roles_required
from portal.beneficiaries.services import referent_emails
from portal.core.formatting import datetime_human
from portal.core.forms import ConfirmForm
from portal.core.web import page_or_fragment, query_date, query_id
from portal.extensions import db

bp = Blueprint("appointments", __name__, url_prefix="/rendez-vous")


@bp.app_context_processor
def appointment_words():
    return {"appointment_labels": labels, "may_record_outcome": services.may_record_outcome}


def _own_or_404(appointment_id: int):
    appointment = services.own_appointment(current_user, appointment_id)
    if appointment is None:
        abort(404)
    return appointment


# The ?mode= of the booking page, in the words of its URLs.
MODES_IN_URL = {
    "sur-place": SlotMode.IN_PERSON,
    "telephone": SlotMode.PHONE,
    "video": SlotMode.VIDEO,
}


def _by_purpose(slots) -> list[tuple[SlotPurpose, list]]:
    """A day's slots under one title per purpose, in the order a pathway meets them; each
    group in time order."""
    groups: dict[SlotPurpose, list] = {purpose: [] for purpose in SlotPurpose}
    for slot in slots:
        groups[slot.purpose].append(slot)
    return [(purpose, group) for purpose, group in groups.items() if group]


@bp.route("/")
@roles_required(BENEFICIARY)
def index():
    """The person's appointments to come, and the way to book one."""
    return render_template("appointments/index.html", appointments=services.upcoming(current_user))


@bp.route("/nouveau")
@roles_required(BENEFICIARY)
def choose():
    """Free slots that fit the person, one day at a time (htmx swaps the day), by purpose
    and in time order; ?mode= keeps one way of meeting."""
    moving = query_id("deplacer")
    if moving is not None:
        _own_or_404(moving)
    mode_name = request.args.get("mode")
    mode = MODES_IN_URL.get(mode_name or "")
    days = services.bookable_days(current_user, mode)
    day = query_date("jour")
    if day not in days.counts:
        day = next(iter(days.counts), None)
    slots = services.bookable_slots(current_user, day=day, mode=mode) if day else []
    return page_or_fragment(
        "appointments/choose.html",
        "appointments/_choice.html",
        days=days,
        day=day,
        groups=_by_purpose(slots),
        mode=mode_name if mode else None,
        modes_in_url=MODES_IN_URL,
        moving=moving,
        referents=referent_emails(current_user),
    )


@bp.route("/creneaux/<int:slot_id>", methods=["GET", "POST"])
@roles_required(BENEFICIARY)
def confirm(slot_id: int):
    """A summary of the slot and one button; the booking (or the move) happens on POST."""
    moving_id = query_id("deplacer")
    moving = _own_or_404(moving_id) if moving_id is not None else None
    slot = services.bookable_slot(current_user, slot_id)
    if slot is None:
        return _not_bookable(slot_id, moving_id)
    form = ConfirmForm()
    # Two appointments at once must never be: said before the button, and checked again
    # under lock when it is pressed.
    clash = services.clashing_appointment(current_user, slot, ignoring=moving)
    if clash is None and form.validate_on_submit():
        try:
            if moving is not None:
                appointment = services.reschedule(moving, slot_id)
            else:
                appointment = services.book(current_user, slot_id)
            db.session.commit()
        except services.AppointmentError as error:
            db.session.rollback()
            if error.code == "clash":
                return render_template(
                    "appointments/confirm.html",
                    slot=slot,
                    form=form,
                    moving=moving,
                    clash=error.other,
                    confirms_at_once=services.confirms_at_once(slot),
                ), 409
            if error.code == "too_many":
                flash(
                    _(
                        "Vous avez déjà %(count)s rendez-vous à venir. "
                        "Annulez-en un pour en prendre un autre.",
                        count=error.limit,
                    ),
                    "error",
                )
                return redirect(url_for("appointments.index"))
            if error.code == "too_late":
                flash(
                    _("Il est trop tard pour le déplacer en ligne. Appelez votre conseiller."),
                    "error",
                )
                return redirect(url_for("appointments.detail", appointment_id=moving_id))
            return _not_bookable(slot_id, moving_id)
        return redirect(url_for("appointments.detail", appointment_id=appointment.id, fait=1))
    return render_template(
        "appointments/confirm.html",
        slot=slot,
        form=form,
        moving=moving,
        clash=clash,
        confirms_at_once=services.confirms_at_once(slot),
    ), (409 if clash is not None and request.method == "POST" else 200)


def _not_bookable(slot_id: int, moving_id: int | None):
    """Someone took the moment (or the session's last seat) first, or the person already
    has a place at this session: said plainly, and where to go next."""
    mine = services.booked_already(current_user, slot_id)
    if mine is not None:
        flash(_("Vous avez déjà une place à cette réunion."), "info")
        return redirect(url_for("appointments.detail", appointment_id=mine.id))
    flash(_("Ce moment vient d'être pris. Choisissez-en un autre."), "error")
    return redirect(url_for("appointments.choose", deplacer=moving_id))


@bp.route("/<int:appointment_id>")
@roles_required(BENEFICIARY)
def detail(appointment_id: int):
    """One appointment: when, where, its status, and what the person can still do."""
    appointment = _own_or_404(appointment_id)
    return render_template(
        "appointments/detail.html",
        appointment=appointment,
        may_change=services.may_change(appointment),
        video_link_open=services.shows_video_link(appointment),
        just_booked=request.args.get("fait") == "1",
        referent=services.referent_for(appointment),
        waitlist=services.waitlist_state(appointment),
    )


@bp.route("/<int:appointment_id>/annuler", methods=["GET", "POST"])
@roles_required(BENEFICIARY)
def cancel(appointment_id: int):
    """A summary, then one button; after the limit, whom to call."""
    appointment = _own_or_404(appointment_id)
    form = ConfirmForm()
    if form.validate_on_submit() and services.may_change(appointment):
        services.cancel_by_beneficiary(appointment)
        db.session.commit()
        flash(
            _(
                "Votre rendez-vous du %(when)s est annulé. Votre conseiller est prévenu.",
                when=datetime_human(appointment.slot.starts_at),
            ),
            "info",
        )
        return redirect(url_for("appointments.index"))
    return render_template(
        "appointments/cancel.html",
        appointment=appointment,
        form=form,
        may_change=services.may_change(appointment),
        referent=services.referent_for(appointment),
    )


@bp.route("/<int:appointment_id>/agenda.ics")
@roles_required(BENEFICIARY)
def calendar(appointment_id: int):
    """The appointment for the phone's calendar, with an alarm an hour before."""
    appointment = _own_or_404(appointment_id)
    body = services.calendar_file(
        appointment,
        summary=_("Rendez-vous avec %(name)s", name=appointment.slot.counsellor.name),
        reminder=_("Rendez-vous dans une heure"),
    )
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="rendez-vous-{appointment.id}.ics"'},
    )


@bp.route("/<int:appointment_id>/plus-tot", methods=["POST"])
@roles_required(BENEFICIARY)
def join_waitlist(appointment_id: int):
    """One tap: an SMS if an earlier moment of the same kind frees up."""
    appointment = _own_or_404(appointment_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.join_waitlist(appointment)
            db.session.commit()
            flash(
                _("C'est noté. Si un moment plus tôt se libère, nous vous envoyons un SMS."), "info"
            )
        except services.AppointmentError:
            db.session.rollback()
            flash(_("Ce rendez-vous ne peut plus être avancé en ligne."), "error")
    return redirect(url_for("appointments.detail", appointment_id=appointment_id))


@bp.route("/<int:appointment_id>/plus-tot/arreter", methods=["POST"])
@roles_required(BENEFICIARY)
def leave_waitlist(appointment_id: int):
    """No more SMS about earlier moments for this appointment."""
    appointment = _own_or_404(appointment_id)
    if ConfirmForm().validate_on_submit():
        services.leave_waitlist(appointment)
        db.session.commit()
        flash(_("C'est noté : nous ne vous préviendrons plus."), "info")
    return redirect(url_for("appointments.detail", appointment_id=appointment_id))


@bp.route("/plus-tot/<int:waitlist_offer_id>", methods=["GET", "POST"])
@roles_required(BENEFICIARY)
def earlier(waitlist_offer_id: int):
    """The link in the SMS: the earlier moment and one button to move there, or, when
    someone was quicker, that it is gone and the appointment stands."""
    offer = services.own_offer(current_user, waitlist_offer_id)
    if offer is None:
        abort(404)
    moved = services.moved_here(offer)
    if moved is not None:  # taken already, by this person: a second tap does no harm
        return redirect(url_for("appointments.detail", appointment_id=moved.id))
    state = services.offer_state(offer)
    form = ConfirmForm()
    if state == "open" and form.validate_on_submit():
        try:
            moved = services.take_offer(offer)
            db.session.commit()
        except services.AppointmentError:
            db.session.rollback()  # someone was quicker: the page now says it is gone
            return redirect(url_for("appointments.earlier", waitlist_offer_id=waitlist_offer_id))
        return redirect(url_for("appointments.detail", appointment_id=moved.id, fait=1))
    status = 409 if request.method == "POST" and state != "open" else 200
    return render_template(
        "appointments/earlier.html",
        offer=offer,
        appointment=offer.entry.appointment,
        state=state,
        form=form,
    ), status

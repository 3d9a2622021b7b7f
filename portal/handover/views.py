"""Hand-over pages for counsellors: propose from a person's file, answer, withdraw."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.roles import STAFF, roles_required
from portal.core.forms import ConfirmForm
from portal.extensions import db
from portal.handover import services
from portal.handover.forms import ProposeForm, RefuseForm

bp = Blueprint("handover", __name__, url_prefix="/conseiller")


def _problem(error: services.HandoverError) -> str:
    return {
        "already_open": _("Une proposition de relais attend déjà une réponse pour cette personne."),
        "already_answered": _("Cette proposition a déjà reçu une réponse ou a été retirée."),
    }.get(error.reason, _("Cette organisation ne suit pas la personne : choisissez-en une autre."))


@bp.route("/personnes/<int:beneficiary_id>/relais", methods=["GET", "POST"])
@roles_required(*STAFF)
def propose(beneficiary_id: int):
    """Propose that another organisation following the person takes the lead."""
    page = services.handover_page(current_user, beneficiary_id)
    if page is None:
        abort(404)
    person = page.follow_up.beneficiary
    form = ProposeForm()
    form.organisation.choices = [
        (str(follow_up.organisation_id), follow_up.organisation.name)
        for follow_up in page.candidates
    ]
    if not form.is_submitted() and len(form.organisation.choices) == 1:
        form.organisation.data = form.organisation.choices[0][0]  # the only one: pre-chosen
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                services.propose(
                    current_user, person, int(form.organisation.data), form.reason.data
                )
            except services.HandoverError as error:
                # Said on the page, with what was typed (one open proposal per person, and
                # who may be chosen, are the service's rules).
                db.session.rollback()
                flash(_problem(error), "error")
            else:
                db.session.commit()
                flash(_("Proposition envoyée. L'autre organisation va répondre."), "info")
                return redirect(url_for("handover.index"))
        status = 422
    return render_template(
        "handover/propose.html", page=page, person=person, form=form, confirm_form=ConfirmForm()
    ), status


def _index(refuse_form=None, failed_id=None, status=200):
    return render_template(
        "handover/index.html",
        to_answer=services.handovers_to_answer(current_user),
        history=services.handover_history(current_user),
        confirm_form=ConfirmForm(),
        blank_refuse_form=RefuseForm(formdata=None),
        refuse_form=refuse_form,
        failed_id=failed_id,
    ), status


@bp.route("/relais")
@roles_required(*STAFF)
def index():
    """Proposals to answer, oldest first, then those sent and answered, newest first."""
    return _index()


def _to_answer_or_404(handover_id: int):
    handover = services.handover_to_answer(current_user, handover_id)
    if handover is None:
        abort(404)
    return handover


def _done(message: str):
    flash(message, "info")
    return redirect(url_for("handover.index"))


def _failed(error: services.HandoverError):
    db.session.rollback()
    flash(_problem(error), "error")
    return redirect(url_for("handover.index"))


@bp.route("/relais/<int:handover_id>/accepter", methods=["POST"])
@roles_required(*STAFF)
def accept(handover_id: int):
    """Our organisation leads the pathway: the person gets an SMS, every follower an event."""
    handover = _to_answer_or_404(handover_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.accept(current_user, handover)
    except services.HandoverError as error:
        return _failed(error)
    db.session.commit()
    return _done(_("Accepté : votre organisation accompagne désormais cette personne."))


@bp.route("/relais/<int:handover_id>/refuser", methods=["POST"])
@roles_required(*STAFF)
def refuse(handover_id: int):
    """Refuses with a reason the proposing organisation reads."""
    handover = _to_answer_or_404(handover_id)
    form = RefuseForm()
    if not form.validate_on_submit():
        return _index(refuse_form=form, failed_id=handover.id, status=422)
    try:
        services.refuse(current_user, handover, form.reason.data)
    except services.HandoverError as error:
        return _failed(error)
    db.session.commit()
    return _done(_("Refusé. L'autre organisation lira votre motif."))


@bp.route("/relais/<int:handover_id>/retirer", methods=["POST"])
@roles_required(*STAFF)
def withdraw(handover_id: int):
    """The proposing organisation takes its proposal back while it waits."""
    handover = services.handover_sent(current_user, handover_id)
    if handover is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.withdraw(current_user, handover)
    except services.HandoverError as error:
        return _failed(error)
    db.session.commit()
    return _done(_("Proposition retirée."))

"""Sign-in and sign-out pages."""

import logging

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.auth import services
from portal.auth.forms import ChooseForm, CodeForm, CounsellorSignInForm, PhoneForm
from portal.auth.roles import BENEFICIARY, STAFF, public, roles_required
from portal.auth.sessions import end_session, start_session
from portal.beneficiaries.models import Beneficiary
from portal.beneficiaries.services import people_by_ids
from portal.core.forms import ConfirmForm
from portal.core.phones import InvalidPhone, display_phone, normalise_mobile
from portal.core.rate_limits import network_key, private_key
from portal.core.web import go_to, local_url, page_or_fragment
from portal.extensions import db, limiter
from portal.sms.sender import send_in_background

logger = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)


def _phone_key() -> str:
    """Rate-limit key for code requests: the number as normalised, whatever its spelling."""
    raw = request.form.get("phone", "")
    try:
        return private_key("phone", normalise_mobile(raw))
    except InvalidPhone:
        return private_key("phone-raw", raw[:40])


def _email_key() -> str:
    return private_key("email", request.form.get("email", "")[:254].strip().lower())


def _per_address(setting: str):
    return limiter.limit(
        lambda: current_app.config[setting], key_func=network_key, methods=["POST"]
    )


@bp.route("/connexion", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["SIGN_IN_CODE_LIMITS_PER_NUMBER"],
    key_func=_phone_key,
    methods=["POST"],
)
@_per_address("SIGN_IN_CODE_LIMITS_PER_IP")
def phone():
    """Asks for a mobile number and sends a sign-in code to it if somebody uses it."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = PhoneForm()
    if form.validate_on_submit():
        message = services.request_sign_in_code(form.normalised_phone)
        db.session.commit()
        if message is not None:
            send_in_background(message.id)
        session["sign_in_phone"] = form.normalised_phone
        session.pop("sign_in_choices", None)
        return go_to(url_for("auth.code", next=request.args.get("next") or None))
    return page_or_fragment("auth/phone.html", "auth/_phone_form.html", form=form)


@bp.route("/connexion/code", methods=["GET", "POST"])
@public
@_per_address("SIGN_IN_CODE_LIMITS_PER_IP")
def code():
    """Checks the code sent by SMS; a shared number then asks who is signing in."""
    phone_number = session.get("sign_in_phone")
    if not phone_number:
        return redirect(url_for("auth.phone"))
    form = CodeForm()
    if form.validate_on_submit():
        check = services.check_sign_in_code(phone_number, form.code.data.strip())
        db.session.commit()
        if check.error == "expired":
            form.code.errors.append(_("Ce code ne marche plus. Demandez un nouveau code."))
        elif check.error == "wrong":
            form.code.errors.append(
                _("Ce code n'est pas le bon. Vérifiez le SMS et réessayez.")
                if check.attempts_left > 1 or check.attempts_left == 0
                else _("Ce code n'est pas le bon. Il vous reste un essai.")
            )
        elif len(check.people) == 1:
            return _finish_beneficiary_sign_in(check.people[0])
        else:
            session["sign_in_choices"] = [person.id for person in check.people]
            return go_to(url_for("auth.choose", next=request.args.get("next") or None))
    return page_or_fragment(
        "auth/code.html",
        "auth/_code_form.html",
        form=form,
        phone_display=display_phone(phone_number),
    )


@bp.route("/connexion/qui", methods=["GET", "POST"])
@public
def choose():
    """For a number two people share: which of them is signing in."""
    choices = session.get("sign_in_choices") or []
    people = people_by_ids(choices)
    if not people:
        return redirect(url_for("auth.phone"))
    form = ChooseForm()
    form.person.choices = [SelectChoice(person.id, person.first_name) for person in people]
    if form.validate_on_submit():
        chosen = next(person for person in people if person.id == form.person.data)
        return _finish_beneficiary_sign_in(chosen)
    return render_template("auth/choose.html", form=form)


def _finish_beneficiary_sign_in(beneficiary: Beneficiary):
    # A language chosen on the way in is the person's choice: keep it on their account.
    if session.get("language") in current_app.config["LANGUAGES"]:
        beneficiary.language = session["language"]
    services.mark_signed_in(beneficiary)
    db.session.commit()
    start_session(beneficiary)
    return go_to(local_url(request.args.get("next"), url_for("home.index")))


@bp.route("/connexion/lien/<token>", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["SIGN_IN_CODE_LIMITS_PER_IP"], key_func=network_key)
def invitation(token: str):
    """A link sent by SMS. Opening it does not spend it (phones preview links); the button does."""
    form = ConfirmForm()
    if services.find_invitation(token) is None:
        return render_template("auth/invitation_expired.html"), 410
    if form.validate_on_submit():
        beneficiary = services.use_invitation(token)
        if beneficiary is None:
            db.session.rollback()
            return render_template("auth/invitation_expired.html"), 410
        return _finish_beneficiary_sign_in(beneficiary)
    return render_template("auth/invitation.html", form=form)


@bp.route("/conseiller/connexion", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["PASSWORD_LIMITS"], key_func=_email_key, methods=["POST"])
@_per_address("PASSWORD_LIMITS")
def counsellor_sign_in():
    """Email and password; one message for every failure, so it tells nothing about accounts."""
    if current_user.is_authenticated and current_user.portal_role in STAFF:
        return redirect(url_for("counsellor.index"))
    form = CounsellorSignInForm()
    failed = False
    if form.validate_on_submit():
        counsellor = services.authenticate_counsellor(form.email.data, form.password.data)
        if counsellor is not None:
            start_session(counsellor)
            return redirect(local_url(request.args.get("next"), url_for("counsellor.index")))
        failed = True
    return render_template("auth/counsellor_sign_in.html", form=form, failed=failed)


@bp.route("/deconnexion", methods=["POST"])
@roles_required(BENEFICIARY, *STAFF)
def sign_out():
    """Ends the session; the page that follows says so."""
    was_staff = current_user.portal_role in STAFF
    end_session()
    flash(_("Vous avez quitté votre espace."), "info")
    return redirect(url_for("auth.counsellor_sign_in" if was_staff else "home.index"))

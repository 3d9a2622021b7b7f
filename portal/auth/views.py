"""Sign-in and sign-out pages."""

import logging

from flask import (
    Blueprint,
    abort,
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

from portal.auth import services, two_factor
from portal.auth.forms import (
    ChooseForm,
    CodeForm,
    CounsellorSignInForm,
    EnrolmentForm,
    PasswordChangeForm,
    PhoneForm,
    SecondStepForm,
    TwoStepRequirementForm,
)
from portal.auth.roles import ADMIN, BENEFICIARY, STAFF, public, roles_required
from portal.auth.sessions import (
    begin_second_step,
    end_second_step,
    end_session,
    has_second_step,
    second_step_account_id,
    second_step_counsellor,
    start_session,
)
from portal.beneficiaries.models import Beneficiary
from portal.beneficiaries.services import people_by_ids
from portal.core.forms import ConfirmForm
from portal.core.phones import InvalidPhone, display_phone, normalise_mobile
from portal.core.rate_limits import network_key, private_key
from portal.core.web import go_to, local_url, page_or_fragment
from portal.extensions import db, limiter
from portal.organisations import services as organisations
from portal.organisations.passwords import PasswordRefused
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


def _account_key() -> str:
    """Rate-limit key for code tries and password changes: the account, whatever the address."""
    account_id = (
        current_user.id
        if current_user.is_authenticated and current_user.portal_role in STAFF
        else second_step_account_id()
    )
    if account_id is None:
        return network_key()
    return private_key("counsellor", str(account_id))


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
        message = services.request_sign_in_code(form.normalised_phone, *_languages_asked())
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


def _languages_asked() -> tuple[str | None, str | None]:
    """The language chosen on the portal in this session, and the browser's best match."""
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("language")
    return (
        chosen if chosen in languages else None,
        request.accept_languages.best_match(list(languages)),
    )


def _finish_beneficiary_sign_in(beneficiary: Beneficiary):
    # The language the person read the sign-in pages in is theirs: kept on their account,
    # so that pages after sign-in and SMS speak it too.
    language = services.reading_language(beneficiary.language, *_languages_asked())
    if language != beneficiary.language:
        beneficiary.language = language
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
        if counsellor is not None and counsellor.has_two_step:
            two_factor.password_accepted(counsellor)
            db.session.commit()
            begin_second_step(counsellor)
            return redirect(url_for("auth.counsellor_code", next=request.args.get("next") or None))
        if counsellor is not None:
            start_session(counsellor)
            if counsellor.must_use_two_step:
                return redirect(url_for("auth.two_step_setup"))
            return redirect(local_url(request.args.get("next"), url_for("counsellor.index")))
        failed = True
    return render_template("auth/counsellor_sign_in.html", form=form, failed=failed)


@bp.route("/conseiller/connexion/code", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["PASSWORD_LIMITS"], key_func=_account_key, methods=["POST"]
)
@_per_address("PASSWORD_LIMITS")
def counsellor_code():
    """The second step: a code from the app or a recovery code, within 5 minutes of the
    password; the fifth wrong code sends back to the password."""
    if current_user.is_authenticated and current_user.portal_role in STAFF:
        return redirect(url_for("counsellor.index"))
    next_url = request.args.get("next") or None
    counsellor = second_step_counsellor()
    if counsellor is None:
        if has_second_step():
            end_second_step()
            flash(_("Pour protéger votre compte, reconnectez-vous."), "info")
        return redirect(url_for("auth.counsellor_sign_in", next=next_url))
    form = SecondStepForm()
    if form.validate_on_submit():
        result = two_factor.check_second_step(counsellor, form.code.data)
        db.session.commit()
        if result.ok:
            start_session(counsellor)
            if result.used_recovery_code:
                flash(
                    _(
                        "Vous avez utilisé un code de secours : il ne marchera plus. "
                        "Il vous en reste %(count)d.",
                        count=two_factor.recovery_codes_left(counsellor),
                    ),
                    "info",
                )
            return redirect(local_url(next_url, url_for("counsellor.index")))
        if result.locked:
            end_second_step()
            flash(_("Trop de codes faux. Reconnectez-vous avec votre mot de passe."), "info")
            return redirect(url_for("auth.counsellor_sign_in", next=next_url))
        form.code.errors.append(
            _("Ce code n'est pas le bon. Il vous reste un essai.")
            if result.attempts_left == 1
            else _("Ce code n'est pas le bon. Vérifiez l'heure de votre téléphone et réessayez.")
        )
    return render_template("auth/counsellor_code.html", form=form)


@bp.route("/conseiller/compte")
@roles_required(*STAFF)
def account():
    """The counsellor's own account: password, two-step sign-in and, for administrators,
    the organisation's rule and their colleagues' two-step sign-in."""
    return _account_page(PasswordChangeForm(formdata=None))


def _account_page(password_form: PasswordChangeForm, status: int = 200):
    is_admin = current_user.portal_role == ADMIN
    requirement_form = TwoStepRequirementForm(
        formdata=None,
        requirement=(
            "required" if current_user.organisation.require_totp_for_counsellors else "optional"
        ),
    )
    return render_template(
        "auth/account.html",
        password_form=password_form,
        recovery_codes_left=(
            two_factor.recovery_codes_left(current_user) if current_user.has_two_step else 0
        ),
        requirement_form=requirement_form if is_admin else None,
        colleagues=organisations.counsellors_of(current_user.organisation) if is_admin else [],
        reset_form=ConfirmForm(),
    ), status


@bp.route("/conseiller/compte/mot-de-passe", methods=["POST"])
@roles_required(*STAFF)
@limiter.limit(lambda: current_app.config["PASSWORD_LIMITS"], key_func=_account_key)
def change_password():
    """A new password, with the current one; every other session of the account ends."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            organisations.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except organisations.WrongCurrentPassword:
            form.current_password.errors.append(
                _("Ce n'est pas votre mot de passe actuel. Vérifiez-le.")
            )
        except PasswordRefused as refused:
            form.new_password.errors.append(str(refused))
        else:
            db.session.commit()
            start_session(current_user._get_current_object())
            flash(_("Votre mot de passe est changé. Vos autres sessions sont fermées."), "info")
            return redirect(url_for("auth.account"))
    db.session.rollback()
    return _account_page(form, status=422)


@bp.route("/conseiller/compte/double-authentification", methods=["GET", "POST"])
@roles_required(*STAFF)
def two_step_setup():
    """Enrolment: the QR code and the secret for the app, then a first code to confirm;
    the recovery codes are shown on the answer, once."""
    counsellor = current_user._get_current_object()
    if counsellor.has_two_step:
        return redirect(url_for("auth.account"))
    secret = two_factor.pending_secret(counsellor)
    db.session.commit()
    form = EnrolmentForm()
    if form.validate_on_submit():
        codes = two_factor.confirm_enrolment(counsellor, form.code.data)
        if codes is not None:
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes)
        form.code.errors.append(
            _("Ce code n'est pas le bon. Vérifiez l'heure de votre téléphone et réessayez.")
        )
    return render_template(
        "auth/two_step_setup.html",
        form=form,
        qr_code=two_factor.qr_code_svg(
            two_factor.provisioning_uri(counsellor, secret),
            _("Code QR à scanner avec votre application"),
        ),
        secret=two_factor.secret_in_groups(secret),
        forced=counsellor.must_use_two_step,
    )


@bp.route("/conseiller/compte/organisation", methods=["POST"])
@roles_required(ADMIN)
def two_step_requirement():
    """An administrator makes two-step sign-in required (or not) for the organisation's
    counsellors; those not enrolled are signed out when it becomes required."""
    form = TwoStepRequirementForm()
    if not form.validate_on_submit():
        abort(400)
    required = form.requirement.data == "required"
    organisations.require_two_step_for_counsellors(current_user.organisation, required)
    db.session.commit()
    flash(
        _("La connexion en deux étapes est maintenant obligatoire pour tous les conseillers.")
        if required
        else _("La connexion en deux étapes est maintenant au choix de chaque conseiller."),
        "info",
    )
    return redirect(url_for("auth.account"))


@bp.route(
    "/conseiller/compte/conseillers/<int:counsellor_id>/double-authentification",
    methods=["POST"],
)
@roles_required(ADMIN)
def reset_two_step(counsellor_id: int):
    """An administrator resets a colleague's two-step sign-in (a lost phone): the colleague
    is signed out and enrols again."""
    colleague = organisations.colleague(current_user, counsellor_id)
    if colleague is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    two_factor.reset_two_factor(colleague)
    db.session.commit()
    flash(
        _(
            "La connexion en deux étapes de %(name)s est réinitialisée et ses sessions "
            "sont fermées. Cette personne l'active à nouveau avec son téléphone.",
            name=colleague.name,
        ),
        "info",
    )
    return redirect(url_for("auth.account"))


@bp.route("/deconnexion", methods=["POST"])
@roles_required(BENEFICIARY, *STAFF)
def sign_out():
    """Ends the session; the page that follows says so."""
    was_staff = current_user.portal_role in STAFF
    end_session()
    flash(_("Vous avez quitté votre espace."), "info")
    return redirect(url_for("auth.counsellor_sign_in" if was_staff else "home.index"))

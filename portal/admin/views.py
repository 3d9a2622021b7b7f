"""The administration pages of an organisation: counsellors, API keys, webhook, settings.

Each is for the organisation's administrators only and reaches only its own accounts and
keys (another organisation's are a 404, as an id nobody has). A link or key is shown once,
on the answer to the form that made it, and never again.
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin import services
from portal.admin.forms import (
    ApiKeyForm,
    CounsellorForm,
    RoleForm,
    SetPasswordForm,
    SettingsForm,
    WebhookForm,
)
from portal.audit import services as audit
from portal.auth import two_factor
from portal.auth.roles import ADMIN, public, roles_required
from portal.core.forms import ConfirmForm
from portal.core.rate_limits import network_key
from portal.core.web import query_id, query_page
from portal.events import webhooks
from portal.extensions import db, limiter
from portal.organisations import services as organisations
from portal.organisations.models import CounsellorRole
from portal.organisations.passwords import PasswordRefused

bp = Blueprint("admin", __name__)
PREFIX = "/conseiller/administration"


def _refusal_message(code: str) -> str:
    return {
        "self": _("Vous ne pouvez pas désactiver votre propre compte."),
        "last_admin": _(
            "L'organisation doit garder au moins un administrateur actif. "
            "Nommez d'abord quelqu'un d'autre administrateur."
        ),
    }.get(code, _("Ce changement n'est pas possible."))


# -- Counsellors ------------------------------------------------------------------------------


def _counsellors_page(form: CounsellorForm, status: int = 200, **created):
    return render_template(
        "admin/counsellors.html",
        form=form,
        accounts=organisations.counsellors_of(current_user.organisation),
        confirm_form=ConfirmForm(),
        **created,
    ), status


@bp.route(PREFIX + "/")
@bp.route(PREFIX + "/conseillers")
@roles_required(ADMIN)
def counsellors():
    """The organisation's accounts and a form to add one."""
    return _counsellors_page(CounsellorForm(formdata=None))


@bp.route(PREFIX + "/conseillers", methods=["POST"])
@roles_required(ADMIN)
def create_counsellor():
    """A new account; the link to choose a password is on this answer, once."""
    form = CounsellorForm()
    if form.validate_on_submit():
        try:
            counsellor, link = services.invite_counsellor(
                current_user.organisation, form.email.data, form.name.data, form.is_admin.data
            )
        except services.AdminError:
            db.session.rollback()
            form.email.errors.append(_("Un compte existe déjà avec cette adresse e-mail."))
        else:
            db.session.commit()
            return _counsellors_page(
                CounsellorForm(formdata=None), created=counsellor, password_link=link
            )
    return _counsellors_page(form, status=422)


def _account_or_404(counsellor_id: int):
    account = services.account_of(current_user, counsellor_id)
    if account is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return account


def _back_to_counsellors(message: str, category: str = "info"):
    flash(message, category)
    return redirect(url_for("admin.counsellors"))


@bp.route(PREFIX + "/conseillers/<int:counsellor_id>/lien", methods=["POST"])
@roles_required(ADMIN)
def new_password_link(counsellor_id: int):
    """A new link to choose a password (a lost one, an expired invitation, a forgotten
    password); the older links stop working."""
    account = _account_or_404(counsellor_id)
    if not account.is_enabled:
        return _back_to_counsellors(_("Réactivez d'abord ce compte."), "error")
    link = services.issue_password_link(account)
    db.session.commit()
    return _counsellors_page(
        CounsellorForm(formdata=None), created=account, password_link=link, renewed=True
    )


@bp.route(PREFIX + "/conseillers/<int:counsellor_id>/desactiver", methods=["POST"])
@roles_required(ADMIN)
def deactivate(counsellor_id: int):
    """The account can no longer sign in, and its open sessions end at once."""
    account = _account_or_404(counsellor_id)
    try:
        services.deactivate(current_user, account)
    except services.AdminError as refused:
        db.session.rollback()
        return _back_to_counsellors(_refusal_message(refused.code), "error")
    db.session.commit()
    return _back_to_counsellors(
        _("Le compte de %(name)s est désactivé. Ses sessions sont fermées.", name=account.name)
    )


@bp.route(PREFIX + "/conseillers/<int:counsellor_id>/reactiver", methods=["POST"])
@roles_required(ADMIN)
def reactivate(counsellor_id: int):
    account = _account_or_404(counsellor_id)
    services.reactivate(account)
    db.session.commit()
    return _back_to_counsellors(_("Le compte de %(name)s est de nouveau actif.", name=account.name))


@bp.route(PREFIX + "/conseillers/<int:counsellor_id>/role", methods=["POST"])
@roles_required(ADMIN)
def change_role(counsellor_id: int):
    """Administrator or counsellor; the organisation always keeps an active administrator."""
    account = services.account_of(current_user, counsellor_id)
    if account is None:
        abort(404)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.set_role(account, CounsellorRole(form.role.data))
    except services.AdminError as refused:
        db.session.rollback()
        return _back_to_counsellors(_refusal_message(refused.code), "error")
    db.session.commit()
    if account.id == current_user.id:
        # Their own session ended with the change of role: they sign in again.
        flash(_("Votre rôle a changé. Reconnectez-vous."), "info")
        return redirect(url_for("auth.counsellor_sign_in"))
    return _back_to_counsellors(
        _("%(name)s est maintenant administrateur.", name=account.name)
        if account.role is CounsellorRole.ADMIN
        else _("%(name)s est maintenant conseiller.", name=account.name)
    )


@bp.route(PREFIX + "/conseillers/<int:counsellor_id>/double-authentification", methods=["POST"])
@roles_required(ADMIN)
def reset_two_step(counsellor_id: int):
    """A lost phone: the colleague's two-step sign-in is reset and their sessions end."""
    account = _account_or_404(counsellor_id)
    if account.id == current_user.id:
        return _back_to_counsellors(_("Demandez à un autre administrateur."), "error")
    two_factor.reset_two_factor(account)
    db.session.commit()
    return _back_to_counsellors(
        _(
            "La connexion en deux étapes de %(name)s est réinitialisée et ses sessions "
            "sont fermées. Cette personne l'active à nouveau avec son téléphone.",
            name=account.name,
        )
    )


# -- Choosing a password with a link ----------------------------------------------------------


@bp.route("/compte/mot-de-passe/<token>", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["PASSWORD_LIMITS"], key_func=network_key, methods=["POST"]
)
def set_password(token: str):
    """The page a new counsellor opens from their link. Opening it spends nothing (mail
    scanners open links); choosing a password does."""
    state = services.password_link_state(token)
    if state.problem is not None:
        return render_template("admin/password_link_invalid.html", problem=state.problem), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            services.set_password_with_link(state.link, form.password.data)
        except PasswordRefused as refused:
            db.session.rollback()
            form.password.errors.append(str(refused))
        except services.AdminError:
            db.session.rollback()
            return render_template("admin/password_link_invalid.html", problem="used"), 410
        else:
            db.session.commit()
            flash(_("Votre mot de passe est enregistré. Connectez-vous."), "info")
            return redirect(url_for("auth.counsellor_sign_in"))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "admin/set_password.html", form=form, account=state.link.counsellor
    ), status


# -- API keys -------------------------------------------------------------------------------


def _api_keys_page(form: ApiKeyForm, status: int = 200, **created):
    return render_template(
        "admin/api_keys.html",
        form=form,
        keys=services.api_keys_of(current_user.organisation),
        confirm_form=ConfirmForm(),
        **created,
    ), status


@bp.route(PREFIX + "/cles-api")
@roles_required(ADMIN)
def api_keys():
    return _api_keys_page(ApiKeyForm(formdata=None))


@bp.route(PREFIX + "/cles-api", methods=["POST"])
@roles_required(ADMIN)
def create_api_key():
    """A new key for the back office, shown on this answer only."""
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return _api_keys_page(form, status=422)
    api_key, key = organisations.create_api_key(current_user.organisation, form.name.data)
    db.session.commit()
    return _api_keys_page(ApiKeyForm(formdata=None), created=api_key, key=key)


@bp.route(PREFIX + "/cles-api/<int:key_id>/revoquer", methods=["GET", "POST"])
@roles_required(ADMIN)
def revoke_api_key(key_id: int):
    """Asks to confirm, then revokes: the back office using the key is refused at once."""
    api_key = services.api_key_of(current_user, key_id)
    if api_key is None:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.revoke_api_key(api_key)
        db.session.commit()
        flash(_("La clé « %(name)s » est révoquée.", name=api_key.name or api_key.prefix), "info")
        return redirect(url_for("admin.api_keys"))
    return render_template("admin/revoke_api_key.html", api_key=api_key, form=form)


# -- Webhook --------------------------------------------------------------------------------


def _webhook_page(form: WebhookForm, status: int = 200, **shown):
    endpoint = webhooks.endpoint_of(current_user.organisation)
    if form.url.data is None and endpoint is not None:
        form.url.data = endpoint.url
    return render_template(
        "admin/webhook.html",
        form=form,
        endpoint=endpoint,
        deliveries=webhooks.recent_deliveries(current_user.organisation),
        confirm_form=ConfirmForm(),
        **shown,
    ), status


@bp.route(PREFIX + "/webhook")
@roles_required(ADMIN)
def webhook():
    """The receiver's address, its secret, a test, and what was sent."""
    return _webhook_page(WebhookForm(formdata=None))


@bp.route(PREFIX + "/webhook", methods=["POST"])
@roles_required(ADMIN)
def save_webhook():
    form = WebhookForm()
    if form.validate_on_submit():
        try:
            secret = services.save_webhook_url(current_user.organisation, form.url.data)
        except webhooks.WebhookUrlError:
            db.session.rollback()
            form.url.errors.append(
                _(
                    "Cette adresse n'est pas acceptée : elle doit commencer par https:// "
                    "et mener à un serveur public."
                )
            )
        else:
            db.session.commit()
            if secret is None:
                flash(_("Adresse enregistrée."), "info")
                return redirect(url_for("admin.webhook"))
            return _webhook_page(WebhookForm(formdata=None), secret=secret)
    return _webhook_page(form, status=422)


def _endpoint_or_404():
    """The organisation's endpoint for an action on it; its buttons show only when there is
    one, so a POST without one is stale or forged."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    endpoint = webhooks.endpoint_of(current_user.organisation)
    if endpoint is None:
        abort(404)
    return endpoint


@bp.route(PREFIX + "/webhook/secret", methods=["POST"])
@roles_required(ADMIN)
def rotate_webhook_secret():
    """A new signing secret, shown once: the old one stops signing at once."""
    endpoint = _endpoint_or_404()
    secret = services.rotate_webhook_secret(endpoint)
    db.session.commit()
    return _webhook_page(WebhookForm(formdata=None), secret=secret, rotated=True)


@bp.route(PREFIX + "/webhook/test", methods=["POST"])
@roles_required(ADMIN)
def test_webhook():
    """Sends a `webhook.test` event to this organisation's receiver only."""
    endpoint = _endpoint_or_404()
    delivery = services.send_test_event(endpoint)
    db.session.commit()
    flash(
        _(
            "Événement de test n° %(id)s envoyé dans quelques secondes. "
            "Son résultat apparaît dans la liste des envois.",
            id=delivery.event_id,
        ),
        "info",
    )
    return redirect(url_for("admin.webhook"))


@bp.route(PREFIX + "/webhook/supprimer", methods=["POST"])
@roles_required(ADMIN)
def remove_webhook():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if webhooks.unregister(current_user.organisation):
        db.session.commit()
        flash(_("Adresse supprimée : plus rien n'y est envoyé."), "info")
    return redirect(url_for("admin.webhook"))


# -- Settings -------------------------------------------------------------------------------


@bp.route(PREFIX + "/reglages", methods=["GET", "POST"])
@roles_required(ADMIN)
def settings():
    """Reminders, the cancel/move limit, the bookings confirmed at once and the two-step
    rule of the organisation."""
    organisation = current_user.organisation
    form = SettingsForm(
        reminder_hours_before=organisation.reminder_hours_before,
        morning_reminder_hour=organisation.morning_reminder_hour,
        cancellation_limit_minutes=organisation.cancellation_limit_minutes,
        require_two_step=organisation.require_totp_for_counsellors,
        max_upcoming_appointments=organisation.max_upcoming_appointments,
        purposes_confirmed_at_once=organisation.purposes_confirmed_at_once,
    )
    if form.validate_on_submit():
        services.update_settings(
            organisation,
            form.reminder_hours_before.data,
            form.morning_reminder_hour.data,
            form.cancellation_limit_minutes.data,
            form.require_two_step.data,
            form.max_upcoming_appointments.data,
            form.purposes_confirmed_at_once.data or [],
        )
        db.session.commit()
        flash(_("Réglages enregistrés."), "info")
        return redirect(url_for("admin.settings"))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/settings.html", form=form), status


# -- Audit trail ----------------------------------------------------------------------------


@bp.route(PREFIX + "/journal")
@roles_required(ADMIN)
def audit_trail():
    """Who in the organisation opened which file, searched or exported the caseload, when
    and from where; by counsellor (?conseiller=) and by person the organisation follows
    (?personne=), 50 a page."""
    organisation = current_user.organisation
    counsellor_id = query_id("conseiller")
    person_id = query_id("personne")
    # Someone the organisation does not follow, or another's account: as an id nobody has.
    person = audit.followed_person(organisation.id, person_id) if person_id else None
    if person_id and person is None:
        abort(404)
    accounts = organisations.counsellors_of(organisation)
    if counsellor_id and counsellor_id not in {account.id for account in accounts}:
        abort(404)
    return render_template(
        "admin/audit.html",
        trail=audit.entries_of(
            organisation.id,
            counsellor_id=counsellor_id,
            person_id=person_id,
            page=query_page(),
        ),
        accounts=accounts,
        counsellor_id=counsellor_id,
        person_id=person_id,
        person=person,
        actions=audit.ACTIONS,
        search_kinds=audit.SEARCH_KINDS,
        months=current_app.config["RETENTION_AUDIT_MONTHS"],
    )

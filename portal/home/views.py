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

from portal.auth.roles import BENEFICIARY, STAFF, public, roles_required
from portal.core.forms import ConfirmForm
from portal.core.web import local_url
from portal.extensions import db
from portal.home.services import beneficiary_home
from portal.sms.opt_out import set_sms_opt_out

bp = Blueprint("home", __name__)


@bp.route("/")
@public
def index():
    """The landing page, or the signed-in person's own home."""
    if current_user.is_authenticated:
        if current_user.portal_role in STAFF:
            return redirect(url_for("counsellor.index"))
        return redirect(url_for("home.beneficiary"))
    return render_template("home/landing.html")


@bp.route("/accueil")
@roles_required(BENEFICIARY)
def beneficiary():
    """Hello by first name, then the pathway: now, next, the timeline, the référents."""
    home = beneficiary_home(current_user)
    return render_template(
        "home/beneficiary.html",
        pathway=home.pathway,
        next_appointment=home.next_appointment,
        video_link_open=home.video_link_open,
    )


@bp.route("/langue", methods=["POST"])
@public
def language():
    """Keeps the chosen language in the session, and on the person's account when signed in."""
    form = ConfirmForm()
    chosen = request.form.get("language", "")
    if form.validate_on_submit() and chosen in current_app.config["LANGUAGES"]:
        session["language"] = chosen
        if current_user.is_authenticated and current_user.portal_role == BENEFICIARY:
            current_user.language = chosen
            current_user.language_source = "person"
            db.session.commit()
    return redirect(local_url(request.form.get("next"), url_for("home.index")))


@bp.route("/parametres", methods=["GET", "POST"])
@roles_required(BENEFICIARY)
def settings():
    """SMS on or off; the back office hears of it through an event."""
    form = ConfirmForm()
    if form.validate_on_submit() and request.form.get("sms") in ("on", "off"):
        changed = set_sms_opt_out(current_user, request.form["sms"] == "off", by="portal")
        db.session.commit()
        if changed:
            flash(
                _("Vous ne recevrez plus les SMS de rendez-vous.")
                if current_user.sms_opted_out
                else _("Vous recevrez de nouveau les SMS de rendez-vous."),
                "info",
            )
        return redirect(url_for("home.settings"))
    return render_template("home/settings.html", form=form)

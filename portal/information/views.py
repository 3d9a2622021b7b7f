"""The public pages: open to everyone, signed in or not, linked from every page's foot."""

import json

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from portal.auth.roles import BENEFICIARY, public, roles_required
from portal.core.clock import paris_today
from portal.core.web import download
from portal.information.my_data import as_json, my_data
from portal.information.services import help_lines

bp = Blueprint("information", __name__)


@bp.app_context_processor
def publisher():
    return {"publisher_name": current_app.config["PUBLISHER_NAME"]}


@bp.route("/mentions-legales")
@public
def legal_notice():
    return render_template("information/legal_notice.html")


@bp.route("/donnees-personnelles")
@public
def personal_data():
    return render_template("information/personal_data.html")


@bp.route("/accessibilite")
@public
def accessibility():
    return render_template("information/accessibility.html")


@bp.route("/aide")
@public
def help_page():
    return render_template("information/help.html", help_lines=help_lines())


@bp.route("/mes-donnees")
@roles_required(BENEFICIARY)
def my_data_page():
    return render_template("information/my_data.html", data=my_data(current_user))


@bp.route("/mes-donnees.json")
@roles_required(BENEFICIARY)
def my_data_file():
    body = json.dumps(as_json(my_data(current_user)), ensure_ascii=False, indent=2)
    return download(body, f"mes-donnees-{paris_today()}.json", "application/json")

"""The pathway pages: the person's own, and the same timeline for their counsellors."""

from flask import Blueprint, abort, render_template
from flask_login import current_user

from portal.auth.roles import BENEFICIARY, roles_required
from portal.pathway import labels, services

bp = Blueprint("pathway", __name__, url_prefix="/parcours")


@bp.app_context_processor
def step_words():
    return {"step_labels": labels}


@bp.route("/etapes/<int:step_id>")
@roles_required(BENEFICIARY)
def step(step_id: int):
    """One step in full; another person's step is a 404."""
    found = services.own_step(current_user, step_id)
    if found is None:
        abort(404)
    return render_template("pathway/step.html", step=found)

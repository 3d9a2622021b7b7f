from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import func, select

from portal.auth.roles import ADMIN, STAFF, roles_required
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.events import webhooks
from portal.extensions import db
from portal.pathway.services import pathway_of

bp = Blueprint("counsellor", __name__, url_prefix="/conseiller")


@bp.route("/")
@roles_required(*STAFF)
def index():
    """The caseload: people this counsellor is référent for, then the organisation's others."""
    mine = FollowUp.referent_email == current_user.email
    rows = db.session.execute(
        select(Beneficiary, FollowUp.external_id, mine.label("is_mine"))
        .join(FollowUp, FollowUp.beneficiary_id == Beneficiary.id)
        .where(FollowUp.organisation_id == current_user.organisation_id)
        .order_by(mine.desc(), func.lower(Beneficiary.last_name), Beneficiary.first_name)
        .limit(500)
    ).all()
    return render_template("counsellor/index.html", rows=rows)


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
    follow_up = db.session.scalars(
        select(FollowUp).where(
            FollowUp.beneficiary_id == beneficiary_id,
            FollowUp.organisation_id == current_user.organisation_id,
        )
    ).first()
    if follow_up is None:
        abort(404)
    return render_template(
        "counsellor/person.html",
        person=follow_up.beneficiary,
        external_id=follow_up.external_id,
        pathway=pathway_of(follow_up.beneficiary),
    )

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import func, select

from portal.auth.roles import STAFF, roles_required
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.extensions import db

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

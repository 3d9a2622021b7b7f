"""Twilio's callbacks: delivery reports and answers (STOP, START), both signed by Twilio."""

import logging

from flask import Blueprint, Response, abort, current_app, request
from flask_babel import lazy_gettext as _l
from twilio.request_validator import RequestValidator

from portal.core.phones import InvalidPhone, normalise_mobile
from portal.extensions import csrf, db, limiter
from portal.sms.opt_out import handle_inbound
from portal.sms.sender import record_provider_status

logger = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/sms/twilio")
csrf.exempt(bp)
limiter.exempt(bp)


@bp.app_context_processor
def sms_words():
    return {
        "sms_status_labels": {
            "queued": _l("Prévu"),
            "sending": _l("En cours d'envoi"),
            "sent": _l("Envoyé"),
            "delivered": _l("Reçu"),
            "undelivered": _l("Non reçu"),
            "failed": _l("Échec"),
            "dropped": _l("Pas envoyé (plus utile)"),
        }
    }


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@bp.before_request
def check_signature() -> None:
    """Refuses anything Twilio did not sign with our auth token.

    Twilio signs the public URL it called; behind a proxy that is PORTAL_BASE_URL, not
    what the app sees.
    """
    token = current_app.config["TWILIO_AUTH_TOKEN"]
    signature = request.headers.get("X-Twilio-Signature", "")
    url = current_app.config["PORTAL_BASE_URL"] + request.full_path.rstrip("?")
    if not token or not RequestValidator(token).validate(url, request.form.to_dict(), signature):
        logger.warning("refused an unsigned or badly signed Twilio callback on %s", request.path)
        abort(403)


@bp.route("/status", methods=["POST"])
def status():
    """A delivery report: queued → sent → delivered / undelivered / failed."""
    record_provider_status(
        request.form.get("MessageSid", "")[:64],
        request.form.get("MessageStatus", "")[:20],
        request.form.get("ErrorCode"),
    )
    db.session.commit()
    return Response(status=204)


@bp.route("/inbound", methods=["POST"])
def inbound():
    """An SMS sent to our number: STOP, ARRET… switch SMS off, START switches them on."""
    try:
        sender = normalise_mobile(request.form.get("From", ""))
    except InvalidPhone:
        return Response(EMPTY_TWIML, mimetype="application/xml")
    handle_inbound(sender, request.form.get("Body", "")[:1600])
    db.session.commit()
    return Response(EMPTY_TWIML, mimetype="application/xml")


status.allowed_roles = "twilio-signature"
inbound.allowed_roles = "twilio-signature"

"""Sessions the server can end, with an idle timeout and an absolute lifetime.

A session is the signed cookie Flask-Login fills, plus two times this module keeps
in it: when the person signed in and when they were last seen. The account's
session token (core/accounts.py) is checked on every request, so sign-out, a phone
change, a disabled account or an administrator end a session for good, even if a
copy of the cookie was kept. The session is not tied to an address or a browser
version: a phone moving from Wi-Fi to 4G stays signed in.

A counsellor with two-step sign-in is not signed in by the password alone: the session
then holds only a marker of the half-done sign-in (which account, bound to its session
token), signed and good for 5 minutes, that the code page needs. An account that must
use two steps and has not enrolled yet is kept on the enrolment page.
"""

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass

from flask import Flask, current_app, flash, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import joinedload

from portal.beneficiaries.models import Beneficiary
from portal.core.accounts import parse_account_id
from portal.core.web import go_to
from portal.extensions import db, login_manager
from portal.organisations.models import Counsellor

logger = logging.getLogger(__name__)

_ACCOUNTS = {Beneficiary.ACCOUNT_KIND: Beneficiary, Counsellor.ACCOUNT_KIND: Counsellor}
SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"
# Writing the cookie on every request would cost a Set-Cookie each time: once a minute.
_SEEN_PRECISION = 60


@dataclass(frozen=True)
class Lifetime:
    idle_seconds: int
    absolute_seconds: int


def lifetime_of(user) -> Lifetime:
    config = current_app.config
    if isinstance(user, Counsellor):
        return Lifetime(
            config["COUNSELLOR_IDLE_MINUTES"] * 60, config["COUNSELLOR_SESSION_HOURS"] * 3600
        )
    return Lifetime(
        config["BENEFICIARY_IDLE_MINUTES"] * 60, config["BENEFICIARY_SESSION_DAYS"] * 86400
    )


def load_user(user_id: str):
    """The account whose id and current session token the cookie carries, if still active."""
    parsed = parse_account_id(user_id)
    if parsed is None:
        return None
    kind, number, token = parsed
    model = _ACCOUNTS.get(kind)
    if model is None or number > 2**31 - 1:
        return None
    # A counsellor's organisation is read on every staff page (its name, its two-step
    # rule): loaded with the account, in the same query.
    options = [joinedload(Counsellor.organisation)] if model is Counsellor else []
    user = db.session.get(model, number, options=options)
    if user is None or not user.is_active:
        return None
    if not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user


def start_session(user) -> None:
    """A fresh session at sign-in: nothing set before (by anyone) survives but the language."""
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    login_user(user)
    session.permanent = True
    now = int(time.time())
    session[SIGNED_IN_AT] = now
    session[SEEN_AT] = now


def end_session(everywhere: bool = True) -> None:
    """Sign-out: this session, and (by default) every other one of the account."""
    if everywhere and current_user.is_authenticated:
        current_user.end_sessions()
        db.session.commit()
    _forget()


def _forget() -> None:
    logout_user()
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language


def _enforce_lifetime():
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = int(time.time())
    signed_in_at = session.get(SIGNED_IN_AT)
    seen_at = session.get(SEEN_AT)
    limits = lifetime_of(current_user)
    if (
        not isinstance(signed_in_at, int)
        or not isinstance(seen_at, int)
        or now - seen_at > limits.idle_seconds
        or now - signed_in_at > limits.absolute_seconds
    ):
        _forget()
        flash(_("Pour protéger votre compte, reconnectez-vous."), "info")
        return None
    if now - seen_at >= _SEEN_PRECISION:
        session[SEEN_AT] = now
    return None


# -- The half-done sign-in of a counsellor with two steps --------------------------------------

SECOND_STEP = "counsellor_second_step"
SECOND_STEP_SECONDS = 5 * 60
# Where an account that must enrol may go before it has: the enrolment and the way out.
ENROLMENT_ENDPOINTS = frozenset({"auth.two_step_setup", "auth.sign_out"})


def _second_step_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="counsellor-second-step")


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def begin_second_step(counsellor: Counsellor) -> None:
    """The password was right: remember for 5 minutes who is halfway in, and nothing more."""
    session.pop(SECOND_STEP, None)
    session[SECOND_STEP] = _second_step_signer().dumps(
        {"id": counsellor.id, "token": _token_digest(counsellor.session_token)}
    )


def _second_step_marker() -> dict | None:
    marker = session.get(SECOND_STEP)
    if not isinstance(marker, str):
        return None
    try:
        data = _second_step_signer().loads(marker, max_age=SECOND_STEP_SECONDS)
    except BadSignature:  # also expired (SignatureExpired)
        return None
    return data if isinstance(data, dict) and isinstance(data.get("id"), int) else None


def second_step_account_id() -> int | None:
    """The account halfway in, for the rate limit's key; nothing is checked but the signature."""
    marker = _second_step_marker()
    return marker["id"] if marker else None


def second_step_counsellor() -> Counsellor | None:
    """The counsellor whose password was right less than 5 minutes ago, if their sessions
    have not been ended since (too many wrong codes, sign-out everywhere, a reset)."""
    marker = _second_step_marker()
    if marker is None:
        return None
    counsellor = db.session.get(Counsellor, marker["id"])
    if counsellor is None or not counsellor.is_active:
        return None
    digest = marker.get("token")
    if not isinstance(digest, str) or not hmac.compare_digest(
        _token_digest(counsellor.session_token).encode(), digest.encode()
    ):
        return None
    return counsellor


def has_second_step() -> bool:
    """Whether the session carries a marker at all, even a stale one."""
    return SECOND_STEP in session


def end_second_step() -> None:
    session.pop(SECOND_STEP, None)


def _enforce_two_step_enrolment():
    """An account that must use two steps reaches only the enrolment page until enrolled."""
    if not current_user.is_authenticated or not isinstance(
        current_user._get_current_object(), Counsellor
    ):
        return None
    if current_user.has_two_step or not current_user.must_use_two_step:
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "allowed_roles", None) is None or request.endpoint in ENROLMENT_ENDPOINTS:
        return None  # public pages (and static files) stay open
    return go_to(url_for("auth.two_step_setup"))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.phone"
    # "basic": a changed address or browser does not end the session (phones move
    # between networks all day); the session token and the timeouts protect it.
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    app.before_request(_enforce_lifetime)
    app.before_request(_enforce_two_step_enrolment)

"""Sessions the server can end, with an idle timeout and an absolute lifetime.

A session is the signed cookie Flask-Login fills, plus two times this module keeps
in it: when the person signed in and when they were last seen. The account's
session token (core/accounts.py) is checked on every request, so sign-out, a phone
change, a disabled account or an administrator end a session for good, even if a
copy of the cookie was kept. The session is not tied to an address or a browser
version: a phone moving from Wi-Fi to 4G stays signed in.
"""

import hmac
import logging
import time
from dataclasses import dataclass

from flask import Flask, current_app, flash, request, session
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal.beneficiaries.models import Beneficiary
from portal.core.accounts import parse_account_id
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
    user = db.session.get(model, number)
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


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.phone"
    # "basic": a changed address or browser does not end the session (phones move
    # between networks all day); the session token and the timeouts protect it.
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    app.before_request(_enforce_lifetime)

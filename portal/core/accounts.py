"""What both kinds of account share: a session that the server can end.

Flask-Login keeps the account's id in the signed session cookie. The id carries a
random token stored on the account (Flask-Login's "alternative token" pattern):
changing the token ends every session of the account at once, on every device —
at sign-out, when the phone number changes, when an account is disabled, or when
an administrator asks.
"""

import secrets

from flask_login import UserMixin
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column


def new_session_token() -> str:
    return secrets.token_hex(16)


class SignInAccount(UserMixin):
    """Mixed into Beneficiary and Counsellor; ACCOUNT_KIND keeps their ids apart."""

    ACCOUNT_KIND = ""
    id: Mapped[int]
    session_token: Mapped[str] = mapped_column(String(32), default=new_session_token)

    def get_id(self) -> str:
        return f"{self.ACCOUNT_KIND}:{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Every session of this account, on every device, ends with its next request."""
        self.session_token = new_session_token()


def parse_account_id(user_id: str) -> tuple[str, int, str] | None:
    """(kind, id, token) from what get_id() gave, or None for anything else."""
    kind, _sep, rest = user_id.partition(":")
    number, _sep, token = rest.partition(":")
    if not kind or not number.isdigit() or len(number) > 10 or not token:
        return None
    return kind, int(number), token

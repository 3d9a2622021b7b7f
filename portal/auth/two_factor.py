"""Two-step sign-in for counsellors: a code from an authenticator app, or a recovery code.

Codes are TOTP (RFC 6238: 30-second steps, 6 digits) made by pyotp; the code of the
step before and of the step after are accepted too (a phone's clock drifts), and a code
is accepted once only. The secret is stored in base32 on the account (no encryption
library is among the dependencies): it is shown during enrolment only, never logged.
Recovery codes are 10 random codes shown once at enrolment; only their Argon2 hashes
are kept, and each works once.
"""

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from markupsafe import Markup
from sqlalchemy import delete, func, select, update

from portal.auth.models import RecoveryCode
from portal.core.clock import utcnow
from portal.core.hashing import hash_secret, verify_secret
from portal.extensions import db
from portal.organisations.models import Counsellor

logger = logging.getLogger(__name__)

ISSUER = "Portail SPI"
DIGITS = 6
INTERVAL = 30
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
MAX_FAILURES = 5
# No 0/o, 1/l/i: a code copied by hand from paper must come back the same.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 10  # about 49 bits each
_SIX_DIGITS = re.compile(r"^\d{6}$")


class EnrolmentError(ValueError):
    """Enrolment cannot go on: already enrolled, or nothing started."""


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)


def _matching_step(secret: str, code: str, last_step: int | None, now: datetime) -> int | None:
    """The step whose code `code` is, within VALID_WINDOW and after `last_step`; else None."""
    totp = _totp(secret)
    current = totp.timecode(now)
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        step = current + offset
        if last_step is not None and step <= last_step:
            continue
        if pyotp.utils.strings_equal(code, totp.generate_otp(step)):
            return step
    return None


# -- Enrolment --------------------------------------------------------------------------------


def pending_secret(counsellor: Counsellor) -> str:
    """The secret being enrolled, made on first call; the same one until confirmed or reset."""
    if counsellor.has_two_step:
        raise EnrolmentError("already enrolled")
    if counsellor.totp_secret is None:
        counsellor.totp_secret = pyotp.random_base32()
        db.session.flush()
    return counsellor.totp_secret


def provisioning_uri(counsellor: Counsellor, secret: str) -> str:
    return _totp(secret).provisioning_uri(name=counsellor.email, issuer_name=ISSUER)


def qr_code_svg(uri: str, label: str) -> Markup:
    """The QR code of `uri` as inline SVG: paths and presentation attributes only, no style
    attribute or element, so the page's Content-Security-Policy lets it through."""
    svg = segno.make_qr(uri, error="m").svg_inline(scale=5, border=4, light="#fff", dark="#000")
    # An image with a name for screen readers (segno's <title> alone is not enough for axe).
    escaped = Markup.escape(label)
    # segno draws the SVG from the URI's bits (nothing of it is copied as text but in its
    # <title>, which segno escapes) and the label is escaped above.
    marked = svg.replace("<svg ", f'<svg role="img" aria-label="{escaped}" ', 1)
    return Markup(marked)  # nosec B704 # segno's own markup, the label escaped


def secret_in_groups(secret: str) -> str:
    """ "ABCD EFGH …": easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def confirm_enrolment(counsellor: Counsellor, code: str) -> list[str] | None:
    """Turns two-step sign-in on if `code` is right for the pending secret.

    Returns the new recovery codes, to be shown this once, or None for a wrong code.
    """
    if counsellor.has_two_step or counsellor.totp_secret is None:
        raise EnrolmentError("nothing to confirm")
    code = code.strip().replace(" ", "")
    step = _matching_step(counsellor.totp_secret, code, None, utcnow())
    if step is None:
        return None
    counsellor.totp_enabled_at = utcnow()
    counsellor.totp_last_step = step
    counsellor.totp_failures = 0
    codes = _new_recovery_codes(counsellor)
    db.session.flush()
    logger.info("counsellor %s turned two-step sign-in on", counsellor.id)
    return codes


def _new_recovery_codes(counsellor: Counsellor) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.counsellor_id == counsellor.id))
    codes = []
    for _n in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _i in range(_RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(counsellor_id=counsellor.id, code_hash=hash_secret(raw)))
    return codes


def recovery_codes_left(counsellor: Counsellor) -> int:
    return db.session.scalar(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.counsellor_id == counsellor.id, RecoveryCode.used_at.is_(None)
        )
    )


def reset_two_factor(counsellor: Counsellor) -> None:
    """Turns two-step sign-in off (a lost phone): the secret and the recovery codes go,
    every session ends, and an account that must use it enrols at its next sign-in."""
    counsellor.totp_secret = None
    counsellor.totp_enabled_at = None
    counsellor.totp_last_step = None
    counsellor.totp_failures = 0
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.counsellor_id == counsellor.id))
    counsellor.end_sessions()
    db.session.flush()
    logger.info("two-step sign-in of counsellor %s was reset", counsellor.id)


# -- Signing in ---------------------------------------------------------------------------------


def password_accepted(counsellor: Counsellor) -> None:
    """A right password opens a new second step: five tries again."""
    counsellor.totp_failures = 0
    db.session.flush()


@dataclass(frozen=True)
class SecondStep:
    """What a code typed at the second step gave."""

    ok: bool
    locked: bool = False  # too many wrong codes: back to the password
    attempts_left: int = 0
    used_recovery_code: bool = False


def check_second_step(counsellor: Counsellor, typed: str) -> SecondStep:
    """Checks a code from the app (6 digits) or a recovery code, and counts wrong ones.

    The account's row is locked while counting, so parallel tries from several browsers
    count together; the fifth wrong one ends every session of the account, which also
    voids every half-done sign-in (they are bound to its session token).
    """
    counsellor = db.session.scalars(
        select(Counsellor)
        .where(Counsellor.id == counsellor.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if counsellor.totp_failures >= MAX_FAILURES or not counsellor.has_two_step:
        return SecondStep(ok=False, locked=True)
    code = re.sub(r"[\s-]", "", typed).lower()
    if _SIX_DIGITS.match(code):
        step = _matching_step(counsellor.totp_secret, code, counsellor.totp_last_step, utcnow())
        if step is not None:
            counsellor.totp_last_step = step
            counsellor.totp_failures = 0
            db.session.flush()
            return SecondStep(ok=True)
    elif _spend_recovery_code(counsellor, code):
        counsellor.totp_failures = 0
        db.session.flush()
        logger.info("counsellor %s signed in with a recovery code", counsellor.id)
        return SecondStep(ok=True, used_recovery_code=True)
    counsellor.totp_failures += 1
    left = MAX_FAILURES - counsellor.totp_failures
    if left <= 0:
        counsellor.end_sessions()
        db.session.flush()
        logger.info("counsellor %s: second step locked after wrong codes", counsellor.id)
        return SecondStep(ok=False, locked=True)
    db.session.flush()
    return SecondStep(ok=False, attempts_left=left)


def _spend_recovery_code(counsellor: Counsellor, code: str) -> bool:
    if len(code) != _RECOVERY_LENGTH or set(code) - set(_RECOVERY_ALPHABET):
        return False
    unused = db.session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.counsellor_id == counsellor.id, RecoveryCode.used_at.is_(None)
        )
    ).all()
    for row in unused:
        if verify_secret(row.code_hash, code):
            # Spent once, even by two requests at the same moment.
            return bool(
                db.session.execute(
                    update(RecoveryCode)
                    .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                    .values(used_at=utcnow())
                    .execution_options(synchronize_session=False)
                ).rowcount
            )
    return False

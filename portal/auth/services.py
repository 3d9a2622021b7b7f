"""Sign-in rules, shared by the pages and (for invitations) the back-office API."""

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select, update

from portal.auth.models import InvitationToken, SignInCode
from portal.beneficiaries.models import Beneficiary
from portal.core.clock import utcnow
from portal.core.hashing import hash_secret, token_hash, verify_secret
from portal.events.services import record_event
from portal.extensions import db
from portal.organisations.models import Counsellor, Organisation
from portal.sms.gsm import to_gsm7
from portal.sms.models import PRIORITY_NOTICE, PRIORITY_SIGN_IN, SmsKind, SmsMessage
from portal.sms.outbox import queue_sms

logger = logging.getLogger(__name__)

CODE_LIFETIME = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
INVITATION_LIFETIME = timedelta(days=7)


def beneficiaries_with_phone(phone: str) -> list[Beneficiary]:
    return list(
        db.session.scalars(
            select(Beneficiary).where(Beneficiary.phone == phone).order_by(Beneficiary.id)
        )
    )


def reading_language(person: Beneficiary, chosen: str | None, browser: str | None) -> str:
    """The language a person reads on the way in: one chosen on the portal in this session;
    else the account's when the person chose it or the back office sent it; else the
    browser's (over the default French, which says nothing); else French."""
    if chosen:
        return chosen
    if person.language_source == "default" and browser:
        return browser
    return person.language


def keep_sign_in_language(person: Beneficiary, chosen: str | None, browser: str | None) -> None:
    """The language the person signed in with becomes theirs when it says more than the
    account did (contract: the person's choice wins over the back office's default)."""
    language = reading_language(person, chosen, browser)
    if language != person.language or chosen:
        person.language = language
        person.language_source = "person"


def request_sign_in_code(
    phone: str, chosen: str | None = None, browser: str | None = None
) -> SmsMessage | None:
    """Makes a new code for a normalised mobile number and queues its SMS, in the language
    the person reads the sign-in page in (see reading_language).

    Every number gets a code row, but only a number somebody on the portal uses gets
    an SMS: from outside, a known and an unknown number look the same. Earlier codes
    for the number stop working.
    """
    now = utcnow()
    db.session.execute(
        update(SignInCode)
        .where(SignInCode.phone == phone, SignInCode.used_at.is_(None))
        .values(used_at=now)
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    db.session.add(
        SignInCode(phone=phone, code_hash=hash_secret(code), expires_at=now + CODE_LIFETIME)
    )
    people = beneficiaries_with_phone(phone)
    if not people:
        db.session.flush()
        return None
    # A couple shares the number: one SMS, in the language of the first of them.
    language = reading_language(people[0], chosen, browser)
    with force_locale(language):
        body = render_template("sms/sign_in_code.txt", code=code).strip()
    return queue_sms(
        to=phone,
        body=body,
        kind=SmsKind.SIGN_IN_CODE,
        beneficiary=people[0],
        language=language,
        priority=PRIORITY_SIGN_IN,
        send_before=now + CODE_LIFETIME,
    )


@dataclass(frozen=True)
class CodeCheck:
    """What checking a code gave: the people it signs in, or why not."""

    people: list[Beneficiary]
    error: str | None = None  # "wrong", "expired" (also: too many tries)
    attempts_left: int = 0


def check_sign_in_code(phone: str, code: str) -> CodeCheck:
    now = utcnow()
    row = db.session.scalars(
        select(SignInCode)
        .where(SignInCode.phone == phone, SignInCode.used_at.is_(None))
        .order_by(SignInCode.id.desc())
        .limit(1)
        .with_for_update()
    ).first()
    if row is None or row.expires_at <= now or row.attempts >= CODE_MAX_ATTEMPTS:
        return CodeCheck(people=[], error="expired")
    row.attempts += 1
    if not verify_secret(row.code_hash, code):
        left = CODE_MAX_ATTEMPTS - row.attempts
        if left <= 0:
            row.used_at = now
            return CodeCheck(people=[], error="expired")
        return CodeCheck(people=[], error="wrong", attempts_left=left)
    row.used_at = now
    people = beneficiaries_with_phone(phone)
    if not people:  # a number nobody uses got no SMS: its code cannot be right
        return CodeCheck(people=[], error="wrong", attempts_left=0)
    return CodeCheck(people=people)


def mark_signed_in(beneficiary: Beneficiary) -> None:
    """The first sign-in activates the account and tells the back office."""
    # Not a change of the person's record: its updated_at, which the back office reads,
    # stays as it was.
    db.session.execute(
        update(Beneficiary)
        .where(Beneficiary.id == beneficiary.id)
        .values(last_signed_in_at=utcnow(), updated_at=Beneficiary.updated_at)
        .execution_options(synchronize_session=False)
    )
    if beneficiary.activated_at is None:
        beneficiary.activated_at = utcnow()
        record_event("beneficiary.activated", beneficiary, {})


def sign_in_link(token: str) -> str:
    return f"{current_app.config['PORTAL_BASE_URL']}/connexion/lien/{token}"


def create_invitation(beneficiary: Beneficiary, organisation: Organisation | None) -> str:
    """A single-use sign-in link, valid 7 days, sent by SMS. Returns the token."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        InvitationToken(
            beneficiary=beneficiary,
            organisation_id=organisation.id if organisation else None,
            token_hash=token_hash(token),
            expires_at=utcnow() + INVITATION_LIFETIME,
        )
    )
    with force_locale(beneficiary.language):
        body = render_template(
            "sms/invitation.txt",
            sender=organisation.sender_name if organisation else None,
            link=sign_in_link(token),
        ).strip()
    queue_sms(
        to=beneficiary.phone,
        body=to_gsm7(body),
        kind=SmsKind.INVITATION,
        beneficiary=beneficiary,
        organisation=organisation,
        language=beneficiary.language,
        priority=PRIORITY_NOTICE,
    )
    return token


def find_invitation(token: str) -> InvitationToken | None:
    """The invitation if the link is still good (unused, not expired)."""
    if not token or len(token) > 100:
        return None
    invitation = db.session.scalars(
        select(InvitationToken).where(InvitationToken.token_hash == token_hash(token))
    ).first()
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= utcnow():
        return None
    return invitation


def void_invitations(beneficiary: Beneficiary) -> int:
    """Ends every sign-in link of the person still unused (sent to a number they no
    longer have); returns how many."""
    return db.session.execute(
        update(InvitationToken)
        .where(InvitationToken.beneficiary_id == beneficiary.id, InvitationToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount


def use_invitation(token: str) -> Beneficiary | None:
    """Spends the link; a second use, even a concurrent one, finds nothing."""
    invitation = find_invitation(token)
    if invitation is None:
        return None
    spent = db.session.execute(
        update(InvitationToken)
        .where(InvitationToken.id == invitation.id, InvitationToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    return invitation.beneficiary if spent else None


def authenticate_counsellor(email: str, password: str) -> Counsellor | None:
    """The counsellor if the password is right; as slow for an unknown email as for a known one."""
    counsellor = db.session.scalars(
        select(Counsellor).where(Counsellor.email == email.strip().lower())
    ).first()
    ok = verify_secret(counsellor.password_hash if counsellor else None, password)
    if counsellor is None or not ok or not counsellor.is_enabled:
        return None
    return counsellor

"""Organisations, their counsellors and their API keys."""

import re
import secrets
from datetime import timedelta

from sqlalchemy import select

from portal.core.clock import utcnow
from portal.core.hashing import hash_secret, same_hash, token_hash, verify_secret
from portal.extensions import db
from portal.organisations.models import (
    NO_PASSWORD,
    ApiKey,
    Counsellor,
    CounsellorRole,
    Organisation,
)
from portal.organisations.passwords import PasswordRefused, check_password

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# INSEE codes: 01–95 with 2A/2B for Corsica, 971–976 overseas.
DEPARTMENT_PATTERN = re.compile(r"^(0[1-9]|[1-8]\d|9[0-5]|2[AB]|97[1-6])$")
API_KEY_PREFIX = "spi_"


class OrganisationError(ValueError):
    pass


class WrongCurrentPassword(OrganisationError):
    """A password change where the current password typed is not the account's."""


def create_organisation(slug: str, name: str, department_code: str | None = None) -> Organisation:
    if not SLUG_PATTERN.match(slug):
        raise OrganisationError("slug: lower-case letters, digits and dashes, 1 to 64")
    if department_code is not None and not DEPARTMENT_PATTERN.match(department_code):
        raise OrganisationError("department: an INSEE code such as 67, 2A or 974")
    if not name.strip():
        raise OrganisationError("name: must not be empty")
    if db.session.scalars(select(Organisation).where(Organisation.slug == slug)).first():
        raise OrganisationError(f"an organisation {slug!r} already exists")
    organisation = Organisation(slug=slug, name=name.strip(), department_code=department_code)
    db.session.add(organisation)
    db.session.flush()
    return organisation


def organisation_by_slug(slug: str) -> Organisation | None:
    return db.session.scalars(select(Organisation).where(Organisation.slug == slug)).first()


def create_counsellor(
    organisation: Organisation, email: str, name: str, password: str | None, is_admin: bool = False
) -> Counsellor:
    """A counsellor account; without a password (None), nobody can sign in to it until its
    person chooses one with a link from an administrator (portal/admin)."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise OrganisationError("email: not an email address")
    if password is not None:
        try:
            check_password(password, email, name)
        except PasswordRefused as refused:
            raise OrganisationError(str(refused)) from None
    if db.session.scalars(select(Counsellor).where(Counsellor.email == email)).first():
        raise OrganisationError(f"a counsellor {email!r} already exists")
    counsellor = Counsellor(
        organisation=organisation,
        email=email,
        name=name.strip(),
        password_hash=NO_PASSWORD if password is None else hash_secret(password),
        role=CounsellorRole.ADMIN if is_admin else CounsellorRole.COUNSELLOR,
    )
    db.session.add(counsellor)
    db.session.flush()
    return counsellor


def change_password(counsellor: Counsellor, current: str, new: str) -> None:
    """Sets a new password if `current` is the account's and `new` meets the policy.

    Raises WrongCurrentPassword, or PasswordRefused with what to change. Every session of
    the account ends: whoever knew the old password is out. The caller signs the person
    in again on the device they used.
    """
    if not verify_secret(counsellor.password_hash, current):
        raise WrongCurrentPassword()
    set_password(counsellor, new)


def set_password(counsellor: Counsellor, new: str) -> None:
    """`new` if the policy takes it (PasswordRefused otherwise); every session of the
    account ends, so whoever knew the old password is out."""
    check_password(new, counsellor.email, counsellor.name)
    counsellor.password_hash = hash_secret(new)
    counsellor.end_sessions()
    db.session.flush()


def counsellor_by_email(email: str) -> Counsellor | None:
    return db.session.scalars(
        select(Counsellor).where(Counsellor.email == email.strip().lower())
    ).first()


def counsellors_of(organisation: Organisation) -> list[Counsellor]:
    """The organisation's accounts, by name."""
    return list(
        db.session.scalars(
            select(Counsellor)
            .where(Counsellor.organisation_id == organisation.id)
            .order_by(Counsellor.name, Counsellor.id)
        )
    )


def colleague(admin: Counsellor, counsellor_id: int) -> Counsellor | None:
    """Another account of the administrator's organisation; None for any other id."""
    counsellor = db.session.get(Counsellor, counsellor_id)
    if (
        counsellor is None
        or counsellor.organisation_id != admin.organisation_id
        or counsellor.id == admin.id
    ):
        return None
    return counsellor


def require_two_step_for_counsellors(organisation: Organisation, required: bool) -> int:
    """Switches the two-step sign-in requirement for the organisation's counsellors.

    When it becomes required, every counsellor not yet enrolled is signed out: at their
    next sign-in they enrol before anything else. Returns how many were signed out.
    """
    if organisation.require_totp_for_counsellors == required:
        return 0
    organisation.require_totp_for_counsellors = required
    ended = 0
    if required:
        for counsellor in counsellors_of(organisation):
            if not counsellor.has_two_step:
                counsellor.end_sessions()
                ended += 1
    db.session.flush()
    return ended


def create_api_key(organisation: Organisation, name: str | None = None) -> tuple[ApiKey, str]:
    """A new key; the plain key is returned once and never stored."""
    prefix = secrets.token_hex(6)
    key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(organisation=organisation, prefix=prefix, key_hash=token_hash(key), name=name)
    db.session.add(api_key)
    db.session.flush()
    return api_key, key


def find_api_key(key: str) -> ApiKey | None:
    """The live key matching `key`, compared in constant time."""
    parts = key.split("_", 2) if key.startswith(API_KEY_PREFIX) else []
    if len(parts) != 3 or len(key) > 200:
        return None
    api_key = db.session.scalars(select(ApiKey).where(ApiKey.prefix == parts[1])).first()
    if api_key is None or api_key.revoked_at is not None:
        return None
    if not same_hash(api_key.key_hash, key):
        return None
    # Written at most once a minute: a write on every request would make concurrent
    # requests with one key queue on this row's lock.
    now = utcnow()
    if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(minutes=1):
        api_key.last_used_at = now
    return api_key

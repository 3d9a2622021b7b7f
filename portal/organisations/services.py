"""Organisations, their counsellors and their API keys."""

import re
import secrets
from datetime import timedelta

from sqlalchemy import select

from portal.core.clock import utcnow
from portal.core.hashing import hash_secret, same_hash, token_hash
from portal.extensions import db
from portal.organisations.models import ApiKey, Counsellor, CounsellorRole, Organisation

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# INSEE codes: 01–95 with 2A/2B for Corsica, 971–976 overseas.
DEPARTMENT_PATTERN = re.compile(r"^(0[1-9]|[1-8]\d|9[0-5]|2[AB]|97[1-6])$")
API_KEY_PREFIX = "spi_"


class OrganisationError(ValueError):
    pass


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


def counsellor_by_email(email: str) -> Counsellor | None:
    return db.session.scalars(
        select(Counsellor).where(Counsellor.email == email.strip().lower())
    ).first()


def create_counsellor(
    organisation: Organisation, email: str, name: str, password: str, is_admin: bool = False
) -> Counsellor:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise OrganisationError("email: not an email address")
    if len(password) < 12:
        raise OrganisationError("password: at least 12 characters")
    if db.session.scalars(select(Counsellor).where(Counsellor.email == email)).first():
        raise OrganisationError(f"a counsellor {email!r} already exists")
    counsellor = Counsellor(
        organisation=organisation,
        email=email,
        name=name.strip(),
        password_hash=hash_secret(password),
        role=CounsellorRole.ADMIN if is_admin else CounsellorRole.COUNSELLOR,
    )
    db.session.add(counsellor)
    db.session.flush()
    return counsellor


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

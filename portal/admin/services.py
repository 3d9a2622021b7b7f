"""What an organisation's administrators do: one function per action, so that each can be
written to an audit trail once there is one. Nothing here logs or keeps a secret readable:
links and keys are returned once to the caller, only their SHA-256 is stored."""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from portal.admin.models import PasswordLink
from portal.appointments.models import SlotPurpose
from portal.core.clock import utcnow
from portal.core.hashing import token_hash
from portal.events import webhooks
from portal.events.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from portal.events.services import record_event
from portal.extensions import db
from portal.organisations import services as organisations
from portal.organisations.models import ApiKey, Counsellor, CounsellorRole, Organisation

PASSWORD_LINK_LIFETIME = timedelta(hours=72)
# Not among the contract's events: sent to the organisation's own receiver only, never
# written to the events feed of anyone.
TEST_EVENT = "webhook.test"


class AdminError(ValueError):
    """An action the rules refuse; `code` says which rule."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# -- Counsellors ------------------------------------------------------------------------------


def account_of(admin: Counsellor, counsellor_id: int) -> Counsellor | None:
    """An account of the administrator's organisation (themself included); None otherwise."""
    counsellor = db.session.get(Counsellor, counsellor_id)
    if counsellor is None or counsellor.organisation_id != admin.organisation_id:
        return None
    return counsellor


def invite_counsellor(
    organisation: Organisation, email: str, name: str, is_admin: bool = False
) -> tuple[Counsellor, str]:
    """A new account without a password, and the one-time link for its person to choose one.

    Raises AdminError("email_taken") when any organisation has an account with that email."""
    if organisations.counsellor_by_email(email) is not None:
        raise AdminError("email_taken")
    counsellor = organisations.create_counsellor(organisation, email, name, None, is_admin)
    return counsellor, issue_password_link(counsellor)


def issue_password_link(counsellor: Counsellor) -> str:
    """A new set-password link for the account, valid 72 hours; the older unused ones stop
    working. Returns the URL, to be shown once."""
    now = utcnow()
    db.session.execute(
        update(PasswordLink)
        .where(
            PasswordLink.counsellor_id == counsellor.id,
            PasswordLink.used_at.is_(None),
            PasswordLink.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        PasswordLink(
            counsellor_id=counsellor.id,
            token_hash=token_hash(token),
            expires_at=now + PASSWORD_LINK_LIFETIME,
        )
    )
    db.session.flush()
    return password_link_url(token)


def password_link_url(token: str) -> str:
    return f"{current_app.config['PORTAL_BASE_URL']}/compte/mot-de-passe/{token}"


@dataclass(frozen=True)
class LinkState:
    link: PasswordLink | None
    problem: str | None  # "unknown", "used", "expired", or None when it works


def password_link_state(token: str) -> LinkState:
    if len(token) > 100:
        return LinkState(None, "unknown")
    link = db.session.scalars(
        select(PasswordLink).where(PasswordLink.token_hash == token_hash(token))
    ).first()
    if link is None or not link.counsellor.is_enabled:
        return LinkState(None, "unknown")
    if link.used_at is not None:
        return LinkState(link, "used")
    if link.expires_at <= utcnow():
        return LinkState(link, "expired")
    return LinkState(link, None)


def set_password_with_link(link: PasswordLink, password: str) -> Counsellor:
    """The password the person chose, if the policy takes it (PasswordRefused otherwise);
    the link is spent and every session of the account ends."""
    counsellor = link.counsellor
    spent = db.session.execute(
        update(PasswordLink)
        .where(PasswordLink.id == link.id, PasswordLink.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not spent:  # used a moment ago, in another tab
        raise AdminError("used")
    # A refused password raises here, and the caller's rollback gives the link back.
    organisations.set_password(counsellor, password)
    return counsellor


def _active_admins(organisation_id: int) -> int:
    return db.session.scalar(
        select(func.count(Counsellor.id)).where(
            Counsellor.organisation_id == organisation_id,
            Counsellor.role == CounsellorRole.ADMIN,
            Counsellor.is_enabled.is_(True),
        )
    )


def _keep_an_admin(counsellor: Counsellor) -> None:
    if (
        counsellor.role is CounsellorRole.ADMIN
        and counsellor.is_enabled
        and _active_admins(counsellor.organisation_id) <= 1
    ):
        raise AdminError("last_admin")


def deactivate(admin: Counsellor, counsellor: Counsellor) -> None:
    """The account can no longer sign in; its sessions end with their next request. The
    acting administrator cannot be the one deactivated, so an enabled one always stays."""
    if counsellor.id == admin.id:
        raise AdminError("self")
    counsellor.is_enabled = False
    counsellor.end_sessions()
    db.session.flush()


def reactivate(counsellor: Counsellor) -> None:
    counsellor.is_enabled = True
    db.session.flush()


def set_role(counsellor: Counsellor, role: CounsellorRole) -> None:
    """Makes the account an administrator or a counsellor; its sessions end, so that it
    signs in again under its new role (an administrator enrols in two-step sign-in)."""
    if counsellor.role is role:
        return
    if role is CounsellorRole.COUNSELLOR:
        _keep_an_admin(counsellor)
    counsellor.role = role
    counsellor.end_sessions()
    db.session.flush()


# -- API keys -------------------------------------------------------------------------------


def api_keys_of(organisation: Organisation) -> list[ApiKey]:
    """The organisation's keys, live ones first, newest first."""
    return list(
        db.session.scalars(
            select(ApiKey)
            .where(ApiKey.organisation_id == organisation.id)
            .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id.desc())
        )
    )


def api_key_of(admin: Counsellor, key_id: int) -> ApiKey | None:
    api_key = db.session.get(ApiKey, key_id)
    if api_key is None or api_key.organisation_id != admin.organisation_id:
        return None
    return api_key


def revoke_api_key(api_key: ApiKey) -> None:
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        db.session.flush()


# -- Webhook --------------------------------------------------------------------------------


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


def save_webhook_url(organisation: Organisation, url: str) -> str | None:
    """Registers the address (WebhookUrlError if refused); returns the new secret when the
    endpoint is new (to be shown once), None when only the address changed."""
    endpoint = webhooks.endpoint_of(organisation)
    secret = endpoint.secret if endpoint is not None else new_webhook_secret()
    _endpoint, created = webhooks.register(organisation, url, secret)
    return secret if created else None


def rotate_webhook_secret(endpoint: WebhookEndpoint) -> str:
    """A new signing secret, returned once; the receiver must take it at once."""
    endpoint.secret = new_webhook_secret()
    db.session.flush()
    return endpoint.secret


def send_test_event(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A `webhook.test` event for this endpoint alone, signed like any other, sent by the
    worker; its attempts show in the delivery log. It names nobody and reaches no feed."""
    event = record_event(TEST_EVENT, None, {"message": "Test from the portal's administration"})
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id, event_id=event.id, status=DeliveryStatus.PENDING
    )
    db.session.add(delivery)
    db.session.flush()
    return delivery


# -- Settings -------------------------------------------------------------------------------


def update_settings(
    organisation: Organisation,
    reminder_hours_before: int | None,
    morning_reminder_hour: int | None,
    cancellation_limit_minutes: int,
    require_two_step: bool,
    max_upcoming_appointments: int,
    purposes_confirmed_at_once: list[str] | None = None,
) -> None:
    """The organisation's reminders, cancel/move limit, ceiling of appointments to come,
    two-step rule and the purposes it confirms at once (the form checked the ranges and the
    purposes; the table's constraints check the ranges again)."""
    if purposes_confirmed_at_once is not None:
        known = {purpose.value for purpose in SlotPurpose}
        organisation.purposes_confirmed_at_once = sorted(set(purposes_confirmed_at_once) & known)
    organisation.reminder_hours_before = reminder_hours_before
    organisation.morning_reminder_hour = morning_reminder_hour
    organisation.cancellation_limit_minutes = cancellation_limit_minutes
    organisation.max_upcoming_appointments = max_upcoming_appointments
    organisations.require_two_step_for_counsellors(organisation, require_two_step)

"""Recording what happened, in the caller's transaction (no change without its event).

The feed hands out event ids as cursors. On PostgreSQL, ids drawn from a sequence can
become visible out of order when transactions commit concurrently, and a reader could
then move its cursor past an event committed a moment later. Writers of events
therefore take one transaction-scoped advisory lock: events commit in id order. The
lock is held from the first event of a transaction to its commit, which the portal
keeps short. SQLite has a single writer and needs nothing.
"""

import logging
from typing import Any

from sqlalchemy import ColumnElement, select, text, update

from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.events.models import (
    DeliveryStatus,
    Event,
    EventRecipient,
    WebhookDelivery,
    WebhookEndpoint,
)
from portal.extensions import db
from portal.organisations.models import Organisation

logger = logging.getLogger(__name__)

_EVENT_LOCK_KEY = 0x5350_4945  # "SPIE": any constant shared by every writer
FEED_MAX = 1000


def _take_event_lock() -> None:
    session = db.session()
    if session.info.get("event_lock_taken"):
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _EVENT_LOCK_KEY})
        session.info["event_lock_taken"] = True


def _forget_event_lock(session, *_args) -> None:
    session.info.pop("event_lock_taken", None)


def install_session_hooks() -> None:
    from sqlalchemy import event as sa_event
    from sqlalchemy.orm import Session

    if not sa_event.contains(Session, "after_commit", _forget_event_lock):
        sa_event.listen(Session, "after_commit", _forget_event_lock)
        sa_event.listen(Session, "after_rollback", _forget_event_lock)


install_session_hooks()


def record_event(
    type_: str, beneficiary: Beneficiary | None, data: dict[str, Any] | None = None
) -> Event:
    """Adds an event for every organisation following the person, and its webhook deliveries.

    It commits, or rolls back, with the change it describes.
    """
    _take_event_lock()
    event = Event(type=type_, beneficiary=beneficiary, data=data or {})
    db.session.add(event)
    db.session.flush()
    if beneficiary is None:
        return event
    follow_ups = db.session.execute(
        select(FollowUp.organisation_id, FollowUp.external_id).where(
            FollowUp.beneficiary_id == beneficiary.id
        )
    ).all()
    for organisation_id, external_id in follow_ups:
        db.session.add(
            EventRecipient(
                organisation_id=organisation_id, event_id=event.id, external_id=external_id
            )
        )
    endpoints = db.session.scalars(
        select(WebhookEndpoint.id).where(
            WebhookEndpoint.organisation_id.in_([row.organisation_id for row in follow_ups])
        )
    ).all()
    for endpoint_id in endpoints:
        db.session.add(
            WebhookDelivery(
                endpoint_id=endpoint_id,
                event_id=event.id,
                beneficiary_id=beneficiary.id,
                status=DeliveryStatus.PENDING,
            )
        )
    db.session.flush()
    return event


def empty_events(*conditions: ColumnElement[bool]) -> int:
    """The events matching `conditions` forget their person: the type and the date stay
    (statistics, and the feed's cursor), and so do their recipients, without the person's
    id at each organisation. Returns how many were emptied."""
    db.session.execute(
        update(EventRecipient)
        .where(EventRecipient.event_id.in_(select(Event.id).where(*conditions)))
        .values(external_id=None)
        .execution_options(synchronize_session=False)
    )
    emptied = db.session.execute(
        update(Event)
        .where(*conditions)
        .values(data={}, beneficiary_id=None)
        .execution_options(synchronize_session=False)
    )
    return emptied.rowcount


def event_payload(event: Event, external_id: str | None) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "beneficiary_external_id": external_id,
        "data": event.data,
    }


def feed(organisation: Organisation, after: int, limit: int) -> tuple[list[dict], int]:
    """The organisation's events after the cursor, oldest first, and the next cursor.

    Reading changes nothing: a consumer that crashed reads again from its last cursor.
    """
    rows = db.session.execute(
        select(Event, EventRecipient.external_id)
        .join(EventRecipient, EventRecipient.event_id == Event.id)
        # The cursor on both sides of the join, so each index is read from the cursor on
        # rather than from its start on every page (a merge join otherwise scans both).
        .where(
            EventRecipient.organisation_id == organisation.id,
            EventRecipient.event_id > after,
            Event.id > after,
        )
        .order_by(EventRecipient.event_id)
        .limit(limit)
    ).all()
    events = [event_payload(event, external_id) for event, external_id in rows]
    return events, (events[-1]["id"] if events else after)

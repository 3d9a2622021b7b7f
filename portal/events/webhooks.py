"""Webhooks: every event POSTed, signed, to the organisation's URL, by the worker.

Deliveries are rows written with the event. The worker claims due ones (a claim is
one UPDATE that only one worker can win), commits, POSTs without holding a
transaction, and records the attempt. Deliveries about one person go out in event
order: one waits while an earlier one for the same person and URL is not delivered.
The POST itself, its address checks and its deadline are in `outbound`.
"""

import hashlib
import hmac
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from portal.db_types import utcnow
from portal.events import outbound
from portal.events.models import (
    DeliveryStatus,
    Event,
    EventRecipient,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from portal.events.outbound import WebhookUrlError as WebhookUrlError
from portal.events.services import event_payload
from portal.extensions import db
from portal.organisations.models import Organisation

logger = logging.getLogger(__name__)

# 1 min, 5 min, 15 min, 1 h, 3 h, 6 h, 12 h, 24 h, 24 h: ten attempts over about 70 hours.
RETRY_DELAYS = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
    timedelta(hours=24),
]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
CLAIM_TIMEOUT = timedelta(minutes=5)


def check_url(url: str, allow_insecure: bool) -> None:
    """Refuses what could make the portal call into its own network (request forgery).

    The same check runs again at each delivery, on the addresses then connected to."""
    if allow_insecure:
        outbound.parse(url, allow_insecure)
    else:
        outbound.resolve(url, allow_insecure)


def register(organisation: Organisation, url: str, secret: str) -> tuple[WebhookEndpoint, bool]:
    check_url(url, current_app.config["WEBHOOK_ALLOW_INSECURE"])
    endpoint = endpoint_of(organisation)
    created = endpoint is None
    if created:
        endpoint = WebhookEndpoint(organisation_id=organisation.id, url=url, secret=secret)
        db.session.add(endpoint)
    else:
        endpoint.url, endpoint.secret = url, secret
    db.session.flush()
    return endpoint, created


def endpoint_of(organisation: Organisation) -> WebhookEndpoint | None:
    return db.session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == organisation.id)
    ).first()


def unregister(organisation: Organisation) -> bool:
    endpoint = endpoint_of(organisation)
    if endpoint is None:
        return False
    db.session.delete(endpoint)
    db.session.flush()
    return True


def endpoint_payload(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "url": endpoint.url,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


# At most this many deliveries to one URL in one pass: a receiver that hangs then holds
# two threads until the timeout, never the whole pool.
PER_ENDPOINT_PER_PASS = 2


def due_delivery_ids(limit: int) -> list[int]:
    """Due deliveries, a few per URL, none with an earlier undelivered one for the same
    person and URL (events about one person arrive in order)."""
    now = utcnow()
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(
        earlier.endpoint_id == WebhookDelivery.endpoint_id,
        earlier.beneficiary_id == WebhookDelivery.beneficiary_id,
        earlier.event_id < WebhookDelivery.event_id,
        earlier.status.in_([DeliveryStatus.PENDING, DeliveryStatus.DELIVERING]),
    )
    due = (
        select(
            WebhookDelivery.id.label("id"),
            WebhookDelivery.event_id.label("event_id"),
            func.row_number()
            .over(partition_by=WebhookDelivery.endpoint_id, order_by=WebhookDelivery.event_id)
            .label("rank"),
        )
        .where(
            or_(
                and_(
                    WebhookDelivery.status == DeliveryStatus.PENDING,
                    WebhookDelivery.next_attempt_at <= now,
                ),
                and_(
                    WebhookDelivery.status == DeliveryStatus.DELIVERING,
                    WebhookDelivery.claimed_at < now - CLAIM_TIMEOUT,
                ),
            ),
            ~blocked,
        )
        .subquery()
    )
    return list(
        db.session.scalars(
            select(due.c.id)
            .where(due.c.rank <= PER_ENDPOINT_PER_PASS)
            .order_by(due.c.event_id)
            .limit(limit)
        )
    )


def _claim(delivery_id: int) -> bool:
    now = utcnow()
    won = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            or_(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                and_(
                    WebhookDelivery.status == DeliveryStatus.DELIVERING,
                    WebhookDelivery.claimed_at < now - CLAIM_TIMEOUT,
                ),
            ),
        )
        .values(status=DeliveryStatus.DELIVERING, claimed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(won)


def deliver(delivery_id: int) -> DeliveryStatus | None:
    """One attempt at one delivery, if this worker wins the claim."""
    if not _claim(delivery_id):
        return None
    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
    endpoint = delivery.endpoint
    event = delivery.event
    external_id = db.session.scalars(
        select(EventRecipient.external_id).where(
            EventRecipient.event_id == event.id,
            EventRecipient.organisation_id == endpoint.organisation_id,
        )
    ).first()
    body = json.dumps(event_payload(event, external_id), separators=(",", ":")).encode()
    url, secret, event_id = endpoint.url, endpoint.secret, event.id
    db.session.commit()  # no transaction stays open while the receiver answers

    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "portail-spi-webhooks/1",
        "X-Portal-Event-Id": str(event_id),
        "X-Portal-Timestamp": str(timestamp),
        "X-Portal-Signature": sign(secret, timestamp, body),
    }
    started = time.monotonic()
    # Addresses checked again now, on what is connected to: DNS may have changed since.
    answer = outbound.post(
        url,
        body,
        headers,
        seconds=current_app.config["WEBHOOK_TIMEOUT_SECONDS"],
        allow_insecure=current_app.config["WEBHOOK_ALLOW_INSECURE"],
    )
    status_code = answer.status_code
    duration_ms = int((time.monotonic() - started) * 1000)

    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
    delivery.attempts += 1
    db.session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            status_code=status_code,
            error=answer.error,
            duration_ms=duration_ms,
        )
    )
    if status_code is not None and 200 <= status_code < 300:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = utcnow()
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        logger.warning(
            "webhook delivery %s failed after %s attempts", delivery.id, delivery.attempts
        )
    else:
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = utcnow() + RETRY_DELAYS[delivery.attempts - 1]
    delivery.claimed_at = None
    db.session.commit()
    return delivery.status


def _deliver_in_context(app: Flask, delivery_id: int) -> DeliveryStatus | None:
    with app.app_context():
        try:
            return deliver(delivery_id)
        except Exception:
            logger.exception("webhook delivery %s crashed; it will be retried", delivery_id)
            db.session.rollback()
            return None
        finally:
            db.session.remove()


def deliver_due(limit: int = 200, threads: int = 8) -> int:
    """One pass: due deliveries in parallel threads, so a receiver that hangs holds one
    thread until its timeout and never the others. Returns how many were attempted."""
    ids = due_delivery_ids(limit)
    db.session.commit()
    if not ids:
        return 0
    app = current_app._get_current_object()
    with ThreadPoolExecutor(max_workers=min(threads, len(ids))) as pool:
        results = list(pool.map(lambda i: _deliver_in_context(app, i), ids))
    return sum(1 for result in results if result is not None)


def recent_deliveries(organisation: Organisation, limit: int = 100) -> list[WebhookDelivery]:
    return list(
        db.session.scalars(
            select(WebhookDelivery)
            .join(WebhookEndpoint)
            .join(Event, Event.id == WebhookDelivery.event_id)
            .where(WebhookEndpoint.organisation_id == organisation.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )

"""Webhooks: every event POSTed, signed, to the organisation's URL, by the worker.

Deliveries are rows written with the event. The worker claims due ones (a claim is
one UPDATE that only one worker can win), commits, POSTs without holding a
transaction, and records the attempt. Deliveries about one person go out in event
order: one waits while an earlier one for the same person and URL is not delivered.
Each receiver has lanes of its own in the worker (see `Dispatcher`): one that hangs
or trickles holds them until its deadline and never delays another's deliveries. The
POST itself, its address checks and its deadline are in `outbound`.
"""

import hashlib
import hmac
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import and_, exists, func, or_, select, true, update
from sqlalchemy.orm import aliased

from portal.core.clock import utcnow
from portal.core.web import is_https_url
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
    if not allow_insecure and not is_https_url(url):
        raise WebhookUrlError(
            "the URL must be https://, a host name or address, then printable ASCII"
        )
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


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


# A worker process sends at most this many deliveries at once to one endpoint: a receiver
# that hangs holds these lanes until the deadline, never another receiver's.
LANES_PER_ENDPOINT = 2
# Deliveries handed to one endpoint's lanes at a time; the rest waits for the next pass.
BATCH_PER_ENDPOINT = 20


def due_deliveries(
    limit: int, per_endpoint: int = BATCH_PER_ENDPOINT, skip_endpoints: Iterable[int] = ()
) -> dict[int, list[int]]:
    """Due deliveries by endpoint, oldest event first: at most `per_endpoint` each, none
    for the skipped endpoints, none with an earlier undelivered one for the same person
    and URL (events about one person arrive in order)."""
    now = utcnow()
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(
        earlier.endpoint_id == WebhookDelivery.endpoint_id,
        earlier.beneficiary_id == WebhookDelivery.beneficiary_id,
        earlier.event_id < WebhookDelivery.event_id,
        earlier.status.in_([DeliveryStatus.PENDING, DeliveryStatus.DELIVERING]),
    )
    skip = list(skip_endpoints)
    due = (
        select(
            WebhookDelivery.id.label("id"),
            WebhookDelivery.endpoint_id.label("endpoint_id"),
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
            WebhookDelivery.endpoint_id.not_in(skip) if skip else true(),
        )
        .subquery()
    )
    rows = db.session.execute(
        select(due.c.id, due.c.endpoint_id)
        .where(due.c.rank <= per_endpoint)
        .order_by(due.c.event_id)
        .limit(limit)
    )
    by_endpoint: dict[int, list[int]] = {}
    for delivery_id, endpoint_id in rows:
        by_endpoint.setdefault(endpoint_id, []).append(delivery_id)
    return by_endpoint


def _claim(delivery_id: int) -> bool:
    now = utcnow()
    won = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            or_(
                # Due still: another worker may have tried it since it was listed.
                and_(
                    WebhookDelivery.status == DeliveryStatus.PENDING,
                    WebhookDelivery.next_attempt_at <= now,
                ),
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


class Dispatcher:
    """Runs due deliveries in lanes: an endpoint gets up to LANES_PER_ENDPOINT threads of
    its own, and no more deliveries while they run. A receiver that hangs thus holds its
    own lanes until the deadline and never delays another's deliveries: nothing is ever
    queued behind a busy thread (an endpoint for which no thread is free waits for the
    next pass, a second away in the worker)."""

    def __init__(self, app: Flask, threads: int = 32) -> None:
        self._app = app
        self._threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhooks")
        self._lock = threading.Lock()
        self._dispatching = threading.Lock()
        self._lanes: Counter[int] = Counter()  # endpoint id: lanes running
        self._attempted = 0
        self._closing = threading.Event()

    def dispatch(self, limit: int = 200) -> int:
        """Hands due deliveries to free lanes without waiting for them; returns how many."""
        with self._dispatching:
            with self._lock:
                busy = list(self._lanes)
                free = self._threads - self._lanes.total()
            if free <= 0 or self._closing.is_set():
                return 0
            due = due_deliveries(limit, skip_endpoints=busy)
            db.session.commit()
            handed = 0
            for endpoint_id, ids in due.items():
                lanes = min(LANES_PER_ENDPOINT, len(ids), free)
                if not lanes:
                    break
                free -= lanes
                handed += len(ids)
                with self._lock:
                    self._lanes[endpoint_id] += lanes
                for lane in range(lanes):
                    self._pool.submit(self._run_lane, endpoint_id, ids[lane::lanes])
            return handed

    def _run_lane(self, endpoint_id: int, ids: list[int]) -> None:
        attempted = 0
        try:
            with self._app.app_context():
                try:
                    for delivery_id in ids:
                        if self._closing.is_set():
                            break
                        status = _deliver_or_log(delivery_id)
                        if status is None:  # another worker had it, or it crashed
                            continue
                        attempted += 1
                        if status is not DeliveryStatus.DELIVERED:
                            break  # the receiver fails: its other deliveries wait a pass
                finally:
                    db.session.remove()
        finally:
            with self._lock:
                self._lanes[endpoint_id] -= 1
                if not self._lanes[endpoint_id]:
                    del self._lanes[endpoint_id]
                self._attempted += attempted

    def close(self) -> int:
        """Lets the lanes finish the attempt they are in; returns how many attempts the
        dispatcher made in all."""
        self._closing.set()
        self._pool.shutdown(wait=True)
        return self._attempted

    def wait(self) -> int:
        """Waits for every lane to end (they end by themselves); returns the attempts."""
        self._pool.shutdown(wait=True)
        return self._attempted


def _deliver_or_log(delivery_id: int) -> DeliveryStatus | None:
    try:
        return deliver(delivery_id)
    except Exception:
        logger.exception("webhook delivery %s crashed; it will be retried", delivery_id)
        db.session.rollback()
        return None


def deliver_due(limit: int = 200, threads: int = 32) -> int:
    """One pass, waited for (the worker's --once, tests): due deliveries in lanes, as the
    worker's `Dispatcher` runs them. Returns how many were attempted."""
    dispatcher = Dispatcher(current_app._get_current_object(), threads)
    dispatcher.dispatch(limit)
    return dispatcher.wait()


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

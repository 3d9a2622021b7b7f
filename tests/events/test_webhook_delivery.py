"""Webhook deliveries to receivers on 127.0.0.1 (WEBHOOK_ALLOW_INSECURE on, as in tests):
signed POSTs, retries in order, attempts kept, a hanging receiver holds up nobody."""

import hashlib
import hmac
import json
import threading
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update
from werkzeug.wrappers import Request, Response

from portal.core.clock import utcnow
from portal.events.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from portal.events.webhooks import Dispatcher, deliver_due
from portal.extensions import db
from tests.factories import book, put_beneficiary
from tests.fake_twilio import ServerThread

SECRET_A = "a-secret-of-the-bas-rhin-back-office-0123"
SECRET_B = "b-secret-of-the-plie-back-office-456789xyz"


@pytest.fixture
def app_config():
    return {"WEBHOOK_ALLOW_INSECURE": True, "WEBHOOK_TIMEOUT_SECONDS": 1}


class Receiver:
    """A back office's endpoint: records every POST, answers the statuses it is told to."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.answers: list[int] = []  # consumed one per request; 200 once empty
        self.hang_for = 0.0
        self.release = threading.Event()
        self.arrived = threading.Event()  # a request came in (answered or not)
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = Request(environ)
        raw = request.get_data()
        arrived = time.monotonic()
        self.arrived.set()
        if self.hang_for:
            self.release.wait(self.hang_for)
        with self._lock:
            status = self.answers.pop(0) if self.answers else 200
            self.received.append(
                {
                    "headers": dict(request.headers),
                    "raw": raw,
                    "status": status,
                    "path": request.path,
                    "at": arrived,
                }
            )
        return Response("ok" if status < 300 else "nope", status=status)(environ, start_response)

    def acknowledged(self) -> list[int]:
        return [json.loads(r["raw"])["id"] for r in self.received if 200 <= r["status"] < 300]


@pytest.fixture(scope="module")
def _receivers():
    """Two receivers for the whole module: starting and stopping a server costs ~0.5 s."""
    with ServerThread(Receiver()) as first, ServerThread(Receiver()) as second:
        yield [(first.server.app, first.url), (second.server.app, second.url)]
        for server in (first, second):
            server.server.app.release.set()


def _fresh(receiver):
    app, url = receiver
    app.received.clear()
    app.answers.clear()
    app.hang_for = 0.0
    app.release.clear()
    app.arrived.clear()
    return app, url


@pytest.fixture
def receiver(_receivers):
    yield _fresh(_receivers[0])
    _receivers[0][0].release.set()


@pytest.fixture
def other_receiver(_receivers):
    yield _fresh(_receivers[1])
    _receivers[1][0].release.set()


def _register(tenant, url, secret):
    response = tenant.api.put("/webhook", {"url": url + "/hook", "secret": secret})
    assert response.status_code == 201, response.get_data(as_text=True)


def _confirm(tenant, external_id, days=2):
    appointment = book(tenant, external_id, starts_in=timedelta(days=days))
    response = tenant.api.post(f"/appointments/{appointment.id}/status", {"status": "confirmed"})
    assert response.status_code == 200, response.get_data(as_text=True)


def _deliver_until_done(max_passes=20):
    for _ in range(max_passes):
        deliver_due()
        db.session.expire_all()
        pending = db.session.scalars(
            select(WebhookDelivery).where(
                WebhookDelivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.DELIVERING])
            )
        ).all()
        if not pending:
            return
        # Instead of waiting for the backoff: every retry is due now.
        db.session.execute(
            update(WebhookDelivery).values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    raise AssertionError("deliveries still pending")


def test_each_event_is_posted_signed(org_a, receiver):
    app, url = receiver
    put_beneficiary(org_a, "DOS-1")
    _register(org_a, url, SECRET_A)
    _confirm(org_a, "DOS-1")
    [event] = org_a.api.events()

    before = int(time.time())
    assert deliver_due() == 1
    after = int(time.time())
    [received] = app.received
    assert received["path"] == "/hook"
    headers = received["headers"]
    assert headers["Content-Type"].startswith("application/json")
    assert headers["X-Portal-Event-Id"] == str(event["id"])
    timestamp = headers["X-Portal-Timestamp"]
    assert timestamp.isdigit() and before - 1 <= int(timestamp) <= after + 1
    expected = hmac.new(
        SECRET_A.encode("utf-8"), timestamp.encode() + b"." + received["raw"], hashlib.sha256
    ).hexdigest()
    assert headers["X-Portal-Signature"] == f"sha256={expected}"
    posted = json.loads(received["raw"])
    assert {k: posted[k] for k in ("id", "type", "beneficiary_external_id", "data")} == {
        k: event[k] for k in ("id", "type", "beneficiary_external_id", "data")
    }
    assert datetime.fromisoformat(posted["occurred_at"]) == datetime.fromisoformat(
        event["occurred_at"]
    )

    # Acknowledged: never posted again.
    assert deliver_due() == 0
    assert len(app.received) == 1
    db.session.expire_all()
    [delivery] = db.session.scalars(select(WebhookDelivery)).all()
    assert delivery.status is DeliveryStatus.DELIVERED
    [attempt] = db.session.scalars(select(WebhookAttempt)).all()
    assert attempt.status_code == 200


def test_a_failing_receiver_gets_every_event_once_in_order(org_a, receiver):
    app, url = receiver
    app.answers = [500, 503, 404]
    put_beneficiary(org_a, "DOS-1")
    _register(org_a, url, SECRET_A)
    for day in (2, 3, 4):
        _confirm(org_a, "DOS-1", days=day)
    ids = [e["id"] for e in org_a.api.events()]
    assert len(ids) == 3

    _deliver_until_done()

    assert app.acknowledged() == ids
    posted_order = [json.loads(r["raw"])["id"] for r in app.received]
    assert posted_order == sorted(posted_order), "a later event went out before an earlier one"
    assert posted_order.count(ids[0]) == 4
    attempts = db.session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert [a.status_code for a in attempts] == [500, 503, 404, 200, 200, 200]
    assert all(a.attempted_at is not None for a in attempts)
    deliveries = db.session.scalars(
        select(WebhookDelivery).order_by(WebhookDelivery.event_id)
    ).all()
    assert [(d.status, d.attempts) for d in deliveries] == [
        (DeliveryStatus.DELIVERED, 4),
        (DeliveryStatus.DELIVERED, 1),
        (DeliveryStatus.DELIVERED, 1),
    ]


def test_a_failure_is_retried_later_not_at_once(org_a, receiver):
    app, url = receiver
    app.answers = [500]
    put_beneficiary(org_a, "DOS-1")
    _register(org_a, url, SECRET_A)
    _confirm(org_a, "DOS-1")
    assert deliver_due() == 1
    assert deliver_due() == 0
    db.session.expire_all()
    [delivery] = db.session.scalars(select(WebhookDelivery)).all()
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.next_attempt_at > utcnow()


def _one_pass_with_a_hanging_receiver(org_a, org_b, receiver, other_receiver, people: int):
    """A's receiver hangs (past the 1 s timeout) on `people` persons' events; B's event is
    the newest of all. One delivery pass; returns (B's receiver, start, elapsed)."""
    hanging, hanging_url = receiver
    hanging.hang_for = 10
    fast, fast_url = other_receiver
    _register(org_a, hanging_url, SECRET_A)
    _register(org_b, fast_url, SECRET_B)
    for n in range(people):
        put_beneficiary(org_a, f"A-{n}", phone=f"+336111111{n:02d}")
        _confirm(org_a, f"A-{n}")
    put_beneficiary(org_b, "B-1", phone="+33699999999")
    _confirm(org_b, "B-1")

    started = time.monotonic()
    deliver_due()
    elapsed = time.monotonic() - started
    hanging.release.set()

    assert [json.loads(r["raw"])["beneficiary_external_id"] for r in fast.received] == ["B-1"]
    assert fast.received[0]["at"] - started < 0.9, "B waited for A's receiver"
    assert elapsed < 3, f"one pass took {elapsed:.1f} s"


def test_a_hanging_receiver_does_not_hold_up_another_organisations(
    org_a, org_b, receiver, other_receiver
):
    """B's event goes out at once and the pass lasts about one timeout; A's receiver is
    tried twice in the pass (the per-URL cap), the rest waits."""
    _one_pass_with_a_hanging_receiver(org_a, org_b, receiver, other_receiver, people=4)
    db.session.expire_all()
    attempts = db.session.scalars(select(WebhookAttempt)).all()
    # At most two deliveries to one URL a pass: the hanging URL held two threads, no more.
    assert len(attempts) == 3
    timed_out = [a for a in attempts if a.status_code is None]
    assert len(timed_out) == 2 and all(a.error for a in timed_out)
    pending = db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.PENDING)
    ).all()
    assert len(pending) == 4


def test_a_receiver_hanging_on_many_people_does_not_hold_up_another_organisations(
    org_a, org_b, receiver, other_receiver
):
    """More due deliveries to a dead receiver than the pass has threads: B's event must
    still not wait for A's timeouts (with the production timeout of 10 s, 200 due
    deliveries to a dead URL would otherwise hold every other receiver for minutes)."""
    _one_pass_with_a_hanging_receiver(org_a, org_b, receiver, other_receiver, people=12)


def test_the_worker_delivers_b_while_a_s_receiver_still_hangs(
    app, org_a, org_b, receiver, other_receiver
):
    """As the worker runs: its loop hands deliveries to lanes and does not wait for them.
    A's receiver hangs within a 5 s deadline; B's event, made meanwhile, goes out at once
    on a lane of its own, while A's attempt is still under way."""
    app.config["WEBHOOK_TIMEOUT_SECONDS"] = 5
    hanging, hanging_url = receiver
    hanging.hang_for = 30
    fast, fast_url = other_receiver
    _register(org_a, hanging_url, SECRET_A)
    _register(org_b, fast_url, SECRET_B)
    put_beneficiary(org_a, "A-1", phone="+33611111101")
    put_beneficiary(org_b, "B-1", phone="+33699999999")
    _confirm(org_a, "A-1")

    dispatcher = Dispatcher(app, threads=4)
    try:
        assert dispatcher.dispatch() == 1
        assert hanging.arrived.wait(3), "A's delivery never started"
        _confirm(org_b, "B-1")
        made = time.monotonic()
        assert dispatcher.dispatch() == 1
        deadline = time.monotonic() + 3
        while not fast.received and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [json.loads(r["raw"])["beneficiary_external_id"] for r in fast.received] == ["B-1"]
        assert not hanging.received, "A's receiver answered: it was not hanging any more"
        b_delay = fast.received[0]["at"] - made
        assert b_delay < 2.5, f"B waited {b_delay:.2f} s"
        db.session.expire_all()
        statuses = {
            d.endpoint.organisation_id: d.status
            for d in db.session.scalars(select(WebhookDelivery)).all()
        }
        assert statuses[org_a.organisation.id] is DeliveryStatus.DELIVERING
        print(f"\nB delivered {b_delay * 1000:.0f} ms after its event, A still hanging")
    finally:
        hanging.release.set()
        dispatcher.close()


def test_each_organisation_receives_its_own_ids_and_only_its_people(
    org_a, org_b, receiver, other_receiver
):
    a_app, a_url = receiver
    b_app, b_url = other_receiver
    put_beneficiary(org_a, "A-1", caf_number="1234567")
    put_beneficiary(org_b, "B-1", caf_number="1234567")
    put_beneficiary(org_a, "A-2", phone="+33699999999")
    _register(org_a, a_url, SECRET_A)
    _register(org_b, b_url, SECRET_B)
    _confirm(org_a, "A-1")
    _confirm(org_a, "A-2")
    _deliver_until_done()

    assert sorted(json.loads(r["raw"])["beneficiary_external_id"] for r in a_app.received) == [
        "A-1",
        "A-2",
    ]
    [b_post] = b_app.received
    assert json.loads(b_post["raw"])["beneficiary_external_id"] == "B-1"
    timestamp = b_post["headers"]["X-Portal-Timestamp"]
    expected = hmac.new(
        SECRET_B.encode(), f"{timestamp}.".encode() + b_post["raw"], hashlib.sha256
    ).hexdigest()
    assert b_post["headers"]["X-Portal-Signature"] == "sha256=" + expected


def test_after_delete_nothing_more_is_posted(org_a, receiver):
    app, url = receiver
    put_beneficiary(org_a, "DOS-1")
    _register(org_a, url, SECRET_A)
    assert org_a.api.delete("/webhook").status_code == 204
    _confirm(org_a, "DOS-1")
    deliver_due()
    assert app.received == []
    assert len(org_a.api.events()) == 1


def test_the_worker_command_delivers_too(org_a, receiver, runner):
    app, url = receiver
    put_beneficiary(org_a, "DOS-1")
    _register(org_a, url, SECRET_A)
    _confirm(org_a, "DOS-1")
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert len(app.acknowledged()) == 1


def test_a_loopback_http_url_is_accepted_when_insecure_is_allowed(org_a, receiver):
    _app, url = receiver
    assert org_a.api.put("/webhook", {"url": url, "secret": SECRET_A}).status_code == 201


@pytest.mark.parametrize("status", [201, 202, 204, 299])
def test_any_2xx_acknowledges(org_a, receiver, status):
    app, url = receiver
    app.answers = [status]
    put_beneficiary(org_a, "DOS-1")
    _register(org_a, url, SECRET_A)
    _confirm(org_a, "DOS-1")
    assert deliver_due() == 1
    db.session.expire_all()
    [delivery] = db.session.scalars(select(WebhookDelivery)).all()
    assert delivery.status is DeliveryStatus.DELIVERED
    assert deliver_due() == 0
    assert len(app.received) == 1


def test_a_dead_receiver_is_tried_at_least_8_times_over_at_least_24_hours(org_a, receiver):
    app, url = receiver
    app.answers = [503] * 100
    put_beneficiary(org_a, "DOS-1")
    _register(org_a, url, SECRET_A)
    _confirm(org_a, "DOS-1")
    waited = timedelta(0)
    attempts = 0
    for _ in range(30):
        if deliver_due() == 0:
            break
        attempts += 1
        db.session.expire_all()
        delivery = db.session.scalars(select(WebhookDelivery)).one()
        if delivery.status is not DeliveryStatus.PENDING:
            break
        waited += delivery.next_attempt_at - utcnow()
        delivery.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert attempts == len(app.received)
    assert attempts >= 8
    assert waited >= timedelta(hours=24) - timedelta(minutes=1)
    assert len(db.session.scalars(select(WebhookAttempt)).all()) == attempts

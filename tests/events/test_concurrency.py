"""Guarantees that only real concurrent transactions can prove (PostgreSQL)."""

import threading
from collections import Counter

import pytest
from werkzeug.wrappers import Request, Response

from portal.events import webhooks
from portal.events.services import feed, record_event
from portal.extensions import db
from portal.organisations.models import Organisation
from portal.sms.models import SmsKind
from portal.sms.outbox import queue_sms
from portal.sms.sender import send_due
from tests.factories import make_beneficiary, make_organisation
from tests.fake_twilio import ServerThread

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def app_config():
    return {"WEBHOOK_ALLOW_INSECURE": True, "WEBHOOK_TIMEOUT_SECONDS": 5}


def _in_context(app, work):
    with app.app_context():
        try:
            return work()
        finally:
            db.session.remove()


def test_the_feed_never_hands_out_a_cursor_past_a_late_commit(app):
    organisation = make_organisation()
    first, second = make_beneficiary(organisation), make_beneficiary(organisation)
    first_id, second_id, organisation_id = first.id, second.id, organisation.id
    may_commit = threading.Event()
    first_recorded = threading.Event()

    def slow_writer():
        from portal.beneficiaries.models import Beneficiary

        record_event("appointment.requested", db.session.get(Beneficiary, first_id))
        first_recorded.set()
        may_commit.wait(10)
        db.session.commit()

    def quick_writer():
        from portal.beneficiaries.models import Beneficiary

        first_recorded.wait(10)
        record_event("appointment.requested", db.session.get(Beneficiary, second_id))
        db.session.commit()

    slow = threading.Thread(target=_in_context, args=(app, slow_writer))
    quick = threading.Thread(target=_in_context, args=(app, quick_writer))
    slow.start()
    quick.start()
    quick.join(1.0)  # without the lock, the quick writer commits here, first

    def read(after):
        return _in_context(
            app, lambda: feed(db.session.get(Organisation, organisation_id), after, 100)
        )

    seen, cursor = read(0)
    may_commit.set()
    slow.join(10)
    quick.join(10)
    later, _cursor = read(cursor)
    ids = [event["id"] for event in seen + later]
    assert len(ids) == 2, "an event was skipped by a reader that followed the cursor"
    assert ids == sorted(ids)


def test_two_sms_workers_never_send_a_message_twice(app, fake_twilio):
    for n in range(300):
        queue_sms(to=f"+3361{n:07d}", body=f"Message {n}", kind=SmsKind.REMINDER_48H)
    db.session.commit()

    def work():
        while send_due(limit=20):
            pass

    workers = [threading.Thread(target=_in_context, args=(app, work)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    counts = Counter(message.body for message in fake_twilio.wait_for(300))
    assert len(counts) == 300
    assert max(counts.values()) == 1


def test_two_webhook_workers_never_deliver_an_event_twice(app):
    received: list[int] = []
    lock = threading.Lock()

    def receiver(environ, start_response):
        request = Request(environ)
        with lock:
            received.append(int(request.headers["X-Portal-Event-Id"]))
        return Response("ok")(environ, start_response)

    organisation = make_organisation()
    with ServerThread(receiver) as server:
        webhooks.register(organisation, server.url + "/hook", "s" * 32)
        people = [make_beneficiary(organisation) for _ in range(20)]
        event_ids = [record_event("appointment.requested", people[n % 20]).id for n in range(120)]
        db.session.commit()

        def work():
            while webhooks.deliver_due(limit=30, threads=4):
                pass

        workers = [threading.Thread(target=_in_context, args=(app, work)) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
    assert sorted(received) == sorted(event_ids)
    assert len(received) == len(set(received))
    # And in order for each person: a person's events arrive in event order.
    by_person: dict[int, list[int]] = {}
    for index, event_id in enumerate(event_ids):
        by_person.setdefault(index % 20, []).append(event_id)
    position = {event_id: n for n, event_id in enumerate(received)}
    for ids in by_person.values():
        assert [position[i] for i in ids] == sorted(position[i] for i in ids)

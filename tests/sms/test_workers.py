"""Four worker processes over one outbox, one of them killed mid-send (PostgreSQL)."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.sms.models import SmsKind, SmsMessage, SmsStatus
from portal.sms.outbox import queue_sms
from tests.conftest import DATABASE_URL

pytestmark = pytest.mark.postgres_only
ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 2000


def _workers(fake_twilio, count: int) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
        "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
        "TWILIO_FROM": "+33757000000",
        "TWILIO_API_BASE": fake_twilio.url,
        "PORTAL_BASE_URL": "https://portail.test",
        "SECRET_KEY": "test-secret-key-long-enough-for-production-32+",
        "SMS_CLAIM_TIMEOUT_SECONDS": "3",
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--interval", "0.2"]
    return [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(count)
    ]


def _unfinished() -> int:
    db.session.rollback()
    return db.session.scalars(
        select(func.count(SmsMessage.id)).where(
            SmsMessage.status.in_([SmsStatus.QUEUED, SmsStatus.SENDING])
        )
    ).one()


def _run(fake_twilio, kill_one_after: int | None) -> None:
    for n in range(MESSAGES):
        queue_sms(
            to=f"+3361{n % 100:07d}",
            body=f"Votre code de connexion : {n:06d}",
            kind=SmsKind.SIGN_IN_CODE,
        )
    db.session.commit()
    workers = _workers(fake_twilio, 4)
    try:
        if kill_one_after is not None:
            deadline = time.monotonic() + 60
            while len(fake_twilio.messages) < kill_one_after and time.monotonic() < deadline:
                time.sleep(0.01)
            workers[0].send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 120
        while _unfinished() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                worker.kill()


def _check_each_sent_once(fake_twilio) -> None:
    assert _unfinished() == 0
    counts = Counter(message.body for message in fake_twilio.messages)
    assert len(counts) == MESSAGES, f"{MESSAGES - len(counts)} messages never reached Twilio"
    twice = {body: n for body, n in counts.items() if n > 1}
    assert twice == {}, f"sent more than once: {list(twice)[:5]}"
    statuses = Counter(db.session.scalars(select(SmsMessage.status)))
    assert statuses == {SmsStatus.SENT: MESSAGES}


def test_four_workers_send_each_message_exactly_once(app, fake_twilio):
    _run(fake_twilio, kill_one_after=None)
    _check_each_sent_once(fake_twilio)


def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(app, fake_twilio):
    _run(fake_twilio, kill_one_after=MESSAGES // 3)
    _check_each_sent_once(fake_twilio)

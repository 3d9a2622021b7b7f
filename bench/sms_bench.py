"""SMS throughput: due reminders on PostgreSQL, sent by worker processes to a fake Twilio.

    .venv/bin/python bench/sms_bench.py [--messages 100000] [--workers 2]

Makes its own database (`bench_sms`), queues the messages due over the first
`--spread` seconds, starts `flask --app wsgi worker` processes pointed at a
Twilio-compatible fake on 127.0.0.1, and measures messages per second and the share
handed to Twilio within 10 seconds of being due.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BENCH_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_sms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--spread", type=float, default=30.0, help="seconds over which they fall due"
    )
    args = parser.parse_args()

    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS bench_sms WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE bench_sms"))
    engine.dispose()

    from flask_migrate import upgrade

    from portal import create_app
    from portal.core.clock import utcnow
    from portal.extensions import db
    from portal.sms.models import PRIORITY_REMINDER, SmsKind, SmsMessage, SmsStatus
    from tests.fake_twilio import FakeTwilio, ServerThread

    fake = FakeTwilio()
    app = create_app({"SQLALCHEMY_DATABASE_URI": BENCH_URL})
    with ServerThread(fake) as server, app.app_context():
        upgrade()
        start = utcnow() + timedelta(seconds=5)  # the workers' start-up time
        rows = [
            {
                "to": f"+3361{n % 1_000_000:07d}",
                "body": f"Dep. Bas-Rhin : RDV aujourd'hui a 10:30. Infos : https://rdv.example {n}",
                "kind": SmsKind.REMINDER_DAY,
                "priority": PRIORITY_REMINDER,
                "status": SmsStatus.QUEUED,
                "next_attempt_at": start + timedelta(seconds=args.spread * n / args.messages),
                "language": "fr",
            }
            for n in range(args.messages)
        ]
        for offset in range(0, len(rows), 10_000):
            db.session.execute(insert(SmsMessage), rows[offset : offset + 10_000])
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()

        env = {
            **os.environ,
            "DATABASE_URL": BENCH_URL,
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": fake.account_sid,
            "TWILIO_AUTH_TOKEN": fake.auth_token,
            "TWILIO_FROM": "+33757000000",
            "TWILIO_API_BASE": server.url,
        }
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--interval", "0.1"]
        workers = [
            subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            for _ in range(args.workers)
        ]
        try:
            while True:
                db.session.rollback()
                left = db.session.scalars(
                    select(func.count(SmsMessage.id)).where(
                        SmsMessage.status.in_([SmsStatus.QUEUED, SmsStatus.SENDING])
                    )
                ).one()
                if left == 0:
                    break
                time.sleep(0.5)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                worker.wait(30)
        first, last = db.session.execute(
            select(func.min(SmsMessage.sent_at), func.max(SmsMessage.sent_at))
        ).one()
        late = db.session.scalars(
            select(func.count(SmsMessage.id)).where(
                SmsMessage.sent_at - SmsMessage.next_attempt_at > timedelta(seconds=10)
            )
        ).one()
        sent = db.session.scalars(
            select(func.count(SmsMessage.id)).where(SmsMessage.status == SmsStatus.SENT)
        ).one()
        seconds = (last - first).total_seconds()
        print("| messages | workers | seconds | per second | within 10 s of due | at the fake |")
        print("|---|---|---|---|---|---|")
        print(
            f"| {sent} | {args.workers} | {seconds:.1f} | {sent / seconds:,.0f} "
            f"| {100 * (sent - late) / sent:.1f} % | {len(fake.messages)} |"
        )


if __name__ == "__main__":
    main()

"""A person's file and the week's agenda, in-process on PostgreSQL: time a request takes and
SQL statements it runs, for a person with a long history.

    .venv/bin/python bench/person_file_bench.py [--appointments 60] [--requests 200]

Makes its own database (`bench_person_file`, dropped and made again) on 127.0.0.1:5432, an
organisation with a counsellor followed by two organisations, and a person with
`--appointments` appointments (half past, half to come), as many SMS and pathway steps;
then GETs the file and the agenda `--requests` times each with Flask's test client (the
app and the database, no HTTP server) and prints a Markdown table for docs/benchmarks.md.
"""

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench.common import bench_url, fresh_database  # noqa: E402

BENCH_URL = bench_url("bench_person_file")


def load(count: int):
    from portal.appointments.models import (
        Appointment,
        AppointmentStatus,
        Slot,
        SlotMode,
        SlotPurpose,
    )
    from portal.beneficiaries.models import Beneficiary, FollowUp
    from portal.core.clock import utcnow
    from portal.extensions import db
    from portal.organisations import services as organisations
    from portal.pathway.models import PathwayStep, StepKind, StepStatus
    from portal.sms.models import SmsKind, SmsMessage

    ours = organisations.create_organisation("dep-67", "Département", "67")
    theirs = organisations.create_organisation("plie-67", "PLIE", "67")
    counsellor = organisations.create_counsellor(
        ours, "claire@example.org", "Claire Muller", "correct horse battery staple", False
    )
    person = Beneficiary(
        first_name="Élodie",
        last_name="Kerbrat",
        birth_date=date(1990, 5, 17),
        phone="+33612345678",
        postal_code="67000",
        rsa_registration_date=date.today() - timedelta(days=200),
    )
    db.session.add(person)
    for organisation, external_id in ((ours, "DOS-1"), (theirs, "PLIE-1")):
        db.session.add(
            FollowUp(
                organisation=organisation,
                beneficiary=person,
                external_id=external_id,
                referent_name="Claire Muller",
            )
        )
    now = utcnow().replace(microsecond=0)
    for n in range(count):
        slot = Slot(
            organisation_id=ours.id,
            external_id=f"S-{n}",
            counsellor=counsellor,
            starts_at=now + timedelta(days=n - count // 2, hours=1),
            duration_minutes=30,
            mode=SlotMode.PHONE,
            purpose=SlotPurpose.FOLLOW_UP,
        )
        past = n < count // 2
        status = AppointmentStatus.ATTENDED if past else AppointmentStatus.CONFIRMED
        db.session.add(Appointment(slot=slot, beneficiary=person, status=status))
        db.session.add(
            SmsMessage(
                beneficiary=person,
                organisation_id=ours.id,
                to=person.phone,
                body=f"Rappel {n}",
                kind=SmsKind.REMINDER_48H,
            )
        )
        db.session.add(
            PathwayStep(
                beneficiary=person,
                organisation=ours,
                external_id=f"STEP-{n}",
                kind=StepKind.TRAINING,
                title=f"Étape {n}",
                status=StepStatus.DONE if past else StepStatus.PLANNED,
            )
        )
    db.session.commit()
    return counsellor, person


def measure(client, url: str, requests: int) -> tuple[float, float, int]:
    from portal.extensions import db

    statements = 0

    def count(*_args):
        nonlocal statements
        statements += 1

    event.listen(db.engine, "before_cursor_execute", count)
    assert client.get(url).status_code == 200
    event.remove(db.engine, "before_cursor_execute", count)
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.99) - 1] * 1000, statements


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appointments", type=int, default=60)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    fresh_database("bench_person_file")
    from portal import create_app
    from portal.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": BENCH_URL, "SECRET_KEY": "bench" * 8})
    with app.app_context():
        db.create_all()
        counsellor, person = load(args.appointments)
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = counsellor.get_id()
            session["_fresh"] = True
            session["signed_in_at"] = session["seen_at"] = int(time.time())
        print(f"{args.appointments} appointments, SMS and steps; {args.requests} requests each\n")
        print("| page | median ms | p99 ms | SQL statements |")
        print("|---|---|---|---|")
        for name, url in (
            ("person's file", f"/conseiller/personnes/{person.id}"),
            ("agenda (week)", "/conseiller/agenda"),
            ("slots (4 weeks)", "/conseiller/creneaux"),
        ):
            median, p99, statements = measure(client, url, args.requests)
            print(f"| {name} | {median:.1f} | {p99:.1f} | {statements} |")


if __name__ == "__main__":
    main()

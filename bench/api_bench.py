"""Back-office API throughput on PostgreSQL: batch upserts and the events feed.

    .venv/bin/python bench/api_bench.py [--people 100000] [--events 100000]

Uses its own database (`bench`, dropped and made again) on 127.0.0.1:5432, drives
the app in-process through Flask's test client (no HTTP server in the way: this
measures the app and the database), and prints a Markdown table for
docs/benchmarks.md.
"""

import argparse
import json
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text  # noqa: E402

from bench.common import bench_url, fresh_database  # noqa: E402

BENCH_URL = bench_url("bench")


def person(n: int, rng: random.Random) -> dict:
    return {
        "external_id": f"DOS-{n:07d}",
        "first_name": rng.choice(["Amina", "Julien", "Fatou", "Nicolas", "Leïla"]),
        "last_name": rng.choice(["Martin", "Diallo", "Schmitt", "Le Bihan", "Nguyen"]),
        "birth_date": (date(1960, 1, 1) + timedelta(days=rng.randint(0, 15000))).isoformat(),
        "phone": f"061{rng.randint(0, 9_999_999):07d}",
        "caf_number": f"{n:07d}",
        "postal_code": "67000",
        "rsa_registration_date": "2026-09-01",
        "referent": {"name": "Claire Muller", "email": "claire.muller@example.org", "phone": None},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()

    fresh_database("bench")
    import logging

    from flask_migrate import upgrade

    from portal import create_app
    from portal.events.models import Event, EventRecipient
    from portal.extensions import db
    from portal.organisations.services import create_api_key, create_organisation

    app = create_app({"SQLALCHEMY_DATABASE_URI": BENCH_URL, "RATELIMIT_ENABLED": False})
    logging.getLogger("portal.api.views").setLevel(logging.WARNING)
    with app.app_context():
        upgrade()
        organisation = create_organisation("bench", "Bench", "67")
        _key, secret = create_api_key(organisation)
        db.session.commit()
        organisation_id = organisation.id
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    rng = random.Random(1)

    started = time.perf_counter()
    for start in range(0, args.people, 1000):
        items = [person(n, rng) for n in range(start, min(start + 1000, args.people))]
        response = client.post(
            "/api/v1/beneficiaries:batch", data=json.dumps({"items": items}), headers=headers
        )
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        statuses = {r["status"] for r in response.get_json()["results"]}
        assert statuses == {201}, statuses
    upsert_seconds = time.perf_counter() - started

    # Events are made directly (the feed is what is measured), for people that exist.
    with app.app_context():
        ids = [row[0] for row in db.session.execute(text("SELECT id FROM beneficiary"))]
        externals = dict(
            db.session.execute(text("SELECT beneficiary_id, external_id FROM follow_up")).all()
        )
        for start in range(0, args.events, 10_000):
            rows = [
                {"type": "appointment.requested", "beneficiary_id": ids[n % len(ids)], "data": {}}
                for n in range(start, min(start + 10_000, args.events))
            ]
            event_ids = db.session.scalars(insert(Event).returning(Event.id), rows).all()
            db.session.execute(
                insert(EventRecipient),
                [
                    {
                        "organisation_id": organisation_id,
                        "event_id": event_id,
                        "external_id": externals[row["beneficiary_id"]],
                    }
                    for event_id, row in zip(event_ids, rows, strict=True)
                ],
            )
            db.session.commit()
        # What autovacuum does on a live database: the planner needs to know the sizes.
        db.session.execute(text("ANALYZE"))
        db.session.commit()

    started = time.perf_counter()
    cursor, read = 0, 0
    while True:
        response = client.get(f"/api/v1/events?after={cursor}&limit=1000", headers=headers)
        page = response.get_json()
        if not page["events"]:
            break
        read += len(page["events"])
        cursor = page["next_after"]
    feed_seconds = time.perf_counter() - started
    assert read == args.events, read

    print("| measure | count | seconds | per second | target |")
    print("|---|---|---|---|---|")
    print(
        f"| batch upsert, 1000 a call | {args.people} | {upsert_seconds:.1f} "
        f"| {args.people / upsert_seconds:,.0f} | ≥ 2 000 |"
    )
    print(
        f"| events feed, 1000 a page | {read} | {feed_seconds:.1f} "
        f"| {read / feed_seconds:,.0f} | ≥ 10 000 |"
    )


if __name__ == "__main__":
    main()

"""Indicators at a department's scale on PostgreSQL: 100 000 people, 1 000 000
appointments, 5 000 000 SMS; the page and the API must answer in under 2 s.

    timeout 1800 .venv/bin/python bench/indicators_bench.py [--people 100000]
        [--appointments 1000000] [--sms 5000000] [--runs 3]

Uses its own database (`bench_indicators`, dropped and made again) on 127.0.0.1:5432.
Rows are generated in SQL (INSERT … SELECT over generate_series), not through the ORM,
over three years of registrations, with the summaries' triggers off; then the summaries
are rebuilt (as `flask indicators rebuild` does) and the tables vacuumed and analysed.
The app is driven in-process through Flask's test client (the page as a signed-in
counsellor, the API with a key) for the last twelve months, and the service alone is
timed too. Prints a Markdown table for docs/benchmarks.md. Every statement has a time
limit: the run stops by itself.
"""

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from bench.common import bench_url, fresh_database, timed  # noqa: E402

BENCH_URL = bench_url("bench_indicators")
TODAY = date(2026, 12, 1)


def generate(connection, people: int, appointments: int, sms: int) -> dict[str, float]:
    """The rows, in SQL; returns seconds per table."""
    timings = {}
    params = {"people": people, "appointments": appointments, "sms": sms, "today": TODAY}
    statements = {
        "beneficiary": """
            INSERT INTO beneficiary (id, first_name, last_name, birth_date, phone, language,
                role, postal_code, rsa_registration_date, sms_consent, sms_opted_out,
                activated_at, created_at, updated_at, session_token)
            SELECT n, 'Amina', 'Diallo', date '1980-01-01' + (n % 9000),
                '+336' || lpad(n::text, 8, '0'), 'fr', 'demandeur', '67000',
                :today - (n % 1095), true, false,
                CASE WHEN n % 10 < 6 THEN (:today - (n % 1095))::timestamptz
                    + ((n % 20) || ' days')::interval END,
                now(), now(), md5(n::text)
            FROM generate_series(1, :people) AS n""",
        "follow_up": """
            INSERT INTO follow_up (organisation_id, beneficiary_id, external_id, referent_name,
                referent_email, created_at, updated_at)
            SELECT 1, n, 'DOS-' || n, 'Référent ' || (n % 40), 'ref' || (n % 40) || '@x.org',
                now(), now()
            FROM generate_series(1, :people) AS n""",
        "pathway_step": """
            INSERT INTO pathway_step (organisation_id, beneficiary_id, external_id, source, kind,
                title, status, starts_on, seen_started_on, created_at, updated_at)
            SELECT 1, b.id, 'E-' || b.id || '-' || k, 'backoffice',
                CASE k WHEN 1 THEN 'orientation'
                    ELSE (ARRAY['immersion','training','volunteering','employment'])[1 + b.id % 4]
                END,
                'Étape',
                CASE WHEN k = 1 THEN 'done' WHEN b.id % 10 < 8 THEN 'in_progress'
                    ELSE 'cancelled' END,
                CASE WHEN b.id % 7 = 0 AND k = 2 THEN NULL
                    ELSE b.rsa_registration_date + (b.id % 130) END,
                b.rsa_registration_date + (b.id % 130),
                now(), now()
            FROM beneficiary b CROSS JOIN generate_series(1, 2) AS k""",
        "slot": """
            INSERT INTO slot (id, organisation_id, external_id, counsellor_id, starts_at,
                duration_minutes, mode, purpose, created_at, updated_at)
            SELECT n, 1, 'S-' || n, 1,
                (:today - 1095)::timestamptz + (n::float / :appointments * 1125) * interval '1 day',
                30, 'phone', 'follow_up', now(), now()
            FROM generate_series(1, :appointments) AS n""",
        "appointment": """
            INSERT INTO appointment (id, slot_id, beneficiary_id, status, booked_at, confirmed_at,
                cancelled_by, updated_at)
            SELECT s.id, s.id, 1 + s.id % :people,
                (ARRAY['attended','attended','attended','attended','attended','attended',
                       'no_show','excused','cancelled','confirmed'])[1 + s.id % 10],
                s.starts_at - interval '7 days',
                s.starts_at - interval '7 days' + ((s.id % 96) || ' hours')::interval,
                CASE WHEN s.id % 10 = 8 THEN
                    (ARRAY['beneficiary','counsellor','backoffice'])[1 + s.id % 3] END,
                now()
            FROM slot s""",
        "sms_message": """
            INSERT INTO sms_message (organisation_id, appointment_id, to_number, body, kind,
                language, priority, status, attempts, next_attempt_at, created_at, sent_at,
                segments, updated_at)
            SELECT 1, 1 + n % :appointments, '+33600000000', '',
                CASE WHEN n % 5 < 3 THEN 'reminder_48h' ELSE 'appointment_confirmed' END,
                'fr', 9,
                (ARRAY['delivered','delivered','delivered','delivered','delivered','delivered',
                       'delivered','sent','undelivered','failed'])[1 + n % 10],
                1, now(),
                (:today - 1095)::timestamptz + (n::float / :sms * 1095) * interval '1 day',
                (:today - 1095)::timestamptz + (n::float / :sms * 1095) * interval '1 day',
                1 + (n % 4 = 0)::int, now()
            FROM generate_series(1, :sms) AS n""",
        "invitation_token": """
            INSERT INTO invitation_token (beneficiary_id, organisation_id, token_hash,
                expires_at, created_at)
            SELECT b.id, 1, md5('t' || b.id) || md5('u' || b.id),
                b.rsa_registration_date + 8, b.rsa_registration_date::timestamptz
            FROM beneficiary b WHERE b.id % 10 < 8""",
        "event": """
            INSERT INTO event (id, type, occurred_at, data)
            SELECT n, 'beneficiary.sms_opted_out',
                (:today - 1095)::timestamptz + (n % 1095) * interval '1 day', '{}'
            FROM generate_series(1, :people / 20) AS n""",
        "event_recipient": """
            INSERT INTO event_recipient (organisation_id, event_id)
            SELECT 1, id FROM event""",
    }
    for table, statement in statements.items():
        started = time.monotonic()
        connection.execute(text(statement), params)
        timings[table] = time.monotonic() - started
        print(f"  {table:<18} {timings[table]:6.1f} s", flush=True)
    for table in ("beneficiary", "slot", "appointment", "event"):
        connection.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
        )
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--sms", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="reuse the rows of the last run")
    args = parser.parse_args()

    import logging

    import time_machine
    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db
    from portal.indicators import services as indicators
    from portal.indicators import summaries
    from portal.organisations.services import (
        create_api_key,
        create_counsellor,
        create_organisation,
    )

    logging.disable(logging.INFO)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": BENCH_URL,
            "SECRET_KEY": "bench-secret-key-long-enough-for-production-32+",
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": None,
        }
    )
    travel = time_machine.travel(TODAY.isoformat() + "T10:00:00+01:00", tick=True)
    travel.start()
    with app.app_context():
        if not args.keep:
            fresh_database("bench_indicators")
            upgrade()
            organisation = create_organisation("bench", "Département", "67")
            counsellor = create_counsellor(
                organisation, "bench@example.org", "Claire", "a long password 1", False
            )
            _key_row, key = create_api_key(organisation, "bench")
            db.session.commit()
            print("Generating rows:", flush=True)
            with db.engine.begin() as connection:
                connection.execute(text("SET statement_timeout = '15min'"))
                # Rows by the million: the summaries' triggers off, one rebuild after.
                connection.execute(text("SET LOCAL session_replication_role = replica"))
                generate(connection, args.people, args.appointments, args.sms)
            started = time.monotonic()
            summaries.rebuild(
                lambda name, done, total: print(f"  rebuild {name}: {done}/{total}", flush=True)
            )
            db.session.commit()
            print(f"  summaries rebuilt in {time.monotonic() - started:.1f} s", flush=True)
            # As autovacuum leaves tables in production: statistics and visibility maps
            # (index-only scans need the latter).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
        else:
            from portal.organisations.models import Counsellor

            upgrade()  # a bench database of an older version gets the summaries here

            counsellor = db.session.scalars(db.select(Counsellor)).first()
            _key_row, key = create_api_key(counsellor.organisation, "bench")
            db.session.commit()
        with db.engine.connect() as connection:
            counts = {
                table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                for table in ("beneficiary", "appointment", "sms_message", "pathway_step")
            }
        print(counts, flush=True)
        start, end = indicators.default_period(TODAY)
        organisation_id = counsellor.organisation_id
        counsellor_id = counsellor.get_id()

        def service():
            indicators.indicators(organisation_id, start, end)
            db.session.rollback()

        from flask_login.utils import _create_identifier

        client = app.test_client()
        with app.test_request_context(environ_base=client.environ_base):
            identifier = _create_identifier()
        with client.session_transaction() as session:
            session["_user_id"] = counsellor_id
            session["_fresh"] = True
            session["_id"] = identifier
            session["signed_in_at"] = session["seen_at"] = int(time.time())
        query = f"?from={start.isoformat()}&to={end.isoformat()}"

        def page():
            response = client.get("/conseiller/indicateurs/" + query)
            assert response.status_code == 200, response.status_code

        def api():
            response = client.get(
                "/api/v1/indicators" + query, headers={"Authorization": f"Bearer {key}"}
            )
            assert response.status_code == 200, response.get_data(as_text=True)

        def five_years():
            response = client.get(
                "/api/v1/indicators?from=2021-12-02&to=2026-12-01",
                headers={"Authorization": f"Bearer {key}"},
            )
            assert response.status_code == 200, response.get_data(as_text=True)

        print()
        print("| what (last 12 months unless said) | runs | median | slowest |")
        print("|---|---|---|---|")
        for name, function in (
            ("service `indicators()`", service),
            ("page `/conseiller/indicateurs/`", page),
            ("API `GET /api/v1/indicators`", api),
            ("API, 5 years (61 cohorts)", five_years),
        ):
            function()  # warm: the first request builds templates and plans
            times = timed(function, args.runs)
            print(
                f"| {name} | {args.runs} | {statistics.median(times) * 1000:.0f} ms "
                f"| {max(times) * 1000:.0f} ms |"
            )
    travel.stop()


if __name__ == "__main__":
    main()

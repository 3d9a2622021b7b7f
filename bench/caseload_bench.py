"""The caseload at a department's scale on PostgreSQL: 100 000 people; each search must
answer in ≤ 100 ms in-process.

    timeout 1800 .venv/bin/python bench/caseload_bench.py [--people 100000] [--runs 5] [--keep]

Uses its own database (`bench_caseload`, dropped and made again) on 127.0.0.1:5432, built
by the migrations (so with the trigram index). People go in with COPY (their folded
search name computed in Python, as the portal does), their pathway steps and appointments
with INSERT … SELECT; then VACUUM ANALYZE, as autovacuum leaves a live database. A second
organisation follows 10 000 other people, so every query really filters. Times the caseload
service (`caseload.search`, `caseload.counts`, `todo.home`) and the page through Flask's
test client as a signed-in counsellor. Prints a Markdown table for docs/benchmarks.md.
"""

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from bench.common import bench_url, fresh_database, timed  # noqa: E402

BENCH_URL = bench_url("bench_caseload")
TODAY = date(2026, 12, 1)
OTHERS = 10_000  # people of the second organisation
FIRST_NAMES = (
    "Amina Élodie Zoé Chloé Loïc Jérôme Hélène Fatoumata Mohamed Yasmine Kévin Océane Inès "
    "Noémie Gaëlle Maëlys Anaïs Benoît Cédric Clément Stéphane Frédéric Joël Agnès Josiane "
    "Léa Lucas Hugo Nathan Sarah Emma Louis Camille Manon Thomas Julie Nicolas Laura Aïcha"
).split()
LAST_NAMES = (
    "Lefèvre Müller Diallo Martin Bernard Dubois Durand Leroy Moreau Simon Laurent Lefebvre "
    "Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Mercier Dupont "
    "Lambert Bonnet François Martinez Legrand Garnier Faure Rousseau Blanc Guérin Muller "
    "Henry Roussel Nicolas Perrin Morin Mathieu Clément Gauthier Dumont Lopez Fontaine "
    "Chevalier Robin Masson Sanchez Gérard Nguyen Boyer Denis Lemaire Duval Joly Gautier "
    "Roger Roche Roy Noël Meyer Lucas Meunier Jean Pérez Marchand Dufour Blanchard Marie "
    "Barbier Brun Dumas Brunet Schmitt Leroux Colin Fernandez Pierre Renard Arnaud Rolland"
).split()


def person_name(n: int) -> tuple[str, str]:
    # Several people share a last name, as in life; the suffix keeps ~20 000 distinct ones.
    last = LAST_NAMES[n % len(LAST_NAMES)]
    if n % 4:
        last += "-" + LAST_NAMES[(n // len(LAST_NAMES)) % len(LAST_NAMES)]
    return FIRST_NAMES[(n * 7) % len(FIRST_NAMES)], last


def copy_people(connection, total: int) -> None:
    """People and their follow-ups by COPY, 10 000 a progress line."""
    from portal.beneficiaries.models import search_name_of

    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(
            "COPY beneficiary (id, first_name, last_name, search_name, birth_date, phone,"
            " language, caf_number, france_travail_id, role, postal_code,"
            " rsa_registration_date, sms_consent, sms_opted_out, created_at, updated_at,"
            " session_token) FROM STDIN"
        ) as copy:
            for n in range(1, total + 1):
                first, last = person_name(n)
                copy.write_row(
                    (
                        n,
                        first,
                        last,
                        search_name_of(last, first),
                        date(1970, 1, 1) + timedelta(days=n % 15000),
                        f"+336{n:08d}",
                        "fr",
                        f"{n:07d}",
                        f"{n:07d}F",
                        "demandeur",
                        "67000",
                        TODAY - timedelta(days=n % 1095),
                        True,
                        False,
                        "2026-01-01T00:00:00+00:00",
                        "2026-01-01T00:00:00+00:00",
                        f"{n:032x}",
                    )
                )
                if n % 10_000 == 0:
                    print(f"  people: {n}", flush=True)
        with cursor.copy(
            "COPY follow_up (organisation_id, beneficiary_id, external_id, referent_name,"
            " referent_email, created_at, updated_at) FROM STDIN"
        ) as copy:
            for n in range(1, total + 1):
                organisation = 1 if n <= total - OTHERS else 2
                copy.write_row(
                    (
                        organisation,
                        n,
                        f"DOS-{n}",
                        f"Référent {n % 40}",
                        f"ref{n % 40}@example.org",
                        "2026-01-01T00:00:00+00:00",
                        "2026-01-01T00:00:00+00:00",
                    )
                )
    print("  follow-ups: done", flush=True)


PATHWAY_AND_APPOINTMENTS = {
    # Two steps for 70 % of people: an orientation done, then an activity in several states.
    "pathway_step": """
        INSERT INTO pathway_step (organisation_id, beneficiary_id, external_id, source, kind,
            title, status, starts_on, created_at, updated_at)
        SELECT 1, b.id, 'E-' || b.id || '-' || k, 'backoffice',
            CASE k WHEN 1 THEN 'orientation'
                ELSE (ARRAY['immersion','training','volunteering','employment'])[1 + b.id % 4]
            END,
            'Étape',
            CASE WHEN k = 1 THEN 'done'
                ELSE (ARRAY['planned','in_progress','done','cancelled'])[1 + b.id % 4] END,
            b.rsa_registration_date + 10 * k,
            now(), now() - ((b.id % 120) || ' days')::interval
        FROM beneficiary b CROSS JOIN generate_series(1, 2) AS k
        WHERE b.id % 10 < 7""",
    "slot": """
        INSERT INTO slot (id, organisation_id, external_id, counsellor_id, starts_at,
            duration_minutes, mode, purpose, created_at, updated_at)
        SELECT n, 1, 'S-' || n, 1,
            (:today)::timestamptz + ((n % 240) - 200) * interval '1 day'
                + (n % 8) * interval '1 hour',
            30, 'phone', 'follow_up', now(), now()
        FROM generate_series(1, :people) AS n""",
    "appointment": """
        INSERT INTO appointment (id, slot_id, beneficiary_id, status, booked_at, updated_at)
        SELECT s.id, s.id, s.id,
            CASE WHEN s.starts_at > :today THEN
                (ARRAY['requested','confirmed','confirmed'])[1 + s.id % 3]
            ELSE (ARRAY['attended','attended','no_show','excused','cancelled','confirmed'])
                [1 + s.id % 6] END,
            s.starts_at - interval '7 days', s.starts_at
        FROM slot s""",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="reuse the rows of the last run")
    args = parser.parse_args()

    import logging

    import time_machine
    from flask_migrate import upgrade

    from portal import create_app
    from portal.caseload import risk, todo
    from portal.caseload.search import Filters, counts, search
    from portal.extensions import db
    from portal.organisations.services import create_counsellor, create_organisation

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
    total = args.people + OTHERS
    with app.app_context():
        if not args.keep:
            fresh_database("bench_caseload")
            upgrade()
            organisation = create_organisation("bench", "Département", "67")
            create_organisation("other", "Autre", "29")
            counsellor = create_counsellor(
                organisation, "ref1@example.org", "Claire", "a long password 1", False
            )
            db.session.commit()
            print("Generating rows:", flush=True)
            started = time.monotonic()
            with db.engine.begin() as connection:
                connection.execute(text("SET statement_timeout = '15min'"))
                copy_people(connection, total)
                for table, statement in PATHWAY_AND_APPOINTMENTS.items():
                    connection.execute(text(statement), {"people": total, "today": TODAY})
                    print(f"  {table}: done", flush=True)
                for table in ("beneficiary", "slot", "appointment"):
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id))"
                            f" FROM {table}"
                        )
                    )
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
            print(f"  seeded in {time.monotonic() - started:.1f} s", flush=True)
        from portal.organisations.models import Counsellor

        counsellor = db.session.scalars(db.select(Counsellor)).first()
        with db.engine.connect() as connection:
            index = connection.execute(
                text(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_beneficiary_search_name'"
                )
            ).scalar()
            sizes = {
                table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                for table in ("beneficiary", "pathway_step", "appointment")
            }
        print(sizes, index, flush=True)
        known_first, known_last = person_name(4242)

        def service(**filters):
            def run():
                page = search(counsellor, Filters(**filters))
                db.session.rollback()
                return page

            return run

        def at_risk_counts():
            counts(counsellor)
            db.session.rollback()

        def home():
            todo.home(counsellor, mine=False)
            db.session.rollback()

        from flask_login.utils import _create_identifier

        client = app.test_client()
        with app.test_request_context(environ_base=client.environ_base):
            identifier = _create_identifier()
        with client.session_transaction() as session:
            session["_user_id"] = counsellor.get_id()
            session["_fresh"] = True
            session["_id"] = identifier
            session["signed_in_at"] = session["seen_at"] = int(time.time())

        def page(query):
            def run():
                response = client.get("/conseiller/dossiers" + query)
                assert response.status_code == 200, response.status_code

            return run

        cases = [
            ("name prefix `lef`", service(text="lef")),
            (
                f"name with accent `{known_first} {known_last}`",
                service(text=f"{known_first} {known_last}"),
            ),
            ("name without accent `elodie lefevre`", service(text="elodie lefevre")),
            ("phone `06 00 00 42 42`", service(text="06 00 00 42 42")),
            ("CAF number `0004242`", service(text="0004242")),
            ("at risk (any rule), with its count", service(risk=risk.ANY)),
            ("page 2, A to Z", service(page=2)),
            ("sorted by last change", service(sort="mouvement")),
            ("counts (total, mine, each rule)", at_risk_counts),
            ("home, whole organisation", home),
            ("page `/conseiller/dossiers?q=lef`", page("?q=lef")),
            ("page `?risque=toutes&page=2`", page("?risque=toutes&page=2")),
        ]
        print()
        print("| what | matches | runs | median | slowest |")
        print("|---|---|---|---|---|")
        for name, function in cases:
            result = function()  # warm: plans, templates
            matches = result.total if result is not None and hasattr(result, "total") else ""
            times = timed(function, args.runs)
            print(
                f"| {name} | {matches} | {args.runs} | {statistics.median(times) * 1000:.0f} ms "
                f"| {max(times) * 1000:.0f} ms |",
                flush=True,
            )
    travel.stop()


if __name__ == "__main__":
    main()

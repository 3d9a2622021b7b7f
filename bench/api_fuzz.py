"""The back-office API against its own OpenAPI document, far deeper than CI's contract test.

    .venv/bin/python bench/api_fuzz.py [--examples 500] [--seed 1] [--database-url URL]

Run on demand, never in CI (about 10 minutes at 500 examples on two cores). Schemathesis'
engine, the one its command line runs, drives the app in-process (from_wsgi) with every
phase: coverage (each schema boundary, duplicated query parameters), fuzzing (`--examples`
per operation, positive and negative) and stateful scenarios that follow the document's
OpenAPI links (PUT a beneficiary, then read, invite, step, delete it...). Every check is
on, positive_data_acceptance included, and a failing example does not stop the operation:
each is counted.

The app gets its own database (a temporary SQLite file, or `--database-url`: a PostgreSQL
database there is emptied first) with an organisation of department 67, its counsellor
c@example.org, the beneficiary DOS-1 with a booked appointment, and an API key. Host names
resolve to one public address, for webhook URLs, without asking any DNS server.

A few 422s come from rules no JSON schema can state: a counsellor or a beneficiary that
must exist, the clock, the public holidays, two fields compared, the addresses a host
resolves to. The document lists them in each operation's 422; BEYOND_SCHEMA below excuses
exactly those answers (by operation, field and message) from positive_data_acceptance, and
they are counted apart. Prints a Markdown report for docs/benchmarks.md; exits 1 on a
server error or a mismatch.
"""

import argparse
import collections
import json
import logging
import re
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PUBLIC_ADDRESS = "93.184.215.14"
COUNSELLOR = "c@example.org"

# (operation, JSON pointer of the field, what the message says): the documented 422s that
# depend on the portal's data, the clock or DNS, or compare two fields.
BEYOND_SCHEMA = [
    ("PUT /api/v1/slots/{external_id}", "/counsellor_email", "no counsellor with this email"),
    ("PUT /api/v1/slots/{external_id}", "/starts_at", "must be in the future"),
    ("PUT /api/v1/slots/{external_id}", "/starts_at", "is a public holiday"),
    ("PUT /api/v1/slots/{external_id}", "/reserved_for", "no beneficiary with this external_id"),
    ("PUT /api/v1/beneficiaries/{external_id}", "/referent/phone", "not a valid phone number"),
    (
        "PUT /api/v1/beneficiaries/{external_id}/steps/{step_external_id}",
        "",
        "ends_on is before starts_on",
    ),
    ("PUT /api/v1/offers/{external_id}", "", "ends_on is before starts_on"),
    ("PUT /api/v1/webhook", "/url", "does not resolve|private, loopback or link-local"),
]


@dataclass
class Tally:
    requests: collections.Counter = field(default_factory=collections.Counter)
    failures: collections.Counter = field(default_factory=collections.Counter)
    samples: dict = field(default_factory=dict)
    excused: collections.Counter = field(default_factory=collections.Counter)
    errors: list = field(default_factory=list)


def resolve_every_name_to_one_public_address(host, port, *args, **kwargs):
    try:
        address = str(__import__("ipaddress").ip_address(host))
    except ValueError:
        address = PUBLIC_ADDRESS  # a name: no DNS server is asked
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return [(family, socket.SOCK_STREAM, 6, "", (address, port or 443))]


def make_app(database_url: str | None):
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text

    from portal import create_app
    from portal.extensions import db

    if database_url is None:
        database_url = f"sqlite:///{tempfile.mkdtemp(prefix='api-fuzz-')}/fuzz.sqlite"
    elif database_url.startswith("postgresql"):
        engine = create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "api-fuzz-secret-key-long-enough-for-the-checks",
            "RATELIMIT_ENABLED": False,
            "SMS_BACKEND": "console",
            "WEBHOOK_ALLOW_INSECURE": False,
        }
    )
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return app


def seed(app) -> str:
    """The organisation, its counsellor, DOS-1 with a booked appointment; the key."""
    from portal.appointments import services as appointments
    from portal.beneficiaries import services as beneficiaries
    from portal.extensions import db
    from portal.organisations.models import Organisation
    from portal.organisations.services import (
        create_api_key,
        create_counsellor,
        create_organisation,
    )

    with app.app_context():
        organisation = create_organisation("fuzz", "Fuzz", "67")
        create_counsellor(organisation, COUNSELLOR, "Claire Muller", "fuzz-password-123", False)
        _key, secret = create_api_key(organisation)
        db.session.commit()
        organisation_id = organisation.id
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    person = {
        "first_name": "Amina",
        "last_name": "Diallo",
        "birth_date": "1990-05-17",
        "phone": "06 12 34 56 78",
        "postal_code": "67000",
        "rsa_registration_date": (date.today() - timedelta(days=20)).isoformat(),
    }
    answer = client.put("/api/v1/beneficiaries/DOS-1", json=person, headers=headers)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    for days in range(3, 15):  # the first working day, 10:00 in Paris
        starts_at = datetime.combine(date.today() + timedelta(days=days), datetime.min.time())
        slot = {
            "counsellor_email": COUNSELLOR,
            "starts_at": starts_at.replace(hour=10).isoformat() + "+01:00",
            "duration_minutes": 30,
            "mode": "phone",
            "purpose": "follow_up",
        }
        answer = client.put("/api/v1/slots/SL-1", json=slot, headers=headers)
        if answer.status_code == 201:
            break
    else:
        raise SystemExit("no day for the seeded slot")
    with app.app_context():
        organisation = db.session.get(Organisation, organisation_id)
        follow_up = beneficiaries.follow_up_for(organisation, "DOS-1")
        appointments.book(follow_up.beneficiary, answer.get_json()["id"])
        db.session.commit()
    return secret


def excusal(operation: str, response) -> str | None:
    """The BEYOND_SCHEMA rule that explains this 422, when every error it names has one."""
    if response is None or response.status_code != 422:
        return None
    try:
        errors = json.loads(response.content)["errors"]
    except (ValueError, KeyError, TypeError):
        return None
    rules = []
    for error in errors or [None]:
        rule = next(
            (
                f"{pointer or '(body)'}: {message}"
                for label, pointer, message in BEYOND_SCHEMA
                if error is not None
                and label == operation
                and error["field"] == pointer
                and re.search(message, error["message"])
            ),
            None,
        )
        if rule is None:
            return None
        rules.append(rule)
    return "; ".join(sorted(set(rules)))


def run(app, secret: str, examples: int, seed_value: int) -> tuple[Tally, float, int]:
    import schemathesis
    from schemathesis.config import SchemathesisConfig
    from schemathesis.engine import events, from_schema
    from schemathesis.transport.wsgi import WSGITransport

    config = SchemathesisConfig.from_dict(
        {
            "seed": seed_value,
            # No replay of an earlier run's findings: each run stands alone, and leaves
            # no .schemathesis/ folder behind.
            "cache": {"enabled": False},
            "headers": {"Authorization": f"Bearer {secret}"},
            "continue-on-failure": True,
            "generation": {"max-examples": examples},
            "checks": {"enabled": True},
            "phases": {"coverage": {"generate-duplicate-query-parameters": True}},
        }
    )
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    operations = sum(1 for _ in schema.get_all_operations())

    # Schemathesis 4.32 hands the requests-only `max_redirects` (and the like) to the WSGI
    # client when a check probes without credentials (ignored_auth): drop them here.
    send = WSGITransport.send

    def send_in_process(self, case, *, session=None, **kwargs):
        for name in ("max_redirects", "verify", "cert", "proxies"):
            kwargs.pop(name, None)
        return send(self, case, session=session, **kwargs)

    tally = Tally()
    started = time.monotonic()
    with (
        mock.patch.object(WSGITransport, "send", send_in_process),
        mock.patch("socket.getaddrinfo", resolve_every_name_to_one_public_address),
    ):
        for event in from_schema(schema).execute():
            if isinstance(event, events.NonFatalError | events.FatalError):
                tally.errors.append(f"{getattr(event, 'label', '')}: {event}")
            if not isinstance(event, events.ScenarioFinished):
                continue
            recorder = event.recorder
            phase = event.phase.value
            for interaction in recorder.interactions.values():
                if interaction.response is not None:
                    status = interaction.response.status_code
                    tally.requests[(phase, f"{status // 100}xx")] += 1
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    interaction = recorder.interactions.get(case_id)
                    response = interaction.response if interaction else None
                    if check.name == "positive_data_acceptance":
                        rule = excusal(failure.operation, response)
                        if rule is not None:
                            tally.excused[(failure.operation, rule)] += 1
                            continue
                    key = (failure.operation, check.name)
                    tally.failures[key] += 1
                    if key not in tally.samples:
                        detail = response.content[:300].decode(errors="replace") if response else ""
                        tally.samples[key] = (
                            failure.title,
                            check.failure_info.code_sample.replace("\n", " ")[:300],
                            detail,
                        )
    return tally, time.monotonic() - started, operations


def report(tally: Tally, seconds: float, operations: int, args) -> None:
    phases = sorted({phase for phase, _ in tally.requests})
    print(
        f"Command: `.venv/bin/python bench/api_fuzz.py --examples {args.examples} "
        f"--seed {args.seed}` ({date.today().isoformat()}, "
        f"{'PostgreSQL' if args.database_url else 'SQLite'}): {operations} operations, "
        f"{seconds:.0f} s.\n"
    )
    print("| phase | requests | 2xx | 4xx | 5xx |")
    print("|---|---|---|---|---|")
    for phase in phases:
        counts = {cls: tally.requests[(phase, cls)] for cls in ("2xx", "4xx", "5xx")}
        total = sum(n for (p, _), n in tally.requests.items() if p == phase)
        print(f"| {phase} | {total} | {counts['2xx']} | {counts['4xx']} | {counts['5xx']} |")
    print()
    print(
        f"Mismatches: {len(tally.failures)} (operation, check) pairs, "
        f"{sum(tally.failures.values())} failing requests.\n"
    )
    if tally.failures:
        print("| operation | check | requests | first example | answer |")
        print("|---|---|---|---|---|")
        for (operation, check), count in sorted(tally.failures.items()):
            title, sample, detail = tally.samples[(operation, check)]
            sample = sample.replace("|", "\\|")
            detail = detail.replace("|", "\\|").replace("\n", " ")
            print(f"| {operation} | {check} | {count} | `{sample}` | {detail} |")
        print()
    print(f"Excused (documented 422s beyond any schema): {sum(tally.excused.values())} requests.\n")
    if tally.excused:
        print("| operation | rule | requests |")
        print("|---|---|---|")
        for (operation, rule), count in sorted(tally.excused.items()):
            print(f"| {operation} | {rule} | {count} |")
        print()
    for error in tally.errors:
        print(f"- error: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # one line per request and the migrations' chatter

    app = make_app(args.database_url)
    secret = seed(app)
    tally, seconds, operations = run(app, secret, args.examples, args.seed)
    report(tally, seconds, operations, args)
    server_errors = sum(n for (_, cls), n in tally.requests.items() if cls == "5xx")
    sys.exit(1 if server_errors or tally.failures or tally.errors else 0)


if __name__ == "__main__":
    main()

"""Offer search over HTTP on PostgreSQL: requests per second and p99 against a bare endpoint.

    .venv/bin/python bench/offers_bench.py [--offers 50000] [--duration 20] [--connections 16]

Makes its own database (`bench_offers`, dropped and made again) on 127.0.0.1:5432, loads
the offers in bulk (not through the API), spread over France with a crowd around
Strasbourg, then serves the app and a bare Flask "hello" (bench/bare_app.py) with gunicorn
(2 sync workers each, 127.0.0.1 only) and loads both in the same run with
`wrk -t2 -c16 --latency`: the public search page `/offres/?lieu=67000&distance=20`
(20 offers a page, nearest first) against the bare endpoint, in alternating rounds (each
after the cores fell idle; the best round of each is kept, since others' work can only
lower a run). Then, in-process, counts the SQL statements of one request (and with
--profile, cProfiles 50). Prints a Markdown table for docs/benchmarks.md. Needs `wrk`
(apt-get install -y wrk) and gunicorn (pip install -e '.[bench]').
"""

import argparse
import cProfile
import io
import math
import os
import pstats
import random
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert, text  # noqa: E402

from bench.common import HOST, bench_url, fresh_database  # noqa: E402

BENCH_URL = bench_url("bench_offers")
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
# Postal codes within this of Strasbourg draw this many times more offers than the others:
# about 5 % of all offers, as if the Bas-Rhin published its own next to the national ones.
CENTRE, CROWD_KM, CROWD_WEIGHT = "67000", 20, 8
JITTER_KM = 2.0

KINDS = {
    "immersion": [
        "Immersion en boulangerie",
        "Découverte du métier d'aide-soignant",
        "Immersion en cuisine de collectivité",
        "Découverte de la logistique en entrepôt",
        "Immersion en espaces verts",
    ],
    "training": [
        "Formation CACES R489",
        "Remise à niveau en français et calcul",
        "Titre professionnel agent de propreté",
        "Formation aux premiers secours (SST)",
        "Initiation au numérique",
    ],
    "volunteering": [
        "Bénévolat à la banque alimentaire",
        "Accompagnement scolaire",
        "Aide à la ressourcerie",
        "Animation d'un atelier tricot",
    ],
    "job": [
        "Agent d'entretien (H/F)",
        "Préparateur de commandes",
        "Commis de cuisine",
        "Auxiliaire de vie à domicile",
        "Employé libre-service",
        "Chauffeur-livreur permis B",
    ],
}
PROVIDERS = [
    "Association Emmaüs",
    "GRETA Nord Alsace",
    "Restos du Cœur",
    "Boulangerie Schmitt",
    "Mairie",
    "Intermarché",
    "ADMR",
    "AFPA",
    "Régie de quartier",
    "Chantier d'insertion Le Jardin",
]
SENTENCES = [
    "Aucune expérience n'est demandée : vous serez accompagné par un tuteur.",
    "Horaires du matin, du lundi au vendredi.",
    "Le poste est accessible en transports en commun.",
    "Une tenue de travail est fournie.",
    "Vous découvrirez les gestes du métier et l'organisation d'une équipe.",
    "La formation est financée et rémunérée pendant toute sa durée.",
    "Un entretien d'information a lieu avant l'entrée.",
    "Possibilité d'embauche à l'issue de la période.",
    "Le permis B est un plus, sans être obligatoire.",
    "Venez avec votre CV si vous en avez un ; sinon nous le ferons ensemble.",
]


def offer_rows(count: int, organisation_id: int, rng: random.Random) -> list[dict]:
    from portal.core.text import fold
    from portal.offers.models import OfferKind
    from portal.offers.places import EARTH_RADIUS_KM, _table, distance_km

    places = list(_table().postal_codes.values())
    centre = _table().postal_codes[CENTRE]
    weights = [
        CROWD_WEIGHT
        if distance_km(centre.latitude, centre.longitude, p.latitude, p.longitude) <= CROWD_KM
        else 1
        for p in places
    ]
    today = date.today()
    rows = []
    for n, place in enumerate(rng.choices(places, weights, k=count)):
        kind = rng.choice(list(KINDS))
        title = rng.choice(KINDS[kind])
        provider = rng.choice(PROVIDERS)
        description = " ".join(rng.sample(SENTENCES, rng.randint(2, 5)))
        # A few km around the postal code's place, as real addresses are.
        north_km, east_km = rng.gauss(0, JITTER_KM), rng.gauss(0, JITTER_KM)
        latitude = place.latitude + math.degrees(north_km / EARTH_RADIUS_KM)
        longitude = place.longitude + math.degrees(
            east_km / (EARTH_RADIUS_KM * max(0.1, math.cos(math.radians(place.latitude))))
        )
        rows.append(
            {
                "organisation_id": organisation_id,
                "external_id": f"OFF-{n:07d}",
                "kind": OfferKind(kind),
                "title": title,
                "description": description,
                "provider_name": provider,
                "postal_code": place.postal_code,
                "city": place.name or None,
                "latitude": max(-90.0, min(90.0, latitude)),
                "longitude": max(-180.0, min(180.0, longitude)),
                "located_by_postal_code": False,
                "is_remote": rng.random() < 0.05,
                "starts_on": None
                if rng.random() < 0.3
                else today + timedelta(days=rng.randint(0, 120)),
                "ends_on": None,
                "expires_on": None,
                "hours_per_week": rng.choice([None, 20.0, 24.0, 35.0]),
                "seats": rng.choice([None, 1, 2, 5, 12]),
                "search_text": fold(" ".join((title, provider, place.name or "", description))),
            }
        )
    return rows


def load(app, count: int) -> int:
    """The offers, ANALYZEd; returns how many lie within CROWD_KM of the centre."""
    from flask_migrate import upgrade

    from portal.extensions import db
    from portal.offers.models import Offer
    from portal.offers.places import distance_km, place_of_postal_code
    from portal.organisations.services import create_organisation

    with app.app_context():
        upgrade()
        organisation = create_organisation("bench", "Bench", "67")
        db.session.commit()
        rows = offer_rows(count, organisation.id, random.Random(1))
        for offset in range(0, len(rows), 5_000):
            db.session.execute(insert(Offer), rows[offset : offset + 5_000])
        db.session.commit()
        # What autovacuum does on a live database: the planner needs to know the sizes.
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    centre = place_of_postal_code(CENTRE)
    return sum(
        1
        for row in rows
        if distance_km(centre.latitude, centre.longitude, row["latitude"], row["longitude"])
        <= CROWD_KM
    )


def queries_per_request(app, path: str, profile: bool) -> tuple[int, float, str]:
    """Statements one request runs (after a first request warmed the caches), and the
    median time of one request alone, in-process."""
    from portal.extensions import db

    client = app.test_client()
    client.get(path)
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.status_code
    times = []
    for _ in range(20):
        started = time.perf_counter()
        client.get(path)
        times.append(time.perf_counter() - started)
    seconds = statistics.median(times)
    report = ""
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(50):
            client.get(path)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        report = out.getvalue()
    return len(statements), seconds, report


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_gunicorn(target: str, port: int, env: dict, log: Path) -> subprocess.Popen:
    command = [
        GUNICORN,
        "--no-control-socket",
        "--workers",
        "2",
        "--worker-class",
        "sync",
        "--bind",
        f"{HOST}:{port}",
        target,
    ]
    with log.open("w") as err:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # the master stops its workers
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args, **_kwargs):
        return None


# wrk counts a redirect as a success: the page must answer 200 itself.
_opener = urllib.request.build_opener(_NoRedirect)


def fetch(url: str) -> tuple[int, str]:
    assert url.startswith(f"http://{HOST}:"), url
    try:
        with _opener.open(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        where = error.headers.get("Location", "")
        return error.code, f"Location: {where}" if where else ""


def wait_until_up(url: str, process: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped:\n{log.read_text()[-2000:]}")
        try:
            fetch(url)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer in {seconds:.0f} s:\n{log.read_text()[-2000:]}")


def cpu_busy(seconds: float = 2.0) -> float:
    """Share of all cores busy over a moment (Linux): others' load skews the numbers."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return sum(values) - idle, sum(values)

    busy_1, total_1 = sample()
    time.sleep(seconds)
    busy_2, total_2 = sample()
    return 100 * (busy_2 - busy_1) / max(1, total_2 - total_1)


def wait_for_quiet(limit: float, threshold: float = 10.0) -> None:
    """Waits (at most limit seconds) until nothing else keeps the cores busy."""
    deadline = time.monotonic() + limit
    busy = cpu_busy()
    while busy > threshold and time.monotonic() < deadline:
        print(f"  the cores are {busy:.0f} % busy with something else; waiting", flush=True)
        time.sleep(5)
        busy = cpu_busy()
    note = "" if busy <= threshold else " (warning: still busy, the numbers will be low)"
    print(f"CPU busy before measuring, servers idle: {busy:.0f} %{note}", flush=True)


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url: str, seconds: int, connections: int) -> dict:
    assert url.startswith(f"http://{HOST}:"), url
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout

    def latency(percent: str) -> float:
        found = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        assert found, output
        return float(found[1]) * UNITS[found[2]]

    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    assert rate, output
    if bad or errors:
        raise SystemExit(f"wrk saw failures on {url}:\n{output}")
    return {"rps": float(rate[1]), "p50": latency(50), "p99": latency(99), "raw": output}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--offers", type=int, default=50_000)
    parser.add_argument("--duration", type=int, default=20, help="seconds of each wrk run")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of wrk before each run")
    parser.add_argument("--connections", type=int, default=16)
    # The page's own URL: /offres?… answers 308 to it (wrk would count the redirect).
    parser.add_argument("--path", default="/offres/?lieu=67000&distance=20")
    parser.add_argument("--expect", default="km", help="text the page must hold")
    parser.add_argument("--rounds", type=int, default=3, help="of each; the best is kept")
    parser.add_argument(
        "--quiet-wait", type=float, default=120, help="seconds to wait for idle cores"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile 50 requests in-process")
    args = parser.parse_args()
    assert args.path.startswith("/"), args.path

    fresh_database("bench_offers")
    from portal import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": BENCH_URL})
    started = time.perf_counter()
    near = load(app, args.offers)
    print(
        f"{args.offers} offers loaded in {time.perf_counter() - started:.1f} s; "
        f"{near} within {CROWD_KM} km of {CENTRE}",
        flush=True,
    )

    env = {**os.environ, "DATABASE_URL": BENCH_URL, "PYTHONPATH": str(ROOT)}
    logs = Path(tempfile.mkdtemp(prefix="offers_bench_"))
    servers: list[subprocess.Popen] = []
    try:
        bare_port, app_port = free_port(), free_port()
        bare = start_gunicorn("bench.bare_app:app", bare_port, env, logs / "bare.log")
        servers.append(bare)
        site = start_gunicorn("wsgi:app", app_port, env, logs / "app.log")
        servers.append(site)
        bare_url = f"http://{HOST}:{bare_port}/"
        page_url = f"http://{HOST}:{app_port}{args.path}"
        wait_until_up(bare_url, bare, logs / "bare.log")
        wait_until_up(page_url, site, logs / "app.log")
        status, body = fetch(page_url)
        if status != 200 or args.expect not in body:
            raise SystemExit(
                f"{args.path} answered {status}, {len(body)} characters, "
                f"{args.expect!r} {'found' if args.expect in body else 'missing'}"
                + (f" ({body})" if body.startswith("Location:") else "")
            )
        # "km" alone is also in the distance choices: the page must list offers too.
        shown = len(set(re.findall(r'href="/offres/(\d+)', body)))
        if args.path.startswith("/offres") and not shown:
            raise SystemExit(f"{args.path} lists no offer (no link to /offres/<id>)")
        print(f"{args.path}: 200, {len(body.encode())} bytes, {shown} offers listed", flush=True)

        # Rounds alternate the two; others' work on the same cores only ever lowers a
        # run, so the best round of each is kept (all are printed).
        rounds: dict[str, list[dict]] = {"bare": [], "page": []}
        for number in range(1, args.rounds + 1):
            for name, url in (("bare", bare_url), ("page", page_url)):
                wait_for_quiet(args.quiet_wait)
                wrk(url, args.warmup, args.connections)
                rounds[name].append(wrk(url, args.duration, args.connections))
                print(f"round {number}, {name}:\n{rounds[name][-1]['raw']}", flush=True)
    finally:
        for server in servers:
            stop(server)
    shutil.rmtree(logs)  # kept when something failed, to read gunicorn's errors

    statements, seconds, report = queries_per_request(app, args.path, args.profile)
    for name in rounds:
        print(
            f"{name}, every round: "
            + "; ".join(
                f"{r['rps']:,.0f}/s p50 {r['p50']:.2f} ms p99 {r['p99']:.2f} ms"
                for r in rounds[name]
            )
        )
    bare, page = (max(rounds[name], key=lambda r: r["rps"]) for name in ("bare", "page"))
    command = "bench/offers_bench.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    print(f"Command: `.venv/bin/python {command.strip()}`")
    print(
        f"One request alone, in-process (Flask test client): {statements} SQL statements, "
        f"{seconds * 1000:.1f} ms (median of 20)"
    )
    print()
    print(f"Best of {args.rounds} rounds of {args.duration} s, {args.connections} connections:")
    print()
    print("| endpoint | requests/s | p50 | p99 | ratio to bare |")
    print("|---|---|---|---|---|")
    print(
        f"| bare Flask endpoint | {bare['rps']:,.0f} | {bare['p50']:.2f} ms "
        f"| {bare['p99']:.2f} ms | 1.00 |"
    )
    print(
        f"| offer search {CROWD_KM} km (`{args.path}`) | {page['rps']:,.0f} "
        f"| {page['p50']:.2f} ms | {page['p99']:.2f} ms | {page['rps'] / bare['rps']:.2f} |"
    )
    if report:
        print()
        print(report)


if __name__ == "__main__":
    main()

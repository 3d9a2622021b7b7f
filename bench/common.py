"""What every benchmark needs: its own PostgreSQL database on 127.0.0.1, and a timer."""

import time

from sqlalchemy import create_engine, text

HOST = "127.0.0.1"  # the only target a benchmark ever has
ADMIN_URL = f"postgresql+psycopg://postgres@{HOST}:5432/postgres"


def bench_url(database: str) -> str:
    return f"postgresql+psycopg://postgres@{HOST}:5432/{database}"


def fresh_database(database: str) -> None:
    """Drops and creates `database` (a benchmark's own, never `test`)."""
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    engine.dispose()
    # The caseload's name index needs trigrams, whether the schema comes from the
    # migrations or from create_all().
    engine = create_engine(bench_url(database), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    engine.dispose()


def timed(function, runs: int) -> list[float]:
    """Seconds each of `runs` calls of `function` took."""
    times = []
    for _ in range(runs):
        started = time.monotonic()
        function()
        times.append(time.monotonic() - started)
    return times

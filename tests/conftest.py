"""Fixtures in the flaskr style: app, client, runner, plus the loopback fakes.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL names
one; the schema is built by the Alembic migrations, as in production.
"""

import itertools
import os
import re
import tempfile
import threading
import time as clock
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from portal import create_app
from portal.core.hashing import hash_secret
from portal.core.holidays import holiday_name
from portal.extensions import db, limiter
from portal.organisations.models import Counsellor
from portal.organisations.services import create_api_key, create_organisation
from tests import log_scanner
from tests.factories import PASSWORD, Api, Tenant
from tests.fake_twilio import FakeTwilio, ServerThread

_sqlite_dir = tempfile.mkdtemp(prefix="portal-tests-")
DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_sqlite_dir}/test.sqlite"
IS_POSTGRES = DATABASE_URL.startswith("postgresql")


def pytest_configure(config):
    log_scanner.install()


@pytest.fixture(scope="session", autouse=True)
def _no_personal_data_in_logs():
    """Fails the run if a log line at INFO or above showed a phone, code, link or key."""
    yield
    assert not log_scanner.SCANNER.findings, log_scanner.SCANNER.report()


def pytest_report_header(config):
    return f"database: {DATABASE_URL}"


def pytest_collection_modifyitems(config, items):
    """Concurrency guarantees need real concurrent transactions: they run on PostgreSQL only.

    They are deselected (not skipped) on SQLite; scripts/test runs the suite on both.
    """
    if IS_POSTGRES:
        return
    kept = [item for item in items if "postgres_only" not in item.keywords]
    deselected = [item for item in items if "postgres_only" in item.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture(scope="session")
def fake_twilio():
    fake = FakeTwilio()
    with ServerThread(fake) as server:
        fake.url = server.url
        yield fake


def _test_config(fake_twilio: FakeTwilio) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-long-enough-for-production-32+",
        "SQLALCHEMY_DATABASE_URI": DATABASE_URL,
        "SERVER_NAME": None,
        "PORTAL_BASE_URL": "https://portail.test",
        # Tests can never send a real SMS: Twilio is the fake on 127.0.0.1.
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
        "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
        "TWILIO_FROM": "+33757000000",
        "TWILIO_API_BASE": fake_twilio.url,
        "RATELIMIT_STORAGE_URI": "memory://",
    }


@pytest.fixture(scope="session")
def _schema(fake_twilio):
    """Builds the schema once per run with the migrations, from an empty database."""
    if IS_POSTGRES:
        engine = create_engine(DATABASE_URL)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app(_test_config(fake_twilio))
    with app.app_context():
        upgrade()
        tables = [table.name for table in reversed(db.metadata.sorted_tables)]
        db.engine.dispose()
    return tables


def _empty_tables(tables: list[str]) -> None:
    """DELETE, not TRUNCATE, on PostgreSQL too: on tables this small a TRUNCATE of every
    table costs some 250 ms (new files for each), a DELETE under 10 ms; over two thousand
    tests that is minutes of CI. Ids start again at 1 either way."""
    for table in tables:
        db.session.execute(text(f'DELETE FROM "{table}"'))
    if IS_POSTGRES:
        sequences = db.session.scalars(
            text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
        ).all()
        if sequences:
            restarts = ", ".join(f"setval('{name}', 1, false)" for name in sequences)
            db.session.execute(text(f"SELECT {restarts}"))
    else:
        db.session.execute(text("DELETE FROM sqlite_sequence"))
    db.session.commit()


@pytest.fixture
def app_config():
    """Per-test overrides: a test module redefines this fixture to change settings."""
    return {}


class ThreadedClient(FlaskClient):
    """Runs each request in its own thread, hence in its own app context.

    The test holds an app context for its database work; a request made in that same
    context would share its `g` (Flask-Login's user, Flask-WTF's token) with the test
    and with the requests before it, which no real request ever does.
    """

    def open(self, *args, **kwargs):
        if not has_app_context():  # called from a test's own worker thread
            return super().open(*args, **kwargs)
        db.session.commit()  # what the test wrote is visible to the request, no lock held
        with ThreadPoolExecutor(max_workers=1) as pool:
            response = pool.submit(super().open, *args, **kwargs).result()
        db.session.expire_all()  # and what the request wrote is read afresh by the test
        return response


@pytest.fixture
def app(_schema, fake_twilio, app_config):
    app = create_app({**_test_config(fake_twilio), **app_config})
    app.test_client_class = ThreadedClient
    fake_twilio.reset()
    with app.app_context():
        _empty_tables(_schema)
        limiter.reset()
        yield app
        # A sign-in code's SMS is sent from a thread; it must not outlive its test (ids
        # start again at 1 in the next one).
        for thread in list(app.extensions.get("background_sms", ())):
            thread.join(10)
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_TOKEN = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_token_from(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)


def post_at_once(pages: list[tuple[FlaskClient, str]], timeout: float = 120) -> list:
    """Each client opens its page (for the form's CSRF token), then all post it at the same
    instant, each in its own thread (real concurrent transactions on PostgreSQL). The
    answers, in the order of `pages`."""
    tokens = [csrf_token_from(client.get(url).get_data(as_text=True)) for client, url in pages]
    start = threading.Barrier(len(pages))
    answers: list = [None] * len(pages)

    def post(index: int, client: FlaskClient, url: str, token: str) -> None:
        start.wait()
        answers[index] = client.post(url, data={"csrf_token": token})

    threads = [
        threading.Thread(target=post, args=(index, client, url, token))
        for index, ((client, url), token) in enumerate(zip(pages, tokens, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert all(answer is not None for answer in answers), "a post did not finish in time"
    return answers


class Browser:
    """The test client plus the habit of posting forms with the page's CSRF token."""

    def __init__(self, client) -> None:
        self.client = client

    def get(self, url: str, **kwargs):
        response = self.client.get(url, **kwargs)
        response.close()
        return response

    def submit(self, url: str, data: dict, page: str | None = None, **kwargs):
        """GETs `page` (default: `url`), takes its CSRF token and POSTs `data` to `url`."""
        html = self.get(page or url).get_data(as_text=True)
        response = self.client.post(
            url, data={**data, "csrf_token": csrf_token_from(html)}, **kwargs
        )
        response.close()  # as a WSGI server does: runs what the view left for after the response
        return response


@pytest.fixture
def browser(client):
    return Browser(client)


@pytest.fixture
def sign_in(app):
    """A client already signed in as `user`, as Flask-Login would have left the session."""
    from flask_login.utils import _create_identifier

    def signed_in(user):
        client = app.test_client()
        with app.test_request_context(environ_base=client.environ_base):
            identifier = _create_identifier()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
            session["_id"] = identifier
            session["signed_in_at"] = session["seen_at"] = int(clock.time())
        return client

    return signed_in


@pytest.fixture
def working_hours():
    """The clock at 10:00 Paris time on the next working day, and running.

    SMS other than sign-in codes wait for 08:00–20:00 on working days: a test that sends
    one, and that CI may run at night, on a Sunday or on a holiday, asks for this first.
    """
    paris = ZoneInfo("Europe/Paris")
    day = datetime.now(paris).date() + timedelta(days=1)
    while day.weekday() >= 5 or any(holiday_name(day, code) for code in (None, "67", "29")):
        day += timedelta(days=1)
    with time_machine.travel(datetime.combine(day, time(10, 0), paris), tick=True):
        yield


# -- Organisations with their API keys -------------------------------------------------------

_tenant_numbers = itertools.count(1)
# Counsellors' passwords play no part here: one Argon2 hash for all keeps the suite fast.
_PASSWORD_HASH = hash_secret(PASSWORD)


@pytest.fixture
def make_tenant(app, client):
    def make(slug: str | None = None, department: str = "67") -> Tenant:
        # One commit for the three rows: the suite makes two organisations a test.
        organisation = create_organisation(
            slug or f"org-{next(_tenant_numbers)}", "Organisation", department
        )
        counsellor = Counsellor(
            organisation=organisation,
            email=f"conseil-{organisation.slug}@example.org",
            name="Claire Muller",
            password_hash=_PASSWORD_HASH,
        )
        db.session.add(counsellor)
        _api_key, key = create_api_key(organisation, "back office")
        db.session.commit()
        return Tenant(organisation, counsellor, key, Api(client, key))

    return make


@pytest.fixture
def org_a(make_tenant) -> Tenant:
    """A department (Bas-Rhin: Alsace-Moselle holidays)."""
    return make_tenant("dep-67", "67")


@pytest.fixture
def org_b(make_tenant) -> Tenant:
    """Another organisation, in Finistère, with its own key."""
    return make_tenant("plie-29", "29")

"""Browser fixtures: the test's app on a loopback server, driven by Debian's Chromium.

Playwright's sync API is used directly (no pytest-playwright plugin). The browser is
started once per run; every test gets fresh contexts (cookies, language), closed at its end.
"""

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.fake_twilio import ServerThread

HERE = Path(__file__).resolve().parent

CHROMIUM = "/usr/bin/chromium"
# From /work/shared/design/RECIPES.md: without the background-networking flags Chromium
# keeps trying hosts it cannot reach.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# An entry-level Android phone.
PHONE = {
    "viewport": {"width": 360, "height": 780},
    "is_mobile": True,
    "has_touch": True,
}
# Playwright waits this long (ms) at most for a page or an element. The server is local,
# but CI runs the SQLite and PostgreSQL passes at once on two cores: a sign-in (an Argon2
# hash, an SMS through the fake, a redirect) once took over 10 s under that load.
TIMEOUT_MS = 30_000

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SIX_DIGITS = re.compile(r"\b(\d{6})\b")


def pytest_collection_modifyitems(config, items):
    """Every test under tests/e2e is an e2e test (`-m "not e2e"` skips the browser)."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def app_config():
    # The loopback server speaks plain http, while the tests' PORTAL_BASE_URL (https://…)
    # or the environment would make the session cookie Secure-only.
    return {"SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False}


def close_once_sent(app):
    """WSGI middleware: the response's close() runs as soon as its body has been written.

    The portal sends the sign-in SMS from a response.call_on_close() callback, "once the
    page has gone". gunicorn always calls close(); Werkzeug's development server does not
    when the client resets the connection while the server drains the socket after the
    response, and Chromium does that now and then after a redirect: the SMS then waits in
    the outbox for the worker, and the test for a code that never comes.
    """

    def wsgi(environ, start_response):
        body = app(environ, start_response)

        def chunks():
            try:
                yield from body
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()

        return chunks()

    return wsgi


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """Serves this test's `app` (same object, same database) on 127.0.0.1; yields its URL."""
    server = ServerThread(close_once_sent(app))
    # Werkzeug's serve_forever() closes the listening socket when ServerThread stops it.
    with server:
        yield server.url


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_page(chromium: Browser, live_server: str) -> Iterator[Callable[..., Page]]:
    """Opens a page in a fresh context on the live server: new_page(locale="ar").

    Depends on `live_server`, so every context is closed before the server stops and the
    app's database is emptied.
    """
    contexts: list[BrowserContext] = []

    def open_page(locale: str = "fr-FR", **options) -> Page:
        context = chromium.new_context(base_url=live_server, locale=locale, **{**PHONE, **options})
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page) -> Page:
    """A French phone: Accept-Language fr-FR."""
    return new_page("fr-FR")


@pytest.fixture
def page_ar(new_page) -> Page:
    """An Arabic phone: Accept-Language ar."""
    return new_page("ar")


def _outbox() -> list[tuple]:
    from sqlalchemy import select

    from portal.extensions import db
    from portal.sms.models import SmsMessage

    db.session.rollback()  # read what the server committed, not a stale snapshot
    rows = db.session.scalars(select(SmsMessage)).all()
    return [(row.id, row.to, row.status.value, row.attempts, row.last_error) for row in rows]


@pytest.fixture
def sms_code(fake_twilio) -> Callable[..., str]:
    """The 6-digit code of the latest SMS the app sent, waiting for it to arrive."""

    def read(count: int = 1) -> str:
        messages = fake_twilio.wait_for(count)
        assert len(messages) >= count, (
            f"expected {count} SMS, the fake Twilio got {messages!r}; the outbox holds "
            f"{_outbox()!r}"
        )
        match = SIX_DIGITS.search(messages[count - 1].body)
        assert match, f"no 6-digit code in the SMS: {messages[count - 1].body!r}"
        return match.group(1)

    return read


@pytest.fixture
def assert_accessible() -> Callable[[Page, str], None]:
    """Runs axe-core (WCAG 2.1 A and AA rules) on the page; fails with axe's report."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check(page: Page, where: str) -> None:
        results = axe.run(
            page,
            options={
                "runOnly": {"type": "tag", "values": WCAG_TAGS},
                "resultTypes": ["violations"],
            },
        )
        assert results.violations_count == 0, (
            f"axe: {results.violations_count} violation(s) on {where} ({page.url})\n"
            + results.generate_report()
        )

    return check


# Selectors that hold in every language (the Arabic catalog may or may not be filled).
PHONE_FIELD = "main input[name='phone']"
CODE_FIELD = "main input[name='code']"
SUBMIT = "main form button[type='submit']"


@pytest.fixture
def sign_in_by_sms(sms_code) -> Callable[[Page, str], None]:
    """The whole SMS sign-in from the landing page, by selectors that ignore the language."""

    def sign_in(page: Page, typed_phone: str, sms_number: int = 1) -> None:
        page.goto("/")
        page.locator("main a[href='/connexion']").click()
        page.wait_for_url("**/connexion")
        page.locator(PHONE_FIELD).fill(typed_phone)
        page.locator(SUBMIT).click()
        page.wait_for_url("**/connexion/code")
        page.locator(CODE_FIELD).fill(sms_code(sms_number))
        page.locator(SUBMIT).click()
        page.wait_for_url("**/accueil")

    return sign_in

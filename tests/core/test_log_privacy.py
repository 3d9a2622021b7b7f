"""No phone number, code, sign-in link or API key in the logs at the default level.

The whole run is scanned too (tests/log_scanner.py, installed by tests/conftest.py);
these tests show the scanner can fail, and check each source and the safety net.
"""

import io
import logging
import re
from contextlib import contextmanager

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, ProgrammingError

from portal import create_app
from portal.core.log_privacy import RedactingFilter, redact
from portal.extensions import db
from tests.conftest import _test_config
from tests.fake_twilio import ServerThread
from tests.log_scanner import SCANNER, PersonalDataScanner, find_personal_data

PHONE = "+33612345678"
TOKEN = "Zq3x9S_uV2-kLmN0pQrStUvWxYz0123456789abcdEF"
API_KEY = "spi_bas-rhin_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v"


@contextmanager
def findings_on_purpose():
    """Yields the scanner's findings made in the block, and takes them back off the run's."""
    before = len(SCANNER.findings)
    made: list[str] = []
    try:
        yield made
    finally:
        made.extend(SCANNER.findings[before:])
        del SCANNER.findings[before:]


# --- The scanner ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kinds"),
    [
        (f"SMS to {PHONE}: hello", ["phone number"]),
        ("Reunion +262692123456 failed", ["phone number"]),
        ("GET /Messages.json?To=%2B33612345678&PageSize=50", ["phone number"]),
        (f'"GET /connexion/lien/{TOKEN} HTTP/1.1" 200 -', ["sign-in link token"]),
        (f"Authorization: Bearer {API_KEY}", ["API key"]),
        ("Votre code de connexion : 482913", ["sign-in code"]),
        ("SMS 12 will be retried: Twilio 500 20500: Simulated failure", []),
        ("api key=3 GET /api/v1/beneficiaries/<external_id> -> 200 (4 ms)", []),
        ("SMS to +[phone]: code [code], /connexion/lien/[token], spi_[key]", []),
    ],
)
def test_the_scanner_recognises_personal_data(line, kinds):
    assert find_personal_data(line) == kinds


def test_the_scanner_flags_a_phone_logged_without_any_filter():
    scanner = PersonalDataScanner()
    logger = logging.getLogger("tests.no-filter")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(scanner)
    try:
        logger.info("SMS to %s sent", PHONE)
        logger.debug("SMS to %s (debug: not the default level)", PHONE)
    finally:
        logger.removeHandler(scanner)
    assert scanner.seen == 2
    assert len(scanner.findings) == 1 and "phone number" in scanner.findings[0]


def test_the_runs_scanner_reads_records_before_the_portals_filter(app):
    """create_app() put the redacting filter on every root handler: the scanner still
    sees what was logged, being first and skipping its filters."""
    assert logging.getLogger().handlers[0] is SCANNER
    with findings_on_purpose() as made:
        logging.getLogger("portal.example").warning("SMS to %s failed", PHONE)
    assert len(made) == 1 and "phone number" in made[0]


# --- The safety net -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"SMS to {PHONE}: hi", "SMS to +[phone]: hi"),
        ("+262692123456 and +590690001122", "+[phone] and +[phone]"),
        ("?To=%2B33612345678&x=1", "?To=+[phone]&x=1"),
        (
            f"GET https://p.fr/connexion/lien/{TOKEN}?a=1",
            "GET https://p.fr/connexion/lien/[token]?a=1",
        ),
        (f"key {API_KEY} used", "key spi_[key] used"),
        ("Authorization: Bearer abc.def-123", "Authorization: Bearer [key]"),
        ("Votre code de connexion : 482913", "Votre code de connexion : [code]"),
        ("Your sign-in code is 482913.", "Your sign-in code is [code]."),
        ("POST /connexion/code?code=482913", "POST /connexion/code?code=[code]"),
        ("SMS 12 will be retried: Twilio 500 20500", "SMS 12 will be retried: Twilio 500 20500"),
        ("postal code 67000, 1234567 rows", "postal code 67000, 1234567 rows"),
    ],
)
def test_redact(line, expected):
    assert redact(line) == expected


@pytest.fixture
def root_output():
    """A root handler, as on a server (logging.basicConfig's), added before create_app()."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    yield stream
    logging.getLogger().removeHandler(handler)


def test_the_root_handlers_redact_what_slips_through(root_output, fake_twilio, _schema):
    create_app(_test_config(fake_twilio))
    with findings_on_purpose():
        logging.getLogger("portal.example").warning("SMS to %s: code 482913", PHONE)
        try:
            raise ValueError(f"The 'To' number {PHONE} is not a valid phone number.")
        except ValueError:
            logging.getLogger("portal.example").exception("sending failed")
    output = root_output.getvalue()
    assert PHONE not in output and "482913" not in output
    assert "SMS to +[phone]: code [code]" in output
    assert "ValueError: The 'To' number +[phone] is not a valid phone number." in output


def test_the_twilio_client_logs_nothing_below_warning(app):
    assert logging.getLogger("twilio.http_client").getEffectiveLevel() == logging.WARNING


def test_sql_errors_do_not_carry_the_values(app):
    with pytest.raises((OperationalError, ProgrammingError)) as failed:
        db.session.execute(text("SELECT * FROM no_such_table WHERE phone = :p"), {"p": PHONE})
    db.session.rollback()
    assert PHONE not in str(failed.value)
    assert "hidden" in str(failed.value)


def test_the_access_log_hides_sign_in_link_tokens(app, caplog):
    with ServerThread(app) as server, caplog.at_level(logging.INFO, logger="werkzeug"):
        requests.get(f"{server.url}/connexion/lien/{TOKEN}", timeout=10, allow_redirects=False)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/connexion/lien/[token]" in line for line in lines), lines
    assert not any(TOKEN in line for line in lines)


def test_the_rate_limit_log_line_hides_the_number_it_is_keyed_on(browser, caplog):
    """Flask-Limiter logs the key of an exceeded limit at INFO: a keyed hash of the number,
    and the number itself nowhere."""
    with caplog.at_level(logging.INFO, logger="flask-limiter"):
        statuses = [
            browser.submit("/connexion", {"phone": "06 12 34 56 78"}).status_code for _ in range(4)
        ]
    assert statuses[-1] == 429
    lines = [r.getMessage() for r in caplog.records if r.name == "flask-limiter"]
    hashed = [line for line in lines if re.search(r"phone:[0-9a-f]{32}", line)]
    assert any("exceeded" in line for line in hashed), lines
    assert not any(PHONE in line for line in lines)


def test_the_console_backend_keeps_printing_codes_only_under_console():
    record = logging.LogRecord(
        "portal.sms.console",
        logging.WARNING,
        __file__,
        1,
        "SMS to %s: %s",
        (PHONE, "code 482913"),
        None,
    )
    assert RedactingFilter(console_sms=True).filter(record)
    assert record.getMessage() == f"SMS to {PHONE}: code 482913"  # the demo reads it
    assert RedactingFilter(console_sms=False).filter(record)
    assert record.getMessage() == "SMS to +[phone]: code [code]"


def test_the_filter_follows_the_apps_sms_backend(fake_twilio, _schema):
    console = create_app({**_test_config(fake_twilio), "SMS_BACKEND": "console"})
    werkzeug = logging.getLogger("werkzeug")
    assert [f.console_sms for f in werkzeug.filters if isinstance(f, RedactingFilter)] == [True]
    create_app(_test_config(fake_twilio))  # twilio: replaces it, does not add a second one
    assert [f.console_sms for f in werkzeug.filters if isinstance(f, RedactingFilter)] == [False]
    assert console.config["SMS_BACKEND"] == "console"

"""Code requests are limited per number and per address, also across several web workers."""

import pytest
import redis

from portal import create_app
from portal.extensions import limiter
from tests.conftest import IS_POSTGRES, Browser, _test_config
from tests.factories import make_beneficiary

# scripts/test runs the SQLite and PostgreSQL passes at once: each its own Redis databases.
SHARED_DB, SCANNED_DB = (13, 12) if IS_POSTGRES else (15, 14)


def test_codes_for_one_number_are_limited_whatever_its_spelling(browser, fake_twilio):
    make_beneficiary(phone="+33612345678")
    spellings = ["06 12 34 56 78", "0612345678", "+33 6 12 34 56 78", "0033612345678"]
    statuses = [browser.submit("/connexion", {"phone": s}).status_code for s in spellings]
    assert statuses == [302, 302, 302, 429]
    assert len(fake_twilio.wait_for(3)) == 3


def test_a_refused_request_keeps_the_number_and_says_why(browser):
    for _ in range(3):
        browser.submit("/connexion", {"phone": "06 12 34 56 78"})
    response = browser.submit("/connexion", {"phone": "06 12 34 56 78"})
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "Trop de codes demandés" in page
    assert 'value="06 12 34 56 78"' in page
    assert "Retry-After" in response.headers


@pytest.fixture
def app_config():
    return {"SIGN_IN_CODE_LIMITS_PER_IP": "5 per hour"}


def test_codes_from_one_address_are_limited_across_numbers(browser):
    statuses = [
        browser.submit("/connexion", {"phone": f"06 12 34 56 {n:02d}"}).status_code
        for n in range(7)
    ]
    assert statuses == [302] * 5 + [429] * 2


def test_the_limit_is_shared_by_several_workers_through_redis(fake_twilio, _schema):
    """Two app instances (two gunicorn workers) count against one Redis store."""
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis must run on 127.0.0.1:6379 for this test")
    config = {
        **_test_config(fake_twilio),
        "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:6379/{SHARED_DB}",
    }
    workers = [create_app(config), create_app(config)]
    with workers[0].app_context():
        limiter.reset()
    statuses = []
    for n in range(4):
        worker = workers[n % 2]
        with worker.app_context():
            statuses.append(
                Browser(worker.test_client())
                .submit("/connexion", {"phone": "0612345678"})
                .status_code
            )
    with workers[0].app_context():
        limiter.reset()
    assert statuses == [302, 302, 302, 429]


def test_one_ipv6_network_counts_as_one_address(browser):
    """A phone picks new IPv6 addresses within its /64 at will: the /64 is the key."""
    statuses = [
        browser.submit(
            "/connexion",
            {"phone": f"06 12 34 56 {n:02d}"},
            environ_base={"REMOTE_ADDR": f"2001:db8:1:2::{n + 1:x}"},
        ).status_code
        for n in range(7)
    ]
    assert statuses == [302] * 5 + [429] * 2


def test_other_addresses_are_not_held_back_by_a_busy_one(browser):
    """Behind a carrier's shared IPv4 address many people sign in; another address, or
    another IPv6 network, is counted apart."""
    for n in range(5):
        browser.submit("/connexion", {"phone": f"06 12 34 56 {n:02d}"})
    others = [
        browser.submit(
            "/connexion", {"phone": "06 12 34 56 99"}, environ_base={"REMOTE_ADDR": address}
        ).status_code
        for address in ("192.0.2.10", "2001:db8:1:3::1")
    ]
    assert others == [302, 302]


def test_the_limiter_store_holds_no_phone_number(fake_twilio, _schema):
    try:
        store = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1, db=SCANNED_DB)
        store.ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis must run on 127.0.0.1:6379 for this test")
    store.flushdb()
    config = {
        **_test_config(fake_twilio),
        "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:6379/{SCANNED_DB}",
    }
    app = create_app(config)
    with app.app_context():
        Browser(app.test_client()).submit("/connexion", {"phone": "06 12 34 56 78"})
        keys = [key.decode() for key in store.keys("*")]
        limiter.reset()
    assert keys, "the limiter wrote nothing"
    assert not [key for key in keys if "612345678" in key or "+33" in key], keys

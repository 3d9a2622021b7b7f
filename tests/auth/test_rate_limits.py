"""Code requests are limited per number and per address, also across several web workers."""

import pytest
import redis

from portal import create_app
from portal.extensions import limiter
from tests.conftest import Browser, _test_config
from tests.factories import make_beneficiary


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
    config = {**_test_config(fake_twilio), "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15"}
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

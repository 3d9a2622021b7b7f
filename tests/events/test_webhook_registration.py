"""PUT/GET/DELETE /webhook with WEBHOOK_ALLOW_INSECURE off: https to public addresses only."""

import pytest

from tests.api.conftest import assert_problem

SECRET = "s" * 32


@pytest.fixture
def app_config():
    return {"WEBHOOK_ALLOW_INSECURE": False}


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://127.0.0.2:8443/hook",
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.1/hook",
        "https://192.168.1.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[fe80::1]/hook",
        "https://[fd00::1]/hook",
        "https://0.0.0.0/hook",
        "https://100.64.0.1/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://2130706433/hook",
        "https://0x7f000001/hook",
    ],
)
def test_a_url_into_a_private_network_is_422(org_a, url):
    response = org_a.api.put("/webhook", {"url": url, "secret": SECRET})
    assert_problem(response, 422, "/url")
    assert_problem(org_a.api.get("/webhook"), 404)


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.215.14/hook",
        "ftp://93.184.215.14/hook",
        "https:///nohost",
        "not a url at all",
        "//93.184.215.14/hook",
        "https://user:password@93.184.215.14/hook",
    ],
)
def test_anything_but_an_https_url_is_422(org_a, url):
    assert_problem(org_a.api.put("/webhook", {"url": url, "secret": SECRET}), 422)


def test_an_https_url_to_a_public_address_is_registered(org_a):
    url = "https://93.184.215.14/spi/webhook"
    created = org_a.api.put("/webhook", {"url": url, "secret": SECRET})
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["url"] == url
    assert "secret" not in created.get_json()
    assert org_a.api.get("/webhook").get_json()["url"] == url

    replaced = org_a.api.put("/webhook", {"url": url + "/v2", "secret": "t" * 40})
    assert replaced.status_code == 200
    assert org_a.api.get("/webhook").get_json()["url"] == url + "/v2"

    assert org_a.api.delete("/webhook").status_code == 204
    assert_problem(org_a.api.get("/webhook"), 404)
    assert_problem(org_a.api.delete("/webhook"), 404)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "https://93.184.215.14/hook", "secret": "s" * 31}, "/secret"),
        ({"url": "https://93.184.215.14/hook", "secret": ""}, "/secret"),
        ({"url": "https://93.184.215.14/hook"}, "/secret"),
        ({"secret": SECRET}, "/url"),
        ({"url": "https://93.184.215.14/hook", "secret": SECRET, "events": ["*"]}, "/events"),
    ],
    ids=["secret-31", "secret-empty", "no-secret", "no-url", "unknown-field"],
)
def test_an_invalid_registration_is_422(org_a, body, field):
    assert_problem(org_a.api.put("/webhook", body), 422, field)


def test_each_organisation_has_its_own_webhook(org_a, org_b):
    assert (
        org_a.api.put("/webhook", {"url": "https://93.184.215.14/a", "secret": SECRET}).status_code
        == 201
    )
    assert_problem(org_b.api.get("/webhook"), 404)
    assert_problem(org_b.api.delete("/webhook"), 404)
    assert org_a.api.get("/webhook").status_code == 200

"""Every form: a missing CSRF token is refused, and no input, however malformed, gives a 500."""

import re

import pytest
from markupsafe import escape

from portal import create_app
from tests.factories import make_beneficiary

NASTY = [
    "",
    " ",
    "a" * 10_000,
    "😀" * 50,
    "\u202e\u200f06 12 34 56 78",
    "<script>alert(1)</script>",
    "' OR 1=1; --",
    '"; DROP TABLE beneficiary; --',
    "\x00",
    "06 12 34 56 78\x00",
    "%00%0d%0a",
    "../../etc/passwd",
    "١٢٣٤٥٦",  # Arabic-Indic digits
]


def _post_routes():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    urls = []
    for rule in app.url_map.iter_rules():
        # The API (keys) and Twilio's callbacks (signatures) need no CSRF token.
        if "POST" in rule.methods and not rule.rule.startswith(("/api/", "/sms/")):
            urls.append(re.sub(r"<(?:\w+:)?\w+>", "1", rule.rule))
    return sorted(urls)


@pytest.mark.parametrize("url", _post_routes())
def test_a_post_without_csrf_token_is_refused(client, url):
    response = client.post(url, data={"phone": "0612345678", "code": "123456"})
    assert response.status_code == 400
    assert "La page a expiré" in response.get_data(as_text=True)


def test_a_post_with_a_forged_token_is_refused(client):
    response = client.post("/connexion", data={"phone": "0612345678", "csrf_token": "forged"})
    assert response.status_code == 400


FORMS = [
    ("/connexion", "phone", {}),
    ("/connexion/code", "code", {}),
    ("/connexion/qui", "person", {}),
    ("/conseiller/connexion", "email", {"password": "whatever-password"}),
    ("/conseiller/connexion", "password", {"email": "a@example.org"}),
    ("/langue", "language", {}),
    ("/langue", "next", {"language": "ar"}),
]


@pytest.fixture
def app_config():
    # Many posts from one address: the limits are tested elsewhere.
    return {"RATELIMIT_ENABLED": False}


@pytest.mark.parametrize("value", NASTY, ids=range(len(NASTY)))
@pytest.mark.parametrize(("url", "field", "others"), FORMS, ids=lambda v: str(v))
def test_no_input_gives_a_server_error(browser, url, field, others, value):
    person = make_beneficiary(phone="+33612345678")
    with browser.client.session_transaction() as session:
        session["sign_in_phone"] = person.phone
        session["sign_in_choices"] = [person.id]
    response = browser.submit(url, {**others, field: value}, page="/connexion")
    assert response.status_code < 500
    page = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    if response.status_code == 200 and field in ("phone", "code", "email"):
        if value.strip() and "\x00" not in value:
            # A refused form keeps what was typed, escaped.
            assert f'value="{escape(value.strip())}"' in page


@pytest.mark.parametrize(
    "path", ["/connexion/lien/" + "é" * 300, "/%00", "/accueil/../admin", "/x" * 500]
)
def test_odd_urls_give_no_server_error(client, path):
    assert client.get(path).status_code < 500


def test_a_body_over_one_mebibyte_is_refused(client):
    response = client.post("/connexion", data={"phone": "0" * (1024 * 1024 + 10)})
    assert response.status_code == 413

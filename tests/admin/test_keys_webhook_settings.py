"""API keys (shown once, revoked at once), the webhook (address, secret, test event, log)
and the organisation's settings, from the administration pages."""

import hashlib
import hmac
import json
import re

import pytest
from sqlalchemy import select

from portal.events.models import Event, WebhookEndpoint
from portal.events.webhooks import deliver_due
from portal.extensions import db
from portal.organisations.models import ApiKey
from portal.organisations.services import create_api_key
from tests.conftest import Browser
from tests.events.test_webhook_delivery import Receiver
from tests.factories import Api, make_counsellor, make_organisation
from tests.fake_twilio import ServerThread

ADMIN = "/conseiller/administration"
KEY = re.compile(r"spi_[0-9a-f]{12}_[A-Za-z0-9_-]{40,}")
SECRET = re.compile(r'<code dir="ltr">([A-Za-z0-9_-]{40,})</code>')


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": False, "WEBHOOK_ALLOW_INSECURE": True}


@pytest.fixture
def admin(app):
    return make_counsellor(make_organisation("dep-67"), email="admin@example.org", is_admin=True)


@pytest.fixture
def browser(admin, sign_in) -> Browser:
    return Browser(sign_in(admin))


def test_a_key_is_shown_once_works_and_stops_when_revoked(app, browser, client):
    created = browser.submit(f"{ADMIN}/cles-api", {"name": "Logiciel RSA"})
    assert created.status_code == 200
    key = KEY.search(created.get_data(as_text=True)).group(0)
    listing = browser.get(f"{ADMIN}/cles-api").get_data(as_text=True)
    assert key not in listing and "Logiciel RSA" in listing and "Jamais" in listing
    api = Api(client, key)
    assert api.get("/events").status_code == 200
    assert key not in browser.get(f"{ADMIN}/cles-api").get_data(as_text=True)
    assert "Jamais" not in browser.get(f"{ADMIN}/cles-api").get_data(as_text=True)

    api_key = db.session.scalars(select(ApiKey)).one()
    confirm = browser.get(f"{ADMIN}/cles-api/{api_key.id}/revoquer")
    assert "Oui, révoquer la clé" in confirm.get_data(as_text=True)
    revoked = browser.submit(f"{ADMIN}/cles-api/{api_key.id}/revoquer", {})
    assert revoked.status_code == 302
    assert api.get("/events").status_code == 401
    assert "Révoquée le" in browser.get(f"{ADMIN}/cles-api").get_data(as_text=True)


def test_a_key_needs_a_name_and_another_organisations_key_is_404(app, browser, make_tenant):
    unnamed = browser.submit(f"{ADMIN}/cles-api", {"name": "  "})
    assert unnamed.status_code == 422
    assert "Donnez un nom à la clé" in unnamed.get_data(as_text=True)
    other = make_tenant("plie-29")
    other_key = db.session.scalars(
        select(ApiKey).where(ApiKey.organisation_id == other.organisation.id)
    ).one()
    assert browser.get(f"{ADMIN}/cles-api/{other_key.id}/revoquer").status_code == 404
    refused = browser.submit(
        f"{ADMIN}/cles-api/{other_key.id}/revoquer", {}, page=f"{ADMIN}/cles-api"
    )
    assert refused.status_code == 404
    assert other.api.get("/events").status_code == 200


def _signature_ok(received: dict, secret: str) -> bool:
    headers = received["headers"]
    signed = f"{headers['X-Portal-Timestamp']}.".encode() + received["raw"]
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Portal-Signature"])


def test_the_webhook_address_secret_and_test_event(app, browser, admin, client):
    receiver = Receiver()
    with ServerThread(receiver) as server:
        saved = browser.submit(f"{ADMIN}/webhook", {"url": server.url + "/hook"})
        assert saved.status_code == 200
        secret = SECRET.search(saved.get_data(as_text=True)).group(1)
        endpoint = db.session.scalars(select(WebhookEndpoint)).one()
        assert endpoint.secret == secret
        assert secret not in browser.get(f"{ADMIN}/webhook").get_data(as_text=True)

        rotated = browser.submit(f"{ADMIN}/webhook/secret", {}, page=f"{ADMIN}/webhook")
        new_secret = SECRET.search(rotated.get_data(as_text=True)).group(1)
        assert new_secret != secret
        db.session.refresh(endpoint)
        assert endpoint.secret == new_secret

        sent = browser.submit(f"{ADMIN}/webhook/test", {}, page=f"{ADMIN}/webhook")
        assert sent.status_code == 302
        assert deliver_due() == 1
    (received,) = receiver.received
    body = json.loads(received["raw"])
    assert body["type"] == "webhook.test" and body["beneficiary_external_id"] is None
    assert _signature_ok(received, new_secret)
    log = browser.get(f"{ADMIN}/webhook").get_data(as_text=True)
    assert f"#{body['id']} webhook.test" in log and "Reçu" in log
    # The test reaches no feed: it is about nobody.
    assert db.session.get(Event, body["id"]) is not None
    _row, key = create_api_key(admin.organisation)
    db.session.commit()
    assert Api(client, key).events() == []


def test_a_webhook_address_must_be_https_to_a_public_server(app, sign_in, admin):
    app.config["WEBHOOK_ALLOW_INSECURE"] = False
    browser = Browser(sign_in(admin))
    # The last one is public and https, but not printable ASCII: the API's rule, here too.
    for url in (
        "http://example.org/hook",
        "https://127.0.0.1/hook",
        "ftp://example.org/x",
        "https://93.184.216.34/hoök",
    ):
        refused = browser.submit(f"{ADMIN}/webhook", {"url": url})
        page = refused.get_data(as_text=True)
        assert refused.status_code == 422, url
        assert "https://" in page and f'value="{url}"' in page
    assert db.session.scalars(select(WebhookEndpoint)).first() is None
    # No endpoint: its buttons are not shown, and a POST anyway finds nothing.
    assert browser.submit(f"{ADMIN}/webhook/test", {}, page=f"{ADMIN}/webhook").status_code == 404


def test_the_old_delivery_log_page_still_answers(app, browser):
    assert browser.get("/conseiller/webhooks").status_code == 200


SETTINGS = {
    "reminder_hours_before": "24",
    "morning_reminder_hour": "",
    "cancellation_limit_minutes": "60",
    "max_upcoming_appointments": "2",
    "require_two_step": "y",
}


def test_settings_are_saved(app, browser, admin):
    saved = browser.submit(f"{ADMIN}/reglages", SETTINGS)
    assert saved.status_code == 302
    organisation = admin.organisation
    db.session.refresh(organisation)
    assert organisation.reminder_hours_before == 24
    assert organisation.morning_reminder_hour is None
    assert organisation.cancellation_limit_minutes == 60
    assert organisation.max_upcoming_appointments == 2
    assert organisation.require_totp_for_counsellors is True
    page = browser.get(f"{ADMIN}/reglages").get_data(as_text=True)
    assert 'value="24"' in page and 'value="60"' in page


def test_the_purposes_confirmed_at_once_are_ticked_saved_and_unticked(app, browser, admin):
    organisation = admin.organisation
    assert organisation.purposes_confirmed_at_once == []  # today's behaviour: all wait
    page = browser.get(f"{ADMIN}/reglages").get_data(as_text=True)
    assert 'value="orientation"' in page and "checked" not in page.split("Sécurité")[0]
    saved = browser.submit(
        f"{ADMIN}/reglages", {**SETTINGS, "purposes_confirmed_at_once": ["orientation", "other"]}
    )
    assert saved.status_code == 302
    db.session.refresh(organisation)
    assert organisation.purposes_confirmed_at_once == ["orientation", "other"]
    assert organisation.confirms_at_once("orientation")
    assert not organisation.confirms_at_once("follow_up")
    page = browser.get(f"{ADMIN}/reglages").get_data(as_text=True)
    assert re.search(r'checked[^>]*value="orientation"|value="orientation"[^>]*checked', page)
    assert browser.submit(f"{ADMIN}/reglages", SETTINGS).status_code == 302  # none ticked
    db.session.refresh(organisation)
    assert organisation.purposes_confirmed_at_once == []


def test_an_unknown_purpose_is_refused(app, browser, admin):
    refused = browser.submit(
        f"{ADMIN}/reglages", {**SETTINGS, "purposes_confirmed_at_once": ["coffee"]}
    )
    assert refused.status_code == 422
    db.session.refresh(admin.organisation)
    assert admin.organisation.purposes_confirmed_at_once == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reminder_hours_before", "0", "de 1 à 168"),
        ("reminder_hours_before", "169", "de 1 à 168"),
        ("morning_reminder_hour", "7", "de 8 à 19"),
        ("morning_reminder_hour", "20", "de 8 à 19"),
        ("cancellation_limit_minutes", "-5", "de 0 à 10 080"),
        ("cancellation_limit_minutes", "", "de 0 à 10 080"),
        ("cancellation_limit_minutes", "9" * 400, "de 0 à 10 080"),
        ("max_upcoming_appointments", "0", "de 1 à 10"),
        ("max_upcoming_appointments", "11", "de 1 à 10"),
    ],
)
def test_bad_settings_are_refused_with_a_message(app, browser, admin, field, value, message):
    refused = browser.submit(f"{ADMIN}/reglages", {**SETTINGS, field: value})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert message in page and f'id="{field}-error"' in page
    assert f'value="{value}"' in page or value == ""
    db.session.refresh(admin.organisation)
    assert admin.organisation.reminder_hours_before == 48  # unchanged

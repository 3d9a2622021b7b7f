"""No input in an administration form gives a server error; a refused one keeps it."""

import pytest

from portal.admin import services
from portal.extensions import db
from tests.conftest import csrf_token_from
from tests.core.test_bad_input import QUERY_NASTY
from tests.factories import make_counsellor, make_organisation

ADMIN = "/conseiller/administration"
FORMS = {
    f"{ADMIN}/conseillers": {"name": "Nadia Benali", "email": "nadia@example.org", "is_admin": ""},
    f"{ADMIN}/cles-api": {"name": "Logiciel RSA"},
    f"{ADMIN}/webhook": {"url": "https://example.org/hook"},
    f"{ADMIN}/reglages": {
        "reminder_hours_before": "48",
        "morning_reminder_hour": "8",
        "cancellation_limit_minutes": "120",
        "max_upcoming_appointments": "3",
        "require_two_step": "",
        "purposes_confirmed_at_once": "orientation",
    },
}


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": False}


def test_no_input_in_an_administration_form_gives_a_server_error(app, sign_in, client):
    organisation = make_organisation()
    admin = make_counsellor(organisation, is_admin=True)
    colleague = make_counsellor(organisation)
    link = services.issue_password_link(colleague).removeprefix(app.config["PORTAL_BASE_URL"])
    db.session.commit()
    admin_client = sign_in(admin)
    token = csrf_token_from(admin_client.get(f"{ADMIN}/conseillers").get_data(as_text=True))
    anonymous_token = csrf_token_from(client.get(link).get_data(as_text=True))
    forms = [(admin_client, token, url, form) for url, form in FORMS.items()]
    forms.append((admin_client, token, f"{ADMIN}/conseillers/{colleague.id}/role", {"role": "x"}))
    forms.append((client, anonymous_token, link, {"password": "", "confirmation": ""}))
    failed = []
    for who, csrf, url, form in forms:
        for field in form:
            for value in QUERY_NASTY:
                response = who.post(url, data={**form, field: value, "csrf_token": csrf})
                if response.status_code >= 500:
                    failed.append((url, field, value[:20], response.status_code))
                assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    assert failed == []

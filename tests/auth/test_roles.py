"""Who sees what, over every route of the app: no page is left unguarded by mistake."""

import pytest

from portal import create_app
from portal.auth.roles import ADMIN, BENEFICIARY, COUNSELLOR
from tests.conftest import _test_config
from tests.factories import make_beneficiary, make_counsellor


def _routes():
    """(endpoint, method, url, allowed roles) for every route, built on a throwaway app."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    rows = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        assert hasattr(view, "allowed_roles"), (
            f"{rule.endpoint} says neither @public nor @roles_required"
        )
        url = rule.rule
        for argument in rule.arguments:
            url = url.replace(f"<{argument}>", "1").replace(f"<int:{argument}>", "1")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            rows.append((rule.endpoint, method, url, view.allowed_roles))
    return rows


ROUTES = _routes()
# The API answers to keys and the Twilio callbacks to signatures: tests/api and tests/sms.
GUARDED = [row for row in ROUTES if isinstance(row[3], frozenset)]


def test_the_app_has_both_public_and_guarded_routes():
    assert {row[0] for row in ROUTES if row[3] is None} >= {"home.index", "auth.phone"}
    assert {row[0] for row in GUARDED} >= {"home.beneficiary", "counsellor.index"}


@pytest.fixture
def app_config():
    # Role checks come before CSRF checks would matter: test them on their own.
    return {"WTF_CSRF_ENABLED": False}


@pytest.mark.parametrize(("endpoint", "method", "url", "roles"), GUARDED, ids=lambda v: str(v))
def test_nobody_signed_in_is_sent_to_the_right_sign_in_page(client, endpoint, method, url, roles):
    response = client.open(url, method=method)
    assert response.status_code == 302
    expected = "/connexion" if BENEFICIARY in roles else "/conseiller/connexion"
    assert response.headers["Location"].split("?")[0] == expected


@pytest.mark.parametrize(("endpoint", "method", "url", "roles"), GUARDED, ids=lambda v: str(v))
@pytest.mark.parametrize("role", [BENEFICIARY, COUNSELLOR, ADMIN])
def test_each_role_reaches_only_its_own_pages(sign_in, endpoint, method, url, roles, role):
    if role == BENEFICIARY:
        user = make_beneficiary()
    else:
        user = make_counsellor(is_admin=role == ADMIN)
    response = sign_in(user).open(url, method=method)
    if role in roles:
        assert response.status_code not in (401, 403)
        # The guard's redirect always carries ?next=; a page's own redirect does not.
        assert "next=" not in response.headers.get("Location", "")
    else:
        assert response.status_code == 403


def test_the_route_list_is_the_apps_own(fake_twilio):
    app = create_app(_test_config(fake_twilio))
    assert {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"} == {
        row[0] for row in ROUTES
    }


def test_the_account_pages_name_their_roles():
    roles = {row[0]: row[3] for row in ROUTES}
    assert roles["auth.counsellor_code"] is None  # the half-done sign-in checks itself
    for endpoint in ("auth.account", "auth.change_password", "auth.two_step_setup"):
        assert roles[endpoint] == frozenset({COUNSELLOR, ADMIN})
    for endpoint in ("auth.two_step_requirement", "auth.reset_two_step"):
        assert roles[endpoint] == frozenset({ADMIN})


STAFF_ROUTES = [row for row in GUARDED if row[3] & {COUNSELLOR, ADMIN}]


@pytest.mark.parametrize(("endpoint", "method", "url", "roles"), STAFF_ROUTES, ids=lambda v: str(v))
def test_an_admin_who_must_enrol_reaches_only_the_enrolment(sign_in, endpoint, method, url, roles):
    admin = make_counsellor(is_admin=True, two_step=False)
    response = sign_in(admin).open(url, method=method)
    if endpoint in ("auth.two_step_setup", "auth.sign_out"):
        assert response.headers.get("Location") != "/conseiller/compte/double-authentification"
    else:
        assert response.status_code == 302
        assert response.headers["Location"] == "/conseiller/compte/double-authentification"

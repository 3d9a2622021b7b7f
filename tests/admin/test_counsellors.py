"""An organisation's administrators manage its counsellors: create with a one-time link to
choose a password, deactivate (sessions end at once), reactivate, roles, two-step reset."""

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.admin.models import PasswordLink
from portal.auth.services import authenticate_counsellor
from portal.core.clock import utcnow
from portal.core.hashing import token_hash
from portal.core.log_privacy import redact
from portal.extensions import db
from portal.organisations.models import Counsellor, CounsellorRole
from portal.organisations.services import counsellor_by_email
from tests.conftest import Browser
from tests.factories import make_counsellor, make_organisation

PAGE = "/conseiller/administration/conseillers"
GOOD = "marmotte-escalier-violon-7"
LINK = re.compile(r"https://portail\.test/compte/mot-de-passe/([A-Za-z0-9_-]{40,})")


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": False}


@pytest.fixture
def admin(app):
    return make_counsellor(make_organisation("dep-67"), email="admin@example.org", is_admin=True)


@pytest.fixture
def admin_browser(admin, sign_in) -> Browser:
    return Browser(sign_in(admin))


def _create(browser: Browser, **fields):
    data = {"name": "Nadia Benali", "email": "nadia@example.org", **fields}
    return browser.submit(PAGE, data)


def _link_of(response) -> str:
    match = LINK.search(response.get_data(as_text=True))
    assert match, "no set-password link on the page"
    return match.group(0)


def test_a_new_counsellor_gets_a_link_shown_once_that_works_once(app, admin_browser, client):
    response = _create(admin_browser)
    assert response.status_code == 200
    link = _link_of(response)
    token = LINK.search(link).group(1)
    nadia = counsellor_by_email("nadia@example.org")
    assert nadia.organisation_id is not None and nadia.role is CounsellorRole.COUNSELLOR
    # Only its SHA-256 is kept; the account has no password anyone could type.
    stored = db.session.scalars(select(PasswordLink)).one()
    assert stored.token_hash == token_hash(token) and token not in str(vars(stored))
    assert authenticate_counsellor("nadia@example.org", "!no-password-yet") is None
    # Never shown again, on any later page.
    for url in (PAGE, "/conseiller/administration/cles-api", "/conseiller/compte"):
        assert token not in admin_browser.get(url).get_data(as_text=True)
    assert token not in redact(f"GET /compte/mot-de-passe/{token} HTTP/1.1")

    path = link.removeprefix("https://portail.test")
    page = client.get(path)
    assert page.status_code == 200 and "Nadia Benali" in page.get_data(as_text=True)
    weak = Browser(client).submit(path, {"password": "nadia2024", "confirmation": "nadia2024"})
    assert weak.status_code == 422
    assert "au moins 12 caractères" in weak.get_data(as_text=True)
    done = Browser(client).submit(path, {"password": GOOD, "confirmation": GOOD})
    assert done.status_code == 302 and done.headers["Location"] == "/conseiller/connexion"
    assert authenticate_counsellor("nadia@example.org", GOOD) is not None

    again = client.get(path)
    assert again.status_code == 410
    assert "déjà servi" in again.get_data(as_text=True)


def test_a_link_expires_after_72_hours_and_a_new_one_replaces_the_old(app, admin_browser, client):
    first = _link_of(_create(admin_browser)).removeprefix("https://portail.test")
    nadia = counsellor_by_email("nadia@example.org")
    with time_machine.travel(utcnow() + timedelta(hours=73)):
        expired = client.get(first)
        assert expired.status_code == 410 and "expiré" in expired.get_data(as_text=True)
    renewed = admin_browser.submit(f"{PAGE}/{nadia.id}/lien", {}, page=PAGE)
    second = _link_of(renewed).removeprefix("https://portail.test")
    assert "Les liens donnés avant ne marchent plus" in renewed.get_data(as_text=True)
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200
    assert client.get("/compte/mot-de-passe/" + "x" * 43).status_code == 410


def test_a_bad_form_keeps_what_was_typed_and_says_why(app, admin_browser, admin):
    bad = _create(admin_browser, email="pas-une-adresse")
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "pas valide" in page and 'value="Nadia Benali"' in page
    taken = _create(admin_browser, email="ADMIN@example.org ")
    assert taken.status_code == 422
    assert "existe déjà" in taken.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(Counsellor.id))) == 1


def test_a_deactivated_counsellor_is_signed_out_at_once(app, admin, admin_browser, sign_in):
    colleague = make_counsellor(admin.organisation)
    theirs = sign_in(colleague)
    assert theirs.get("/conseiller/").status_code == 200
    response = admin_browser.submit(f"{PAGE}/{colleague.id}/desactiver", {}, page=PAGE)
    assert response.status_code == 302
    assert "Ses sessions sont fermées" in admin_browser.get(PAGE).get_data(as_text=True)
    signed_out = theirs.get("/conseiller/")
    assert signed_out.status_code == 302
    assert signed_out.headers["Location"].startswith("/conseiller/connexion")
    assert authenticate_counsellor(colleague.email, "correct horse battery staple") is None
    admin_browser.submit(f"{PAGE}/{colleague.id}/reactiver", {}, page=PAGE)
    assert authenticate_counsellor(colleague.email, "correct horse battery staple") is not None
    # The old cookie does not come back to life with the account.
    assert theirs.get("/conseiller/").status_code == 302


def test_the_last_admin_stays_and_nobody_deactivates_themself(app, admin, admin_browser):
    own = admin_browser.submit(f"{PAGE}/{admin.id}/desactiver", {}, page=PAGE)
    assert own.status_code == 302
    assert "propre compte" in admin_browser.get(PAGE).get_data(as_text=True)
    demote = admin_browser.submit(f"{PAGE}/{admin.id}/role", {"role": "counsellor"}, page=PAGE)
    assert demote.status_code == 302
    assert "au moins un administrateur" in admin_browser.get(PAGE).get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.role is CounsellorRole.ADMIN and admin.is_enabled

    colleague = make_counsellor(admin.organisation)
    promote = admin_browser.submit(f"{PAGE}/{colleague.id}/role", {"role": "admin"}, page=PAGE)
    assert promote.status_code == 302
    db.session.refresh(colleague)
    assert colleague.role is CounsellorRole.ADMIN
    # Two admins: now the first may step down, and signs in again.
    step_down = admin_browser.submit(f"{PAGE}/{admin.id}/role", {"role": "counsellor"}, page=PAGE)
    assert step_down.headers["Location"] == "/conseiller/connexion"
    db.session.refresh(admin)
    assert admin.role is CounsellorRole.COUNSELLOR
    assert admin_browser.get(PAGE).status_code == 302  # signed out by the change


def test_an_admin_resets_a_colleagues_two_step(app, admin, admin_browser):
    colleague = make_counsellor(admin.organisation, two_step=True)
    listed = admin_browser.get(PAGE).get_data(as_text=True)
    assert f"{PAGE}/{colleague.id}/double-authentification" in listed
    admin_browser.submit(f"{PAGE}/{colleague.id}/double-authentification", {}, page=PAGE)
    db.session.refresh(colleague)
    assert not colleague.has_two_step


def test_another_organisations_accounts_are_404_and_counsellors_403(app, admin, sign_in):
    other = make_counsellor(make_organisation("plie-29"), email="other@example.org")
    browser = Browser(sign_in(admin))
    for action in ("desactiver", "reactiver", "role", "double-authentification", "lien"):
        response = browser.submit(f"{PAGE}/{other.id}/{action}", {"role": "admin"}, page=PAGE)
        assert response.status_code == 404, action
    assert "other@example.org" not in browser.get(PAGE).get_data(as_text=True)
    db.session.refresh(other)
    assert other.is_enabled and other.role is CounsellorRole.COUNSELLOR
    counsellor = sign_in(make_counsellor(admin.organisation))
    for url in (
        PAGE,
        "/conseiller/administration/cles-api",
        "/conseiller/administration/webhook",
        "/conseiller/administration/reglages",
    ):
        assert counsellor.get(url).status_code == 403, url

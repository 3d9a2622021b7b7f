"""Two-step sign-in for counsellors: enrolment, the code step, recovery codes, and the rules
that make it required (administrators always, counsellors when their organisation says so).

Codes are computed here with pyotp from the secret the database holds, as a phone would.
"""

import re
from datetime import UTC, datetime

import pyotp
import pytest
import segno
import time_machine
from sqlalchemy import select

from portal.auth import two_factor
from portal.auth.models import RecoveryCode
from portal.core.hashing import verify_secret
from portal.extensions import db
from tests.conftest import Browser, csrf_token_from
from tests.factories import (
    PASSWORD,
    enrol_two_step,
    make_counsellor,
    make_organisation,
)

SETUP = "/conseiller/compte/double-authentification"
CODE_STEP = "/conseiller/connexion/code"


def code_for(counsellor, offset: int = 0) -> str:
    """The app's code now (offset: steps of 30 s later), from the secret in the database."""
    db.session.refresh(counsellor)
    return pyotp.TOTP(counsellor.totp_secret).at(datetime.now(UTC), counter_offset=offset)


def password_step(browser, counsellor, next_url=None):
    url = "/conseiller/connexion" + (f"?next={next_url}" if next_url else "")
    return browser.submit(url, {"email": counsellor.email, "password": PASSWORD})


def code_step(browser, code):
    return browser.submit(CODE_STEP, {"code": code})


def late_code_step(browser, code):
    """Posts a code when the code page would no longer show its form (and its token)."""
    token = csrf_token_from(browser.get("/conseiller/connexion").get_data(as_text=True))
    return browser.client.post(CODE_STEP, data={"code": code, "csrf_token": token})


@pytest.fixture
def clock():
    """Time stands still unless the test moves it (traveller.shift(seconds))."""
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        yield traveller


# -- Enrolment ----------------------------------------------------------------------------------


def test_enrolment_shows_the_qr_code_as_inline_svg_and_the_secret_in_groups(sign_in):
    counsellor = make_counsellor(email="claire.muller@example.org")
    response = sign_in(counsellor).get(SETUP)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    db.session.refresh(counsellor)
    secret = counsellor.totp_secret
    assert len(secret) == 32 and counsellor.totp_enabled_at is None
    grouped = " ".join(re.findall("....", secret))
    assert f'<code dir="ltr">{grouped}</code>' in page
    # The QR code is the otpauth URI of this secret, drawn in the page: nothing fetched.
    svg = re.search(r"<svg .*?</svg>", page, re.S).group(0)
    uri = pyotp.TOTP(secret).provisioning_uri(name=counsellor.email, issuer_name="Portail SPI")
    expected = segno.make_qr(uri, error="m").svg_inline(scale=5, border=4, light="#fff")
    path = re.compile(r' d="([^"]+)"')
    assert path.findall(svg) == path.findall(expected)
    assert 'role="img"' in svg and "aria-label=" in svg
    # The page's Content-Security-Policy allows no inline style or script.
    assert "style=" not in page and "<style" not in page and "<script>" not in page
    assert "<img" not in page
    # Reloading the page shows the same secret until it is confirmed.
    sign_in(counsellor).get(SETUP)
    db.session.refresh(counsellor)
    assert counsellor.totp_secret == secret


def test_a_first_code_confirms_and_the_recovery_codes_are_shown_once_and_hashed(sign_in):
    counsellor = make_counsellor()
    browser = Browser(sign_in(counsellor))
    browser.get(SETUP)

    wrong = browser.submit(SETUP, {"code": "000000"})
    assert "Ce code n&#39;est pas le bon" in wrong.get_data(as_text=True)
    db.session.refresh(counsellor)
    assert counsellor.totp_enabled_at is None

    response = browser.submit(SETUP, {"code": code_for(counsellor)})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", page)
    assert len(codes) == 10 and len(set(codes)) == 10
    db.session.refresh(counsellor)
    assert counsellor.has_two_step
    rows = db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.counsellor_id == counsellor.id)
    ).all()
    assert len(rows) == 10
    assert all(row.code_hash.startswith("$argon2") and row.used_at is None for row in rows)
    assert not any(code.replace("-", "") in row.code_hash for row in rows for code in codes)
    assert any(verify_secret(row.code_hash, codes[0].replace("-", "")) for row in rows)
    # Never again: neither the codes nor the secret.
    again = browser.get(SETUP)
    assert again.status_code == 302 and again.headers["Location"] == "/conseiller/compte"
    account = browser.get("/conseiller/compte").get_data(as_text=True)
    assert "Il vous reste 10 codes de secours." in account
    assert counsellor.totp_secret not in account
    assert not any(code in account for code in codes)


# -- The second step ----------------------------------------------------------------------------


def test_the_password_alone_does_not_sign_in_an_enrolled_counsellor(browser):
    counsellor = make_counsellor()
    enrol_two_step(counsellor)
    response = password_step(browser, counsellor, next_url="/conseiller/agenda")
    assert response.status_code == 302
    assert response.headers["Location"] == f"{CODE_STEP}?next=/conseiller/agenda"
    for page in ("/conseiller/", "/conseiller/compte", SETUP):
        assert browser.get(page).headers["Location"].startswith("/conseiller/connexion?next=")

    finished = code_step(browser, code_for(counsellor))
    # The form's URL carries next= as the redirect gave it.
    assert finished.status_code == 302
    assert browser.get("/conseiller/").status_code == 200


def test_the_code_step_keeps_next(browser):
    counsellor = make_counsellor()
    enrol_two_step(counsellor)
    password_step(browser, counsellor, next_url="/conseiller/agenda")
    url = f"{CODE_STEP}?next=/conseiller/agenda"
    response = browser.submit(url, {"code": code_for(counsellor)})
    assert response.headers["Location"] == "/conseiller/agenda"


def test_a_code_works_once(browser):
    counsellor = make_counsellor()
    enrol_two_step(counsellor)
    code = code_for(counsellor, offset=1)
    password_step(browser, counsellor)
    assert code_step(browser, code).status_code == 302
    browser.submit("/deconnexion", {}, page="/conseiller/")
    password_step(browser, counsellor)
    replayed = code_step(browser, code)
    assert replayed.status_code == 200
    assert "Ce code n&#39;est pas le bon" in replayed.get_data(as_text=True)
    assert browser.get("/conseiller/").status_code == 302


def test_five_wrong_codes_send_back_to_the_password(browser):
    counsellor = make_counsellor()
    enrol_two_step(counsellor)
    password_step(browser, counsellor)
    right = code_for(counsellor)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    pages = [code_step(browser, wrong) for _n in range(4)]
    assert [page.status_code for page in pages] == [200] * 4
    assert "Il vous reste un essai." in pages[3].get_data(as_text=True)

    fifth = code_step(browser, wrong)
    assert fifth.status_code == 302
    assert fifth.headers["Location"] == "/conseiller/connexion"
    assert "Trop de codes faux" in browser.get("/conseiller/connexion").get_data(as_text=True)
    # The right code is no good now: the half-done sign-in is over.
    after = late_code_step(browser, right)
    assert after.headers["Location"] == "/conseiller/connexion"
    assert browser.get(CODE_STEP).headers["Location"] == "/conseiller/connexion"
    assert browser.get("/conseiller/").status_code == 302

    # The password opens a new second step.
    password_step(browser, counsellor)
    assert code_step(browser, right).status_code == 302
    assert browser.get("/conseiller/").status_code == 200


def test_wrong_codes_count_per_account_across_browsers(client, app):
    counsellor = make_counsellor()
    enrol_two_step(counsellor)
    first, second = Browser(app.test_client()), Browser(app.test_client())
    password_step(first, counsellor)
    password_step(second, counsellor)
    for _n in range(3):
        code_step(first, "999999" if code_for(counsellor) != "999999" else "999998")
    for _n in range(2):
        last = code_step(second, "999999" if code_for(counsellor) != "999999" else "999998")
    assert last.headers["Location"] == "/conseiller/connexion"
    # The first browser's half-done sign-in ended with the fifth wrong code too.
    assert first.get(CODE_STEP).headers["Location"] == "/conseiller/connexion"


def test_a_recovery_code_signs_in_once(browser):
    counsellor = make_counsellor()
    two_factor.pending_secret(counsellor)
    codes = two_factor.confirm_enrolment(counsellor, code_for(counsellor))
    db.session.commit()

    password_step(browser, counsellor)
    used = code_step(browser, codes[3].upper().replace("-", " "))
    assert used.status_code == 302
    page = browser.get("/conseiller/").get_data(as_text=True)
    assert "Il vous en reste 9." in page
    browser.submit("/deconnexion", {}, page="/conseiller/")

    password_step(browser, counsellor)
    again = code_step(browser, codes[3])
    assert again.status_code == 200
    assert "Ce code n&#39;est pas le bon" in again.get_data(as_text=True)
    assert code_step(browser, codes[4]).status_code == 302
    assert two_factor.recovery_codes_left(counsellor) == 8


def test_the_half_done_sign_in_lasts_5_minutes(browser, clock):
    counsellor = make_counsellor()
    enrol_two_step(counsellor)
    password_step(browser, counsellor)
    clock.shift(4 * 60 + 50)
    assert code_step(browser, code_for(counsellor)).status_code == 302
    assert browser.get("/conseiller/").status_code == 200


def test_an_expired_half_done_sign_in_is_worth_nothing(browser, clock):
    counsellor = make_counsellor()
    enrol_two_step(counsellor)
    password_step(browser, counsellor)
    clock.shift(5 * 60 + 1)
    late = late_code_step(browser, code_for(counsellor))
    assert late.headers["Location"] == "/conseiller/connexion"
    assert "reconnectez-vous" in browser.get("/conseiller/connexion").get_data(as_text=True)
    for page in ("/conseiller/", "/conseiller/compte", SETUP, "/conseiller/webhooks"):
        assert browser.get(page).headers["Location"].startswith("/conseiller/connexion?next=")


@pytest.mark.parametrize("app_config", [{"PASSWORD_LIMITS": "3 per 15 minutes"}])
def test_code_tries_are_rate_limited(browser):
    counsellor = make_counsellor()
    enrol_two_step(counsellor)
    password_step(browser, counsellor)
    statuses = [code_step(browser, "12345a").status_code for _n in range(4)]
    assert statuses == [200, 200, 200, 429]


# -- Who must use two steps ---------------------------------------------------------------------


def test_an_admin_without_two_step_enrols_before_anything_else(browser):
    admin = make_counsellor(is_admin=True, two_step=False)
    response = password_step(browser, admin)
    assert response.headers["Location"] == SETUP
    for page in (
        "/conseiller/",
        "/conseiller/webhooks",
        "/conseiller/compte",
        "/conseiller/agenda",
    ):
        assert browser.get(page).headers["Location"] == SETUP
    assert "Votre compte doit utiliser la connexion en deux étapes" in browser.get(SETUP).get_data(
        as_text=True
    )
    # Public pages and the way out stay open.
    assert browser.get("/static/css/portal.css").status_code == 200

    browser.submit(SETUP, {"code": code_for(admin)})
    assert browser.get("/conseiller/webhooks").status_code == 200


def test_an_admin_without_two_step_can_sign_out(browser):
    admin = make_counsellor(is_admin=True, two_step=False)
    password_step(browser, admin)
    response = browser.submit("/deconnexion", {}, page=SETUP)
    assert response.headers["Location"] == "/conseiller/connexion"
    assert browser.get(SETUP).headers["Location"].startswith("/conseiller/connexion?next=")


def test_the_organisation_can_require_two_steps_of_its_counsellors(sign_in):
    organisation = make_organisation()
    admin = make_counsellor(organisation, is_admin=True)
    counsellor = make_counsellor(organisation)
    enrolled = make_counsellor(organisation, two_step=True)
    counsellor_session, enrolled_session = sign_in(counsellor), sign_in(enrolled)
    assert counsellor_session.get("/conseiller/").status_code == 200

    admin_browser = Browser(sign_in(admin))
    response = admin_browser.submit(
        "/conseiller/compte/organisation", {"requirement": "required"}, page="/conseiller/compte"
    )
    assert response.headers["Location"] == "/conseiller/compte"
    db.session.refresh(organisation)
    assert organisation.require_totp_for_counsellors
    # Those not enrolled are signed out; the others keep working.
    assert (
        counsellor_session.get("/conseiller/")
        .headers["Location"]
        .startswith("/conseiller/connexion")
    )
    assert enrolled_session.get("/conseiller/").status_code == 200

    browser = Browser(counsellor_session)
    assert password_step(browser, counsellor).headers["Location"] == SETUP
    assert browser.get("/conseiller/dossiers").headers["Location"] == SETUP

    admin_browser.submit(
        "/conseiller/compte/organisation", {"requirement": "optional"}, page="/conseiller/compte"
    )
    assert browser.get("/conseiller/dossiers").status_code == 200


def test_an_admin_resets_a_colleagues_two_step(sign_in, app):
    organisation = make_organisation()
    admin = make_counsellor(organisation, is_admin=True)
    colleague = make_counsellor(organisation)
    two_factor.pending_secret(colleague)
    two_factor.confirm_enrolment(colleague, code_for(colleague))
    db.session.commit()
    colleague_session = sign_in(colleague)
    assert colleague_session.get("/conseiller/").status_code == 200

    admin_browser = Browser(sign_in(admin))
    account = admin_browser.get("/conseiller/compte").get_data(as_text=True)
    url = f"/conseiller/compte/conseillers/{colleague.id}/double-authentification"
    assert f'action="{url}"' in account
    response = admin_browser.submit(url, {}, page="/conseiller/compte")
    assert response.headers["Location"] == "/conseiller/compte"

    db.session.refresh(colleague)
    assert colleague.totp_secret is None and not colleague.has_two_step
    assert two_factor.recovery_codes_left(colleague) == 0
    assert colleague_session.get("/conseiller/").status_code == 302
    # Back with the password alone (optional for them), or enrol again.
    browser = Browser(app.test_client())
    assert password_step(browser, colleague).headers["Location"] == "/conseiller/"


def test_an_admin_cannot_reset_another_organisations_counsellor_or_their_own(sign_in):
    admin = make_counsellor(is_admin=True)
    stranger = make_counsellor(two_step=True)
    browser = Browser(sign_in(admin))
    for target in (stranger, admin):
        url = f"/conseiller/compte/conseillers/{target.id}/double-authentification"
        assert browser.submit(url, {}, page="/conseiller/compte").status_code == 404
    db.session.refresh(stranger)
    assert stranger.has_two_step


def test_a_reset_admin_must_enrol_again(browser):
    admin = make_counsellor(is_admin=True)
    two_factor.reset_two_factor(admin)
    db.session.commit()
    assert password_step(browser, admin).headers["Location"] == SETUP

"""Sessions the server can end: sign-out, a disabled account, an idle timeout and an
absolute lifetime end them, even for a copy of the cookie; a new network does not."""

import re
from datetime import timedelta

import pytest
import time_machine

from portal.auth import services
from portal.core.clock import utcnow
from portal.extensions import db
from portal.organisations.models import Counsellor
from portal.sms.sender import send_due
from tests.conftest import Browser
from tests.factories import PASSWORD, make_beneficiary, make_counsellor, make_organisation


def _cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def _copy_of(app, client):
    """A second browser holding a copy of `client`'s session cookie, as a thief would."""
    other = app.test_client()
    other.set_cookie("session", _cookie(client))
    return other


def _signed_in_beneficiary(app, browser, fake_twilio):
    organisation = make_organisation()
    person = make_beneficiary(organisation, first_name="Amina")
    services.create_invitation(person, organisation)
    db.session.commit()
    assert send_due() == 1
    path = re.search(r"(/connexion/lien/\S+)", fake_twilio.wait_for(1)[0].body).group(1)
    assert browser.submit(path, {}).status_code == 302
    assert browser.get("/accueil").status_code == 200
    return person


def _signed_in_counsellor(browser, **fields) -> Counsellor:
    counsellor = make_counsellor(make_organisation(), **fields)
    db.session.commit()
    response = browser.submit(
        "/conseiller/connexion", {"email": counsellor.email, "password": PASSWORD}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert browser.get("/conseiller/").status_code == 200
    return counsellor


def test_sign_out_ends_a_copy_of_the_session(working_hours, app, browser, fake_twilio):
    _signed_in_beneficiary(app, browser, fake_twilio)
    thief = _copy_of(app, browser.client)
    assert thief.get("/accueil").status_code == 200  # the copy works while the session lives

    browser.submit("/deconnexion", {}, page="/accueil")

    response = thief.get("/accueil")
    assert response.status_code == 302
    assert "/connexion" in response.headers["Location"]


def test_sign_out_on_one_phone_ends_the_other_sessions_too(working_hours, app, fake_twilio):
    first, second = Browser(app.test_client()), Browser(app.test_client())
    _signed_in_beneficiary(app, first, fake_twilio)
    second.client.set_cookie("session", _cookie(first.client))
    first.submit("/deconnexion", {}, page="/accueil")
    assert second.get("/accueil").status_code == 302


def test_a_disabled_counsellor_is_signed_out_at_once(app, browser):
    counsellor = _signed_in_counsellor(browser)
    counsellor.is_enabled = False
    db.session.commit()
    response = browser.get("/conseiller/")
    assert response.status_code == 302
    assert "/conseiller/connexion" in response.headers["Location"]


def test_ending_an_accounts_sessions_signs_out_every_device(app, browser):
    counsellor = _signed_in_counsellor(browser)
    copy = _copy_of(app, browser.client)
    counsellor.end_sessions()
    db.session.commit()
    assert browser.get("/conseiller/").status_code == 302
    assert copy.get("/conseiller/").status_code == 302


def test_a_new_network_and_browser_version_keep_the_session(app, browser):
    _signed_in_counsellor(browser)
    moved = browser.client.get(
        "/conseiller/",
        environ_base={"REMOTE_ADDR": "10.20.30.40"},
        headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/157"},
    )
    assert moved.status_code == 200


@pytest.mark.parametrize(
    "idle, still_in",
    [(timedelta(minutes=29), True), (timedelta(minutes=31), False)],
    ids=["29 min", "31 min"],
)
def test_a_counsellor_idle_for_30_minutes_signs_in_again(app, browser, idle, still_in):
    _signed_in_counsellor(browser)
    with time_machine.travel(utcnow() + idle, tick=False):
        response = browser.get("/conseiller/")
    assert (response.status_code == 200) is still_in


def test_a_busy_counsellor_still_signs_in_again_after_12_hours(app, browser):
    _signed_in_counsellor(browser)
    start = utcnow()
    for minutes in range(20, 12 * 60, 20):  # busy all day: never idle 30 minutes
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert browser.get("/conseiller/").status_code == 200, minutes
    with time_machine.travel(start + timedelta(hours=12, minutes=10), tick=False):
        response = browser.get("/conseiller/")
        assert response.status_code == 302
        page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "reconnectez-vous" in page


def test_a_beneficiary_stays_signed_in_for_days_but_not_after_a_week_idle(
    working_hours, app, browser, fake_twilio
):
    _signed_in_beneficiary(app, browser, fake_twilio)
    start = utcnow()
    with time_machine.travel(start + timedelta(days=6), tick=False):
        assert browser.get("/accueil").status_code == 200
    with time_machine.travel(start + timedelta(days=13, hours=1), tick=False):
        assert browser.get("/accueil").status_code == 302


def test_the_beneficiaries_idle_timeout_is_a_setting(working_hours, app, browser, fake_twilio):
    app.config["BENEFICIARY_IDLE_MINUTES"] = 5
    _signed_in_beneficiary(app, browser, fake_twilio)
    with time_machine.travel(utcnow() + timedelta(minutes=6), tick=False):
        assert browser.get("/accueil").status_code == 302


def test_a_forged_session_id_without_the_token_signs_nobody_in(app, sign_in):
    counsellor = make_counsellor(make_organisation())
    db.session.commit()
    client = sign_in(counsellor)
    assert client.get("/conseiller/").status_code == 200
    with client.session_transaction() as session:
        session["_user_id"] = f"c:{counsellor.id}"  # the old form, with no token
    assert client.get("/conseiller/").status_code == 302
    with client.session_transaction() as session:
        session["_user_id"] = f"c:{counsellor.id}:{'0' * 32}"
    assert client.get("/conseiller/").status_code == 302

"""Beneficiary sign-in by SMS code: the whole path through the pages."""

import re
from datetime import timedelta

from sqlalchemy import select

from portal.auth.models import SignInCode
from portal.core.clock import utcnow
from portal.events.models import Event
from portal.extensions import db
from portal.sms.models import SmsKind, SmsMessage, SmsStatus
from tests.factories import make_beneficiary


def test_a_known_number_gets_a_code_and_signs_in(browser, request_code, fake_twilio):
    person = make_beneficiary(first_name="Amina", phone="+33612345678")
    code = request_code("06 12 34 56 78")

    sms = fake_twilio.messages[-1]
    assert sms.to == "+33612345678"
    assert sms.sender == "+33757000000"
    assert "RSA" not in sms.body

    response = browser.submit("/connexion/code", {"code": code})
    assert response.status_code == 302
    home = browser.get("/accueil")
    assert home.status_code == 200
    assert "Bonjour Amina" in home.get_data(as_text=True)

    outbox = db.session.scalars(select(SmsMessage)).one()
    assert outbox.kind is SmsKind.SIGN_IN_CODE
    assert outbox.status is SmsStatus.SENT
    assert outbox.provider_id == sms.sid
    assert outbox.segments == 1
    db.session.refresh(person)
    assert person.activated_at is not None


def test_the_code_is_stored_hashed(request_code):
    make_beneficiary(phone="+33612345678")
    code = request_code("0612345678")
    row = db.session.scalars(select(SignInCode)).one()
    assert code not in row.code_hash
    assert row.code_hash.startswith("$argon2")


def test_first_sign_in_records_one_activation_event(browser, request_code):
    person = make_beneficiary(phone="+33612345678")
    for _ in range(2):
        code = request_code("06 12 34 56 78")
        browser.submit("/connexion/code", {"code": code})
        browser.submit("/deconnexion", {}, page="/accueil")
    events = db.session.scalars(select(Event).where(Event.type == "beneficiary.activated")).all()
    assert [event.beneficiary_id for event in events] == [person.id]


def test_an_unknown_number_gets_the_same_answer_and_no_sms(browser, fake_twilio):
    make_beneficiary(phone="+33612345678")
    known = browser.submit("/connexion", {"phone": "06 12 34 56 78"})
    fake_twilio.wait_for(1)
    browser.client.delete_cookie("session")
    unknown = browser.submit("/connexion", {"phone": "06 99 88 77 66"})

    assert (known.status_code, known.headers["Location"]) == (
        unknown.status_code,
        unknown.headers["Location"],
    )
    known_page = browser.get("/connexion/code").get_data(as_text=True)
    assert "06 99 88 77 66" in known_page
    assert [m.to for m in fake_twilio.wait_for(2, timeout=0.5)] == ["+33612345678"]
    assert db.session.scalars(select(SmsMessage.to)).all() == ["+33612345678"]


def test_a_wrong_code_says_so_and_keeps_the_form(browser, request_code):
    make_beneficiary(phone="+33612345678")
    code = request_code("06 12 34 56 78")
    wrong = "000000" if code != "000000" else "111111"
    response = browser.submit("/connexion/code", {"code": wrong})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Ce code n&#39;est pas le bon" in page
    assert f'value="{wrong}"' in page
    assert 'aria-invalid="true"' in page


def test_five_wrong_tries_spend_the_code(browser, request_code):
    make_beneficiary(phone="+33612345678")
    code = request_code("06 12 34 56 78")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        browser.submit("/connexion/code", {"code": wrong})
    response = browser.submit("/connexion/code", {"code": code})
    assert response.status_code == 200
    assert "Demandez un nouveau code" in response.get_data(as_text=True)
    assert browser.get("/accueil").status_code == 302


def test_a_code_expires_after_ten_minutes(browser, request_code):
    make_beneficiary(phone="+33612345678")
    code = request_code("06 12 34 56 78")
    row = db.session.scalars(select(SignInCode)).one()
    assert timedelta(minutes=9) < row.expires_at - utcnow() <= timedelta(minutes=10)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = browser.submit("/connexion/code", {"code": code})
    assert "Demandez un nouveau code" in response.get_data(as_text=True)


def test_a_new_code_replaces_the_previous_one(browser, request_code):
    make_beneficiary(phone="+33612345678")
    first = request_code("06 12 34 56 78")
    second = request_code("06 12 34 56 78")
    if first != second:
        refused = browser.submit("/connexion/code", {"code": first})
        assert refused.status_code == 200
    accepted = browser.submit("/connexion/code", {"code": second})
    assert accepted.status_code == 302


def test_a_shared_number_asks_who_is_signing_in(browser, request_code, fake_twilio):
    first = make_beneficiary(first_name="Amina", phone="+33612345678")
    second = make_beneficiary(first_name="Youssef", phone="+33612345678")
    code = request_code("06 12 34 56 78")
    assert len(fake_twilio.messages) == 1  # one SMS for the household

    response = browser.submit("/connexion/code", {"code": code})
    assert response.headers["Location"].startswith("/connexion/qui")
    page = browser.get("/connexion/qui").get_data(as_text=True)
    assert "Amina" in page and "Youssef" in page

    missing = browser.submit("/connexion/qui", {})
    assert "Choisissez votre prénom" in missing.get_data(as_text=True)
    outsider = make_beneficiary(first_name="Intrus", phone="+33699999999")
    forged = browser.submit("/connexion/qui", {"person": str(outsider.id)})
    assert forged.status_code == 200  # not among the choices: refused, not signed in
    assert browser.get("/accueil").status_code == 302

    chosen = browser.submit("/connexion/qui", {"person": str(second.id)})
    assert chosen.status_code == 302
    assert "Bonjour Youssef" in browser.get("/accueil").get_data(as_text=True)
    db.session.refresh(first)
    assert first.activated_at is None


def test_a_landline_gets_a_clear_message_and_keeps_what_was_typed(browser, fake_twilio):
    response = browser.submit("/connexion", {"phone": "03 88 76 67 67"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "ne semble pas être un portable" in page
    assert 'value="03 88 76 67 67"' in page
    assert fake_twilio.wait_for(1, timeout=0.3) == []


def test_the_code_page_without_a_number_sends_back_to_the_start(client):
    response = client.get("/connexion/code")
    assert response.status_code == 302
    assert response.headers["Location"] == "/connexion"


def test_sign_out_ends_the_session(browser, request_code):
    make_beneficiary(phone="+33612345678")
    browser.submit("/connexion/code", {"code": request_code("06 12 34 56 78")})
    assert browser.get("/accueil").status_code == 200
    response = browser.submit("/deconnexion", {}, page="/accueil")
    assert response.status_code == 302
    assert browser.get("/accueil").status_code == 302


def test_the_session_cookie_is_httponly_and_lax(browser, request_code):
    make_beneficiary(phone="+33612345678")
    response = browser.submit("/connexion/code", {"code": request_code("06 12 34 56 78")})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie  # PORTAL_BASE_URL is https in the tests


def test_the_laptop_default_cookie_is_not_secure(monkeypatch, tmp_path):
    from portal import create_app

    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})
    assert app.config["SESSION_COOKIE_SECURE"] is False
    monkeypatch.setenv("PORTAL_BASE_URL", "https://portail.example")
    monkeypatch.setenv("SECRET_KEY", "k" * 32)  # required with https
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_the_next_page_is_kept_through_sign_in(browser, request_code, fake_twilio):
    make_beneficiary(phone="+33612345678")
    assert browser.get("/accueil").headers["Location"] == "/connexion?next=/accueil"
    browser.submit("/connexion?next=/accueil", {"phone": "0612345678"}, page="/connexion")
    code = re.search(r"\d{6}", fake_twilio.wait_for(1)[0].body).group(0)
    response = browser.submit(
        "/connexion/code?next=/accueil", {"code": code}, page="/connexion/code"
    )
    assert response.headers["Location"] == "/accueil"


def test_the_next_page_is_never_another_site(browser, request_code):
    make_beneficiary(phone="+33612345678")
    code = request_code("0612345678")
    response = browser.submit(
        "/connexion/code?next=//evil.example/", {"code": code}, page="/connexion/code"
    )
    assert response.headers["Location"] == "/"

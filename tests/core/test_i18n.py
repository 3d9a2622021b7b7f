"""French by default, English and Arabic (right to left) too; SMS in the person's language."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from portal.auth import services
from portal.beneficiaries.models import Beneficiary
from portal.extensions import db
from tests.conftest import Browser, csrf_token_from
from tests.factories import beneficiary_body, make_beneficiary

ROOT = Path(__file__).resolve().parents[2]


def _lang_and_dir(html: str) -> tuple[str, str]:
    match = re.search(r'<html lang="(\w+)" dir="(\w+)">', html)
    return match.group(1), match.group(2)


def test_french_is_the_default(client):
    html = client.get("/").get_data(as_text=True)
    assert _lang_and_dir(html) == ("fr", "ltr")
    assert "Se connecter" in html


@pytest.mark.parametrize(
    ("header", "expected"), [("ar,fr;q=0.5", "ar"), ("en-GB", "en"), ("de", "fr")]
)
def test_the_browser_language_is_followed_when_we_ship_it(client, header, expected):
    html = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert _lang_and_dir(html)[0] == expected


def test_the_language_switch_keeps_the_page_and_mirrors_arabic(browser):
    response = browser.submit("/langue", {"language": "ar", "next": "/connexion"})
    assert response.headers["Location"] == "/connexion"
    html = browser.get("/connexion").get_data(as_text=True)
    assert _lang_and_dir(html) == ("ar", "rtl")
    assert "Se connecter" not in html  # translated, not left in French


def test_an_unknown_language_or_an_offsite_next_is_ignored(browser):
    response = browser.submit("/langue", {"language": "xx", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"
    assert _lang_and_dir(browser.get("/").get_data(as_text=True)) == ("fr", "ltr")


def test_a_signed_in_persons_choice_is_saved_on_their_account(sign_in, app):
    person = make_beneficiary(language="fr")
    client = sign_in(person)
    from tests.conftest import Browser

    Browser(client).submit("/langue", {"language": "ar", "next": "/accueil"}, page="/accueil")
    db.session.refresh(person)
    assert person.language == "ar"


def test_the_sign_in_sms_is_in_the_persons_language(app, fake_twilio):
    make_beneficiary(phone="+33612345678", language="ar")
    message = services.request_sign_in_code("+33612345678")
    db.session.commit()
    assert message.language == "ar"
    assert re.search(r"[\u0600-\u06FF]", message.body), message.body
    assert re.search(r"\d{6}", message.body)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_every_message_is_translated(language):
    catalog = read_po((ROOT / f"translations/{language}/LC_MESSAGES/messages.po").open("rb"))
    # A plural entry holds one text per form: each must be there.
    missing = [
        m.id
        for m in catalog
        if m.id and (not all(m.string) if isinstance(m.string, tuple) else not m.string)
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert missing == [] and fuzzy == []


def test_the_catalogs_hold_every_string_of_the_code(tmp_path):
    """A string added to a template or view without `pybabel update` is caught here."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "--ignore-dirs",
            ".*",
            "-o",
            str(pot),
            "--no-location",
            "--omit-header",
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    extracted = {m.id for m in read_po(pot.open("rb")) if m.id}
    catalog = {m.id for m in read_po((ROOT / "translations/fr/LC_MESSAGES/messages.po").open("rb"))}
    assert extracted - catalog == set()


def _sign_in_with_browser(client, fake_twilio, accept_language: str) -> str:
    """Signs in by SMS code from a browser that asks for `accept_language`; the SMS body."""
    headers = {"Accept-Language": accept_language}
    browser = Browser(client)
    browser.submit("/connexion", {"phone": "06 12 34 56 78"}, headers=headers)
    sms = fake_twilio.wait_for(1)[-1].body
    code = re.search(r"\b(\d{6})\b", sms).group(1)
    page = browser.client.get("/connexion/code", headers=headers).get_data(as_text=True)
    browser.client.post(
        "/connexion/code",
        data={"code": code, "csrf_token": csrf_token_from(page)},
        headers=headers,
    )
    return sms


def test_an_arabic_phone_keeps_arabic_after_sign_in_over_the_back_offices_french(
    client, fake_twilio
):
    """The back office's default French says nothing; the phone asking for Arabic does."""
    person = make_beneficiary(phone="+33612345678")  # no language sent: French by default
    sms = _sign_in_with_browser(client, fake_twilio, "ar")
    assert re.search(r"[\u0600-\u06FF]", sms), sms
    home = client.get("/accueil", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert 'dir="rtl"' in home
    db.session.refresh(person)
    assert person.language == "ar"  # so reminders and notices speak Arabic too


def test_a_language_the_back_office_set_is_not_overridden_by_the_browser(client, fake_twilio):
    person = make_beneficiary(phone="+33612345678", language="en")
    sms = _sign_in_with_browser(client, fake_twilio, "ar")
    assert not re.search(r"[\u0600-\u06FF]", sms), sms
    db.session.refresh(person)
    assert person.language == "en"


def test_a_french_browser_leaves_an_arabic_account_in_arabic(client, fake_twilio):
    person = make_beneficiary(phone="+33612345678", language="ar")
    sms = _sign_in_with_browser(client, fake_twilio, "fr-FR,fr;q=0.9")
    assert re.search(r"[\u0600-\u06FF]", sms), sms
    db.session.refresh(person)
    assert (person.language, person.language_source) == ("ar", "backoffice")


def test_the_persons_choice_outlasts_the_back_offices_puts(org_a, client, fake_twilio):
    """Before any choice, the back office's explicit language counts, and a PUT that leaves
    it out means French by default; once the person signed in with Arabic over that
    default, Arabic is theirs whatever later PUTs say."""

    def put(**overrides) -> tuple[str, str]:
        body = beneficiary_body(**overrides)
        if overrides.get("language") is None:
            del body["language"]
        response = org_a.api.put("/beneficiaries/DOS-1", body)
        assert response.status_code in (200, 201), response.get_data(as_text=True)
        person = db.session.scalars(select(Beneficiary)).one()
        db.session.refresh(person)
        return person.language, person.language_source

    assert put() == ("fr", "default")
    assert put(language="en") == ("en", "backoffice")
    assert put() == ("fr", "default")
    _sign_in_with_browser(client, fake_twilio, "ar")
    assert put(language="en") == ("ar", "person")
    assert put() == ("ar", "person")

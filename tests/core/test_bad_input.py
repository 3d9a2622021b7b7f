"""Every form: a missing CSRF token is refused, and no input, however malformed, gives a 500."""

import glob
import os
import re
from datetime import date, timedelta

import pytest
from markupsafe import escape

from portal import create_app
from portal.extensions import db
from portal.offers import services as offers
from portal.offers.forms import OfferSearchForm
from portal.organisations.services import create_api_key
from portal.sms.models import SmsKind, SmsMessage
from tests.conftest import Browser, csrf_token_from
from tests.factories import (
    API,
    Api,
    make_appointment,
    make_beneficiary,
    make_counsellor,
    make_organisation,
    make_slot,
    make_step,
    offer_fields,
)

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


# -- Every URL id and every query parameter, as anyone --------------------------------------
#
# Ids in URLs and query strings reach the database: a number past what an id column holds
# (32-bit integers on PostgreSQL) must be a 404, not a database error; dates, numbers and
# choices in query strings must be ignored or named as a field error.

ROW_IDS = ["0", "-1", str(2**31), str(2**63), str(10**400), "abc", "%00"]
QUERY_NASTY = [
    *NASTY,
    "0",
    "-1",
    "2147483648",
    "9223372036854775808",
    "9" * 400,
    "1e400",
    "nan",
    "9999-12-31",
    "0001-01-01",
    "2024-02-30",
    "²",
]
CASELOAD_PARAMETERS = ["q", "qui", "referent", "risque", "activite", "du", "au", "tri", "page"]
# What each page reads from its query string (tested below against the sources).
QUERY_PARAMETERS = {
    "appointments.choose": ["deplacer", "jour", "mode"],
    "appointments.confirm": ["deplacer"],
    "appointments.detail": ["fait"],
    "counsellor.agenda": ["semaine", "qui"],
    "counsellor.slots": ["depuis"],
    "counsellor.index": ["qui", "voir"],
    "counsellor.caseload": CASELOAD_PARAMETERS,
    "counsellor.caseload_export": CASELOAD_PARAMETERS,
    "offers.index": ["q", "type", "lieu", "distance", "debut", "page"],
    "offers.detail": ["lieu"],
    "auth.phone": ["next"],
    "auth.code": ["next"],
    "auth.choose": ["next"],
    "auth.counsellor_sign_in": ["next"],
    "api.list_appointments": ["status", "from", "to", "after", "limit"],
    "api.list_events": ["after", "limit"],
    "api.delete_slot": ["cancel_booking"],
    "admin.audit_trail": ["conseiller", "personne", "page"],
}
ALL_PARAMETERS = sorted({name for names in QUERY_PARAMETERS.values() for name in names})
IDENTITIES = ["anonymous", "beneficiary", "counsellor"]


def _rules():
    """(endpoint, rule, methods) of every route but the static files, on a throwaway app."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    return sorted(
        (rule.endpoint, rule.rule, tuple(sorted(rule.methods - {"HEAD", "OPTIONS"})))
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
    )


RULES = _rules()
RULES_WITH_IDS = [row for row in RULES if "<" in row[1]]
GET_RULES = [row for row in RULES if "GET" in row[2]]


@pytest.fixture
def world(sign_in, client, working_hours):
    """One organisation with a bit of everything, and a client per identity with its token."""
    organisation = make_organisation()
    counsellor = make_counsellor(organisation)
    # The API's ids too: a booked slot that ?cancel_booking= would need to withdraw.
    person = make_beneficiary(organisation, external_id="X-1")
    free = make_slot(counsellor, starts_in=timedelta(days=3))
    appointment = make_appointment(make_slot(counsellor, external_id="X-1"), person)
    step = make_step(person, organisation, external_id="S-1")
    offer = offers.enter_offer(counsellor, offer_fields())
    interest = offers.express_interest(person, offer, "Bonjour").interest
    db.session.add(
        SmsMessage(
            beneficiary_id=person.id,
            organisation_id=organisation.id,
            to=person.phone,
            body="Rappel",
            kind=SmsKind.REMINDER_48H,
        )
    )
    api_key, key = create_api_key(organisation, "back office")
    db.session.commit()
    clients = {
        "anonymous": client,
        "beneficiary": sign_in(person),
        "counsellor": sign_in(counsellor),
    }
    token_pages = {
        "anonymous": "/connexion",
        "beneficiary": "/parametres",
        "counsellor": "/conseiller/creneaux",
    }
    tokens = {
        who: csrf_token_from(clients[who].get(page).get_data(as_text=True))
        for who, page in token_pages.items()
    }
    ids = {
        "appointment_id": appointment.id,
        "slot_id": free.id,
        "offer_id": offer.id,
        "interest_id": interest.id,
        "beneficiary_id": person.id,
        "step_id": step.id,
        "token": "not-a-token",
        "external_id": "X-1",
        "step_external_id": "S-1",
        "name": "cohorts",  # an indicators table
        "counsellor_id": counsellor.id,
        "handover_id": 1,  # none here: a hand-over needs two organisations
        "key_id": api_key.id,
        "waitlist_offer_id": 1,  # none here: an offer needs a freed slot
    }
    return {
        "clients": clients,
        "tokens": tokens,
        "ids": ids,
        "api": Api(client, key),
    }


def _fill(rule: str, ids: dict, value: str | None = None) -> str:
    """The rule with each argument replaced by `value`, or by the world's real id."""
    return re.sub(
        r"<(?:\w+:)?(\w+)>", lambda m: value if value is not None else str(ids[m.group(1)]), rule
    )


def _ask(world, who: str, method: str, url: str, query=None):
    """A request as `who`; a POST carries that session's CSRF token; the API gets the key
    unless nobody is signed in."""
    if url.startswith("/api/"):
        api = world["api"] if who != "anonymous" else Api(world["clients"]["anonymous"], None)
        return api.open(method, url.removeprefix(API), query_string=query, json={})
    client = world["clients"][who]
    data = {"csrf_token": world["tokens"][who]} if method == "POST" else None
    response = client.open(url, method=method, query_string=query, data=data)
    response.close()
    return response


def _server_errors(world, requests) -> list:
    """The (status, who, method, url, query) of each request answered with a 5xx."""
    failed = []
    for who, method, url, query in requests:
        status = _ask(world, who, method, url, query).status_code
        if status >= 500:
            failed.append((status, who, method, url[:80], query))
    return failed


@pytest.mark.parametrize(("endpoint", "rule", "methods"), RULES_WITH_IDS, ids=lambda v: str(v))
def test_no_url_id_gives_a_server_error(world, endpoint, rule, methods):
    requests = [
        (who, method, _fill(rule, world["ids"], value), None)
        for value in ROW_IDS
        for method in methods
        for who in IDENTITIES
    ]
    assert _server_errors(world, requests) == []


@pytest.mark.parametrize("value", [str(2**31), str(2**63), str(10**400)])
def test_an_id_past_the_id_columns_is_a_404_for_everyone(world, value):
    for _endpoint, rule, methods in RULES_WITH_IDS:
        if "<int:" not in rule:
            continue
        for method in methods:
            for who in IDENTITIES:
                url = _fill(rule, world["ids"], value)
                assert _ask(world, who, method, url).status_code == 404, (who, method, rule)


def test_every_page_says_what_it_reads_from_its_query_string():
    """The parameters below are those the sources read: a new one joins the walk."""
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    read = set()
    for folder in ("portal", "templates"):
        for path in glob.glob(os.path.join(root, folder, "**", "*.*"), recursive=True):
            with open(path, encoding="utf-8", errors="ignore") as source:
                text = source.read()
            read |= set(re.findall(r"request\.args\.get\(\s*['\"](\w+)['\"]", text))
            read |= set(re.findall(r"\b(?:_arg|query_id)\(\s*['\"](\w+)['\"]", text))
    read |= {name for name, value in vars(OfferSearchForm).items() if hasattr(value, "field_class")}
    assert read <= set(ALL_PARAMETERS)
    assert set(QUERY_PARAMETERS) <= {row[0] for row in RULES}


@pytest.mark.parametrize(("endpoint", "names"), QUERY_PARAMETERS.items(), ids=str)
def test_no_query_parameter_gives_a_server_error(world, endpoint, names):
    ((rule, methods),) = {(row[1], row[2]) for row in RULES if row[0] == endpoint}
    url = _fill(rule, world["ids"])
    requests = [
        (who, method, url, {name: value})
        for name in names
        for value in [*QUERY_NASTY, [" ", "", "x"]]
        for who in IDENTITIES
        for method in methods
    ]
    assert _server_errors(world, requests) == []


@pytest.mark.parametrize(("endpoint", "rule", "methods"), GET_RULES, ids=lambda v: str(v))
def test_no_page_fails_on_every_parameter_at_once(world, endpoint, rule, methods):
    url = _fill(rule, world["ids"])
    requests = [
        (who, "GET", url, dict.fromkeys(ALL_PARAMETERS, value))
        for value in ["", " ", "0", "-1", "2147483648", "9" * 400, "9999-12-31", "abc"]
        for who in IDENTITIES
    ]
    assert _server_errors(world, requests) == []


# -- The counsellors' forms -------------------------------------------------------------------

SLOT_FORM = {
    "first_day": "",  # the next working day, filled in by the test
    "time": "10:00",
    "duration_minutes": "30",
    "mode": "in_person",
    "location": "1 place du Quartier Blanc, 67000 Strasbourg",
    "purpose": "follow_up",
    "repeat_until": "",
    "capacity": "12",
    "title": "Réunion d'information : vos droits et devoirs",
}
OFFER_FORM = {
    "kind": "immersion",
    "title": "Immersion en boulangerie",
    "provider_name": "Boulangerie Kieffer",
    "description": "Deux semaines pour découvrir le métier.",
    "address": "3 rue des Orfèvres",
    "postal_code": "67000",
    "city": "Strasbourg",
    "remote": "",
    "starts_on": "",
    "ends_on": "",
    "hours_per_week": "35",
    "seats": "2",
    "url": "",
    "expires_on": "",
}
STAFF_FORMS = [("/conseiller/creneaux", SLOT_FORM), ("/conseiller/offres/nouvelle", OFFER_FORM)]
NUMBERS = {"duration_minutes", "seats", "hours_per_week", "capacity"}


@pytest.mark.parametrize(
    ("url", "field"),
    [(url, field) for url, form in STAFF_FORMS for field in form],
    ids=lambda v: str(v),
)
def test_no_input_in_a_counsellors_form_gives_a_server_error(sign_in, working_hours, url, field):
    form = dict(dict(STAFF_FORMS)[url])
    if "first_day" in form:
        form["first_day"] = (date.today() + timedelta(days=7)).isoformat()
    browser = Browser(sign_in(make_counsellor()))
    failed = []
    for value in [*QUERY_NASTY, "sNaN", "Infinity", "-1e400"]:
        response = browser.submit(url, {**form, field: value})
        if response.status_code >= 500:
            failed.append((value[:20], response.status_code))
        elif field in NUMBERS and response.status_code in (200, 422) and value == "9" * 400:
            # Named as a field error next to the field, and what was typed stays.
            page = response.get_data(as_text=True)
            assert f'id="{field}-error"' in page and f'value="{value}"' in page
    assert failed == []

"""Every file opened, caseload search and export is written down: who, when, what, from
where; never the terms typed. The organisation's administrators read it."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event, select

from portal.audit import services as audit
from portal.audit.models import AuditEntry
from portal.extensions import db
from tests.core.test_bad_input import QUERY_NASTY
from tests.factories import make_beneficiary, make_counsellor, make_organisation

JOURNAL = "/conseiller/administration/journal"
ADDRESS = "198.51.100.23"


@pytest.fixture
def organisation(app):
    return make_organisation()


@pytest.fixture
def counsellor(organisation):
    return make_counsellor(organisation, email="lea.martin@example.org")


@pytest.fixture
def admin(organisation):
    return make_counsellor(organisation, email="admin@example.org", is_admin=True)


@pytest.fixture
def person(organisation):
    return make_beneficiary(organisation, phone="+33612345678", last_name="Keller")


def _from(client):
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    return client


def _entries() -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_opening_a_file_writes_who_when_what_and_from_where(counsellor, person, sign_in):
    # Close to the real clock: the session signed in now must still be alive.
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    client = _from(sign_in(counsellor))
    with time_machine.travel(moment, tick=False):
        response = client.get(f"/conseiller/personnes/{person.id}")
    assert response.status_code == 200
    [entry] = _entries()
    assert (
        entry.counsellor_id,
        entry.organisation_id,
        entry.action,
        entry.beneficiary_id,
        entry.ip_address,
        entry.at,
    ) == (counsellor.id, counsellor.organisation_id, "person.viewed", person.id, ADDRESS, moment)


def test_the_file_page_writes_one_insert_and_nothing_else(counsellor, person, sign_in):
    client = sign_in(counsellor)
    client.get(f"/conseiller/personnes/{person.id}")  # warm: the session's own writes
    writes: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement.split("(")[0].strip())

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        client.get(f"/conseiller/personnes/{person.id}")
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert writes == ["INSERT INTO audit_entry"]


def test_a_file_of_another_organisation_writes_nothing(person, sign_in):
    stranger = make_counsellor(make_organisation())
    assert sign_in(stranger).get(f"/conseiller/personnes/{person.id}").status_code == 404
    assert _entries() == []


def test_a_phone_search_keeps_its_kind_never_the_number(counsellor, person, sign_in):
    client = _from(sign_in(counsellor))
    for terms in ("06 12 34 56 78", "keller", "123456789012", "1234567A", ""):
        assert client.get("/conseiller/dossiers", query_string={"q": terms}).status_code == 200
    assert (
        client.get("/conseiller/dossiers.csv", query_string={"q": "0612345678"}).status_code == 200
    )
    entries = _entries()
    assert [(entry.action, entry.detail) for entry in entries] == [
        ("caseload.searched", "telephone"),
        ("caseload.searched", "nom"),
        ("caseload.searched", "numero"),
        ("caseload.searched", "numero"),  # a France Travail id has letters too
        ("caseload.searched", None),
        ("caseload.exported", "telephone"),
    ]
    for entry in entries:
        stored = " ".join(str(value) for value in vars(entry).values())
        assert "612345678" not in re.sub(r"\D", "", stored.replace(ADDRESS, ""))
        assert "keller" not in stored.lower()
        assert entry.beneficiary_id is None and entry.ip_address == ADDRESS


def test_an_indicators_export_is_written(counsellor, sign_in):
    client = sign_in(counsellor)
    assert client.get("/conseiller/indicateurs/sms.csv").status_code == 200
    assert client.get("/conseiller/indicateurs/nothing.csv").status_code == 404
    assert [(entry.action, entry.detail) for entry in _entries()] == [
        ("indicators.exported", "sms")
    ]


def test_organisations_that_opened_a_file_say_which_and_when_not_who(
    organisation, counsellor, person, sign_in
):
    other = make_organisation()
    other.name = "PLIE de Strasbourg"
    from portal.beneficiaries.models import FollowUp

    db.session.add(FollowUp(organisation=other, beneficiary=person, external_id="P-1"))
    db.session.commit()
    now = datetime.now(UTC).replace(microsecond=0)
    first, later = now + timedelta(minutes=1), now + timedelta(minutes=9)
    with time_machine.travel(first, tick=False):
        sign_in(counsellor).get(f"/conseiller/personnes/{person.id}")
        sign_in(make_counsellor(other)).get(f"/conseiller/personnes/{person.id}")
    with time_machine.travel(later, tick=False):
        sign_in(counsellor).get(f"/conseiller/personnes/{person.id}")
        sign_in(counsellor).get("/conseiller/dossiers", query_string={"q": "keller"})
    assert audit.organisations_that_opened(person) == [
        audit.OpenedBy(organisation.name, later),
        audit.OpenedBy("PLIE de Strasbourg", first),
    ]
    assert audit.organisations_that_opened(make_beneficiary(organisation)) == []


def test_the_admins_read_the_trail_by_counsellor_and_by_person(
    organisation, admin, counsellor, person, sign_in
):
    other_person = make_beneficiary(organisation, last_name="Zimmer")
    reader = _from(sign_in(counsellor))
    reader.get(f"/conseiller/personnes/{person.id}")
    reader.get(f"/conseiller/personnes/{other_person.id}")
    _from(sign_in(admin)).get(f"/conseiller/personnes/{other_person.id}")
    # Another organisation's trail never shows.
    stranger = make_counsellor(make_organisation())
    audit.record(stranger, audit.CASELOAD_SEARCHED, "192.0.2.1", detail="nom")
    db.session.commit()

    page = sign_in(admin).get(JOURNAL)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "3 consultations" in html and ADDRESS in html and "192.0.2.1" not in html
    assert "Keller" in html and "Zimmer" in html

    by_counsellor = sign_in(admin).get(JOURNAL, query_string={"conseiller": counsellor.id})
    assert "2 consultations" in by_counsellor.get_data(as_text=True)
    by_person = sign_in(admin).get(JOURNAL, query_string={"personne": other_person.id})
    html = by_person.get_data(as_text=True)
    assert "2 consultations" in html and "Keller" not in html.split("<table")[1]
    both = sign_in(admin).get(
        JOURNAL, query_string={"personne": other_person.id, "conseiller": admin.id}
    )
    assert "1 consultation<" in both.get_data(as_text=True)


def test_the_trail_is_paginated_newest_first(organisation, admin, counsellor, person, sign_in):
    start = datetime(2027, 1, 4, 8, tzinfo=UTC)
    for minute in range(audit.PAGE_SIZE + 1):
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            audit.record(counsellor, audit.PERSON_VIEWED, ADDRESS, person_id=person.id)
            db.session.flush()
    db.session.commit()
    client = sign_in(admin)
    first = client.get(JOURNAL).get_data(as_text=True)
    assert "Page 1 sur 2" in first and 'rel="next"' in first
    last = client.get(JOURNAL, query_string={"page": 2}).get_data(as_text=True)
    assert last.count("<tr>") == 1 + 1  # the heading and the oldest entry
    assert "Page 2 sur 2" in client.get(JOURNAL, query_string={"page": 99}).get_data(as_text=True)


def test_the_trail_is_for_admins_only(counsellor, sign_in):
    assert sign_in(counsellor).get(JOURNAL).status_code == 403


def test_an_erased_person_leaves_the_entry_without_them(organisation, counsellor, person, sign_in):
    from portal.erasure.services import erase

    sign_in(counsellor).get(f"/conseiller/personnes/{person.id}")
    erase(person)
    db.session.commit()
    [entry] = _entries()
    assert (entry.action, entry.beneficiary_id) == ("person.viewed", None)


def test_another_organisations_person_or_counsellor_is_a_404(admin, person, sign_in):
    other = make_organisation()
    outsider = make_beneficiary(other)
    client = sign_in(admin)
    assert client.get(JOURNAL, query_string={"personne": outsider.id}).status_code == 404
    assert client.get(JOURNAL, query_string={"personne": 2**31}).status_code == 404
    assert (
        client.get(JOURNAL, query_string={"conseiller": make_counsellor(other).id}).status_code
        == 404
    )
    assert client.get(JOURNAL, query_string={"personne": person.id}).status_code == 200


@pytest.mark.parametrize("value", QUERY_NASTY)
def test_no_filter_value_gives_a_server_error(admin, person, sign_in, value):
    client = sign_in(admin)
    for name in ("conseiller", "personne", "page"):
        response = client.get(JOURNAL, query_string={name: value})
        assert response.status_code in (200, 400, 404), (name, value)
    everything = {"conseiller": value, "personne": value, "page": value}
    assert client.get(JOURNAL, query_string=everything).status_code in (200, 400, 404)

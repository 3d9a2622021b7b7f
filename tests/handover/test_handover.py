"""Contract v1.1, "Hand-over between organisations": propose, accept, refuse, withdraw;
only organisations following the person take part; events, SMS and `lead_organisation`."""

import re
import threading

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.handover import services
from portal.handover.models import Handover, HandoverStatus
from portal.sms.models import SmsKind, SmsMessage
from tests.conftest import Browser
from tests.factories import beneficiary_body, person_of, put_beneficiary

CAF = {"caf_number": "7654321", "birth_date": "1988-03-02"}
EVENTS = ("followup.handover_proposed", "followup.handover_accepted", "followup.handover_refused")


@pytest.fixture
def trio(org_a, org_b, make_tenant, working_hours):
    """One person followed by A, B and C (linked on CAF number), speaking Arabic; B has a
    référent with a phone; D follows someone else only."""
    org_c = make_tenant("ccas-13", "13")
    org_d = make_tenant("mission-locale", "67")
    put_beneficiary(org_a, "A-1", language="ar", **CAF)
    put_beneficiary(
        org_b,
        "B-1",
        language="ar",
        referent={"name": "Paul Martin", "email": "paul@example.org", "phone": "+33388001122"},
        **CAF,
    )
    put_beneficiary(org_c, "C-1", language="ar", **CAF)
    put_beneficiary(org_d, "D-1")
    person = person_of(org_a, "A-1")
    org_b.organisation.name = "PLIE de Brest"
    db.session.commit()
    return {"a": org_a, "b": org_b, "c": org_c, "d": org_d, "person": person}


def _propose(sign_in, tenant, person, to, reason="Entre en formation au PLIE"):
    browser = Browser(sign_in(tenant.counsellor))
    return browser.submit(
        f"/conseiller/personnes/{person.id}/relais",
        {"organisation": str(to.organisation.id), "reason": reason},
    )


def _handover_events(tenant):
    return [e for e in tenant.api.events() if e["type"] in EVENTS]


def test_accepting_makes_the_organisation_lead_tells_everyone_and_the_person(trio, sign_in):
    a, b, c, person = trio["a"], trio["b"], trio["c"], trio["person"]
    for tenant, external_id in ((a, "A-1"), (b, "B-1")):
        assert (
            tenant.api.get(f"/beneficiaries/{external_id}").get_json()["lead_organisation"] is None
        )

    response = _propose(sign_in, a, person, b)
    assert response.status_code == 302
    handover = db.session.scalars(select(Handover)).one()
    assert handover.status is HandoverStatus.PROPOSED
    # B sees it to answer, with its count for the to-do list; A sees it as sent.
    assert len(services.handovers_to_answer(b.counsellor)) == 1
    assert services.handovers_to_answer(b.counsellor) == [handover]
    assert len(services.handovers_to_answer(a.counsellor)) == 0
    assert "En attente" in sign_in(a.counsellor).get("/conseiller/relais").get_data(as_text=True)

    b_browser = Browser(sign_in(b.counsellor))
    page = b_browser.get("/conseiller/relais").get_data(as_text=True)
    assert "Entre en formation au PLIE" in page and "Diallo" in page
    response = b_browser.submit(
        f"/conseiller/relais/{handover.id}/accepter", {}, page="/conseiller/relais"
    )
    assert response.status_code == 302
    db.session.refresh(handover)
    assert handover.status is HandoverStatus.ACCEPTED
    assert handover.answered_by_id == b.counsellor.id

    # Every organisation following the person hears each step, under its own id.
    expected = [
        (
            "followup.handover_proposed",
            {"from": a.slug, "to": b.slug, "reason": "Entre en formation au PLIE"},
        ),
        (
            "followup.handover_accepted",
            {"from": a.slug, "to": b.slug, "reason": "Entre en formation au PLIE"},
        ),
    ]
    for tenant, external_id in ((a, "A-1"), (b, "B-1"), (c, "C-1")):
        events = _handover_events(tenant)
        assert [(e["type"], e["data"]) for e in events] == expected, tenant.slug
        assert {e["beneficiary_external_id"] for e in events} == {external_id}
    assert _handover_events(trio["d"]) == []

    for tenant, external_id in ((a, "A-1"), (b, "B-1"), (c, "C-1")):
        body = tenant.api.get(f"/beneficiaries/{external_id}").get_json()
        assert body["lead_organisation"] == b.slug
    put = a.api.put("/beneficiaries/A-1", beneficiary_body(language="ar", **CAF))
    assert put.status_code == 200 and put.get_json()["lead_organisation"] == b.slug

    (sms,) = db.session.scalars(select(SmsMessage).where(SmsMessage.kind == SmsKind.LEAD_CHANGED))
    assert sms.language == "ar" and sms.beneficiary_id == person.id
    assert "PLIE de Brest" in sms.body and "Paul Martin" in sms.body
    assert "03 88 00 11 22" in sms.body
    assert not re.search("vous accompagne", sms.body)  # Arabic, not French

    home = sign_in(person).get("/accueil").get_data(as_text=True)
    assert "PLIE de Brest" in home and 'id="lead"' in home


def test_a_refusal_needs_a_reason_and_keeps_the_lead_unchanged(trio, sign_in):
    a, b, person = trio["a"], trio["b"], trio["person"]
    _propose(sign_in, a, person, b)
    handover = db.session.scalars(select(Handover)).one()
    browser = Browser(sign_in(b.counsellor))
    url = f"/conseiller/relais/{handover.id}/refuser"
    response = browser.submit(url, {"reason": "   "}, page="/conseiller/relais")
    assert response.status_code == 422
    assert "Écrivez le motif du refus" in response.get_data(as_text=True)
    response = browser.submit(url, {"reason": "x" * 501}, page="/conseiller/relais")
    assert response.status_code == 422
    assert "x" * 501 in response.get_data(as_text=True)  # what was typed stays
    response = browser.submit(url, {"reason": "Pas de place avant mars"}, page="/conseiller/relais")
    assert response.status_code == 302
    db.session.refresh(handover)
    assert handover.status is HandoverStatus.REFUSED
    assert handover.answer_reason == "Pas de place avant mars"
    (event,) = [e for e in _handover_events(a) if e["type"] == "followup.handover_refused"]
    assert event["data"] == {"from": a.slug, "to": b.slug, "reason": "Pas de place avant mars"}
    db.session.refresh(person)
    assert person.lead_organisation_id is None
    assert (
        db.session.scalars(select(SmsMessage).where(SmsMessage.kind == SmsKind.LEAD_CHANGED)).all()
        == []
    )
    # Answered: a second answer changes nothing.
    again = browser.submit(
        f"/conseiller/relais/{handover.id}/accepter", {}, page="/conseiller/relais"
    )
    assert again.status_code == 302
    db.session.refresh(handover)
    assert handover.status is HandoverStatus.REFUSED


def test_one_open_proposal_at_a_time_and_the_proposer_may_withdraw_it(trio, sign_in):
    a, b, c, person = trio["a"], trio["b"], trio["c"], trio["person"]
    _propose(sign_in, a, person, b)
    # C may not open a second proposal while the first waits.
    page = sign_in(c.counsellor).get(f"/conseiller/personnes/{person.id}/relais")
    assert "attend déjà une réponse" in page.get_data(as_text=True)
    refused = _propose(sign_in, c, person, b, reason="Déménage à Brest")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Une proposition de relais attend déjà une réponse pour cette personne." in html
    with pytest.raises(services.HandoverError):
        services.propose(c.counsellor, person, a.organisation.id, "Autre motif")
    db.session.rollback()
    handover = db.session.scalars(select(Handover)).one()
    # Only the proposing organisation withdraws; the other one's attempt is a 404.
    other = Browser(sign_in(b.counsellor))
    assert (
        other.submit(
            f"/conseiller/relais/{handover.id}/retirer", {}, page="/conseiller/relais"
        ).status_code
        == 404
    )
    mine = Browser(sign_in(a.counsellor))
    assert (
        mine.submit(
            f"/conseiller/relais/{handover.id}/retirer", {}, page="/conseiller/relais"
        ).status_code
        == 302
    )
    db.session.refresh(handover)
    assert handover.status is HandoverStatus.WITHDRAWN
    assert len(services.handovers_to_answer(b.counsellor)) == 0
    assert _propose(sign_in, c, person, a).status_code == 302


def test_only_organisations_following_the_person_take_part(trio, sign_in):
    a, b, d, person = trio["a"], trio["b"], trio["d"], trio["person"]
    # D does not follow the person: it cannot be chosen, nor can A pick itself.
    for chosen in (d, a):
        response = _propose(sign_in, a, person, chosen)
        assert response.status_code == 422
        assert "Choisissez une organisation de la liste" in response.get_data(as_text=True)
    page = (
        sign_in(a.counsellor)
        .get(f"/conseiller/personnes/{person.id}/relais")
        .get_data(as_text=True)
    )
    assert b.organisation.name in page and trio["c"].slug not in page
    assert f'value="{d.organisation.id}"' not in page
    _propose(sign_in, a, person, b)
    handover = db.session.scalars(select(Handover)).one()
    # D's counsellor: 404 everywhere, and nothing listed.
    outsider = Browser(sign_in(d.counsellor))
    assert outsider.get(f"/conseiller/personnes/{person.id}/relais").status_code == 404
    for action in ("accepter", "refuser", "retirer"):
        url = f"/conseiller/relais/{handover.id}/{action}"
        response = outsider.submit(url, {"reason": "x"}, page="/conseiller/relais")
        assert response.status_code == 404, action
    listed = outsider.get("/conseiller/relais")
    assert listed.status_code == 200 and "Diallo" not in listed.get_data(as_text=True)
    assert len(services.handovers_to_answer(d.counsellor)) == 0
    # A (the proposer) may not answer its own proposal.
    assert (
        Browser(sign_in(a.counsellor))
        .submit(f"/conseiller/relais/{handover.id}/accepter", {}, page="/conseiller/relais")
        .status_code
        == 404
    )


def test_no_sms_for_a_person_who_opted_out(trio, sign_in):
    a, b, person = trio["a"], trio["b"], trio["person"]
    person.sms_opted_out = True
    db.session.commit()
    _propose(sign_in, a, person, b)
    handover = db.session.scalars(select(Handover)).one()
    services.accept(b.counsellor, handover)
    db.session.commit()
    assert person.lead_organisation_id == b.organisation.id
    assert (
        db.session.scalars(select(SmsMessage).where(SmsMessage.kind == SmsKind.LEAD_CHANGED)).all()
        == []
    )


def test_the_lead_that_stops_following_leaves_no_lead(trio, sign_in):
    a, b, c, person = trio["a"], trio["b"], trio["c"], trio["person"]
    _propose(sign_in, a, person, b)
    services.accept(b.counsellor, db.session.scalars(select(Handover)).one())
    db.session.commit()
    _propose(sign_in, c, person, a)  # then C proposes A; B leaves meanwhile
    assert b.api.delete("/beneficiaries/B-1").status_code == 204
    db.session.refresh(person)
    assert person.lead_organisation_id is None
    assert a.api.get("/beneficiaries/A-1").get_json()["lead_organisation"] is None
    # A's open proposal is untouched (B was not part of it); if A leaves, it lapses.
    assert len(services.handovers_to_answer(a.counsellor)) == 1
    assert a.api.delete("/beneficiaries/A-1").status_code == 204
    statuses = {h.status for h in db.session.scalars(select(Handover))}
    assert statuses == {HandoverStatus.ACCEPTED, HandoverStatus.WITHDRAWN}
    # The last one leaving erases the person, hand-overs included.
    assert c.api.delete("/beneficiaries/C-1").status_code == 204
    assert db.session.scalars(select(Handover)).all() == []


def test_the_openapi_document_names_the_lead_organisation(client):
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    out = schema["BeneficiaryOut"]
    assert "lead_organisation" in out["required"]
    assert {t.get("type") for t in out["properties"]["lead_organisation"]["anyOf"]} == {
        "string",
        "null",
    }


@pytest.mark.postgres_only
def test_two_concurrent_answers_cannot_both_win(app, trio, sign_in):
    a, b, person = trio["a"], trio["b"], trio["person"]
    _propose(sign_in, a, person, b)
    handover_id = db.session.scalars(select(Handover.id)).one()
    counsellor_id = b.counsellor.id
    barrier = threading.Barrier(2)
    outcomes = []

    def answer(accepting: bool):
        from portal.organisations.models import Counsellor

        with app.app_context():
            try:
                counsellor = db.session.get(Counsellor, counsellor_id)
                handover = services.handover_to_answer(counsellor, handover_id)
                barrier.wait(5)
                try:
                    if accepting:
                        services.accept(counsellor, handover)
                    else:
                        services.refuse(counsellor, handover, "Non")
                    db.session.commit()
                    outcomes.append("won")
                except services.HandoverError:
                    db.session.rollback()
                    outcomes.append("already answered")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=answer, args=(flag,)) for flag in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == ["already answered", "won"]
    events = [e["type"] for e in _handover_events(a)]
    assert len([t for t in events if t != "followup.handover_proposed"]) == 1


def test_no_input_in_the_hand_over_forms_gives_a_server_error(trio, sign_in):
    from tests.core.test_bad_input import QUERY_NASTY

    a, b, person = trio["a"], trio["b"], trio["person"]
    proposer = Browser(sign_in(a.counsellor))
    url = f"/conseiller/personnes/{person.id}/relais"
    failed = []
    for value in QUERY_NASTY:
        for data in (
            {"organisation": value, "reason": "Motif"},
            {"organisation": str(b.organisation.id), "reason": value},
        ):
            response = proposer.submit(url, data)
            if response.status_code >= 500:
                failed.append((url, value[:20], response.status_code))
            db.session.rollback()
            for handover in db.session.scalars(select(Handover)):
                db.session.delete(handover)  # room for the next proposal
            db.session.commit()
    _propose(sign_in, a, person, b)
    handover = db.session.scalars(select(Handover)).one()
    answerer = Browser(sign_in(b.counsellor))
    for value in QUERY_NASTY:
        response = answerer.submit(
            f"/conseiller/relais/{handover.id}/refuser",
            {"reason": value},
            page="/conseiller/relais",
        )
        if response.status_code >= 500:
            failed.append(("refuse", value[:20], response.status_code))
        db.session.rollback()
        handover.status = HandoverStatus.PROPOSED
        db.session.commit()
    assert failed == []


def test_the_file_and_the_staff_home_show_proposals(trio, sign_in):
    a, b, person = trio["a"], trio["b"], trio["person"]
    file = Browser(sign_in(a.counsellor)).get(f"/conseiller/personnes/{person.id}")
    assert f"/conseiller/personnes/{person.id}/relais" in file.get_data(as_text=True)
    _propose(sign_in, a, person, b)
    browser = Browser(sign_in(b.counsellor))
    home = browser.get("/conseiller/").get_data(as_text=True)
    assert "Relais à accepter ou refuser (1)" in home and "Diallo" in home
    file = browser.get(f"/conseiller/personnes/{person.id}").get_data(as_text=True)
    assert "attend déjà une réponse" in file
    # The proposing side has nothing to answer.
    home = Browser(sign_in(a.counsellor)).get("/conseiller/").get_data(as_text=True)
    assert "Relais à accepter ou refuser (0)" in home

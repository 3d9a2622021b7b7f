"""Contract v1.1, "Personal data changed by another organisation": no organisation can
quietly take a person over by linking to them and changing their phone."""

import re

from sqlalchemy import select

from portal.auth.models import InvitationToken
from portal.core.clock import utcnow
from portal.extensions import db
from portal.sms.models import SmsKind, SmsMessage
from portal.sms.sender import send_due
from tests.factories import beneficiary_body, person_of, put_beneficiary

CAF = {"caf_number": "1234567", "birth_date": "1990-05-17"}


def _followed_by_both(org_a, org_b):
    put_beneficiary(org_a, "A-1", **CAF)
    put_beneficiary(org_b, "B-1", **CAF)  # linked on CAF number and birth date
    person = person_of(org_a, "A-1")
    assert person is person_of(org_b, "B-1")
    return person


def test_every_follower_hears_which_fields_changed_and_by_whom(org_a, org_b):
    _followed_by_both(org_a, org_b)
    response = org_b.api.put(
        "/beneficiaries/B-1",
        beneficiary_body(**CAF, phone="+33698765432", last_name="Diallo-Ba"),
    )
    assert response.status_code == 200
    for tenant, external_id in ((org_a, "A-1"), (org_b, "B-1")):
        updated = [e for e in tenant.api.events() if e["type"] == "beneficiary.updated"]
        assert len(updated) == 1, tenant.slug
        assert updated[0]["beneficiary_external_id"] == external_id
        assert updated[0]["data"] == {"by": org_b.slug, "fields": ["last_name", "phone"]}
        # Never the values, old or new.
        raw = str(updated[0])
        assert "Diallo" not in raw and "98765432" not in raw and "12345678" not in raw


def test_an_unchanged_put_or_a_referent_change_tells_nobody(org_a, org_b):
    _followed_by_both(org_a, org_b)
    put_beneficiary(org_b, "B-1", **CAF)
    put_beneficiary(
        org_b,
        "B-1",
        **CAF,
        referent={"name": "Autre", "email": "autre@example.org", "phone": "03 88 00 00 00"},
    )
    assert not [e for e in org_a.api.events() if e["type"] == "beneficiary.updated"]


def test_linking_to_a_person_with_another_phone_is_told_to_the_first_organisation(org_a, org_b):
    put_beneficiary(org_a, "A-1", **CAF)
    put_beneficiary(org_b, "B-1", **CAF, phone="+33698765432")
    updated = [e for e in org_a.api.events() if e["type"] == "beneficiary.updated"]
    assert [e["data"] for e in updated] == [{"by": org_b.slug, "fields": ["phone"]}]


def test_a_new_phone_ends_the_activated_persons_sessions_and_tells_the_old_number(
    working_hours, app, org_a, org_b, sign_in, fake_twilio
):
    person = _followed_by_both(org_a, org_b)
    person.activated_at = utcnow()
    db.session.commit()
    phone_before = person.phone
    client = sign_in(person)
    assert client.get("/accueil").status_code == 200

    put_beneficiary(org_b, "B-1", **CAF, phone="+33698765432")

    assert client.get("/accueil").status_code == 302  # signed out
    notice = db.session.scalars(
        select(SmsMessage).where(SmsMessage.kind == SmsKind.PHONE_CHANGED)
    ).one()
    assert notice.to == phone_before
    assert send_due() == 1
    sent = fake_twilio.wait_for(1)[0]
    assert sent.to == phone_before
    assert "numéro de portable" in sent.body.lower() or "numero de portable" in sent.body.lower()


def test_a_new_phone_voids_the_links_sent_to_the_old_one(working_hours, org_a, org_b, browser):
    _followed_by_both(org_a, org_b)
    assert org_a.api.post("/beneficiaries/A-1/invitation").status_code == 202
    assert send_due() == 1
    put_beneficiary(org_b, "B-1", **CAF, phone="+33698765432")
    assert all(row.used_at is not None for row in db.session.scalars(select(InvitationToken)))


def test_sign_in_codes_go_only_to_the_new_number(working_hours, org_a, org_b, browser, fake_twilio):
    person = _followed_by_both(org_a, org_b)
    old = person.phone
    put_beneficiary(org_b, "B-1", **CAF, phone="+33698765432")
    before = len(fake_twilio.messages)
    browser.submit("/connexion", {"phone": old})
    browser.submit("/connexion", {"phone": "06 98 76 54 32"})
    messages = fake_twilio.wait_for(before + 1)
    codes = [m for m in messages[before:] if re.search(r"\b\d{6}\b", m.body)]
    assert [m.to for m in codes] == ["+33698765432"]


def test_a_person_never_activated_gets_no_notice(org_a, org_b):
    _followed_by_both(org_a, org_b)
    put_beneficiary(org_b, "B-1", **CAF, phone="+33698765432")
    assert not db.session.scalars(
        select(SmsMessage).where(SmsMessage.kind == SmsKind.PHONE_CHANGED)
    ).all()

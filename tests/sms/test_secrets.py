"""No secret in the outbox once sent, and never on a counsellor's page: a counsellor of
any organisation following the person must not be able to sign in as them."""

import re

from sqlalchemy import select

from portal.auth import services
from portal.extensions import db
from portal.sms.models import SmsKind, SmsMessage, SmsStatus, without_secret
from portal.sms.sender import send_due
from tests.factories import make_beneficiary, make_counsellor, make_organisation


def _invited(organisation, person) -> str:
    token = services.create_invitation(person, organisation)
    db.session.commit()
    return token


def test_a_sent_link_is_not_kept_readable(app, working_hours, fake_twilio):
    organisation = make_organisation()
    person = make_beneficiary(organisation)
    token = _invited(organisation, person)
    assert send_due() == 1
    assert token in fake_twilio.wait_for(1)[0].body  # the person got the link
    row = db.session.scalars(select(SmsMessage)).one()
    assert row.status is SmsStatus.SENT
    assert token not in row.body
    assert "/connexion/lien/•••" in row.body


def test_a_sent_code_is_not_kept_readable(app, browser, fake_twilio):
    organisation = make_organisation()
    make_beneficiary(organisation, phone="+33612345678")
    db.session.commit()
    browser.submit("/connexion", {"phone": "06 12 34 56 78"})
    code = re.search(r"\b(\d{6})\b", fake_twilio.wait_for(1)[0].body).group(1)
    for thread in list(app.extensions.get("background_sms", ())):
        thread.join(10)
    db.session.expire_all()
    row = db.session.scalars(select(SmsMessage)).one()
    assert row.status is SmsStatus.SENT
    assert code not in row.body


def test_no_counsellor_page_shows_a_link_even_before_it_is_sent(app, sign_in):
    first, second = make_organisation(), make_organisation()
    person = make_beneficiary(first)
    # Followed by a second organisation too: its counsellors see the person, not the SMS
    # the first organisation sent.
    from portal.beneficiaries.models import FollowUp

    db.session.add(FollowUp(organisation=second, beneficiary=person, external_id="B-1"))
    db.session.commit()
    token = _invited(first, person)  # queued, not sent yet
    for organisation in (first, second):
        page = sign_in(make_counsellor(organisation)).get(f"/conseiller/personnes/{person.id}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert token not in html
        assert ("/connexion/lien/•••" in html) is (organisation is first)


def test_hiding_keeps_the_rest_of_the_message():
    body = "Dep. Bas-Rhin : Pour vous connecter : https://portail.test/connexion/lien/AbC-123_x"
    assert without_secret(SmsKind.INVITATION, body) == (
        "Dep. Bas-Rhin : Pour vous connecter : https://portail.test/connexion/lien/•••"
    )
    code = "Votre code de connexion : 042917. Il marche 10 minutes."
    assert without_secret(SmsKind.SIGN_IN_CODE, code) == (
        "Votre code de connexion : ••••••. Il marche 10 minutes."
    )
    reminder = "Rappel : rendez-vous demain à 10:00, 12 rue 123456"
    assert without_secret(SmsKind.REMINDER_DAY, reminder) == reminder


def test_the_api_never_hands_out_a_link(app, working_hours, org_a, fake_twilio):
    from tests.factories import put_beneficiary

    put_beneficiary(org_a, "A-1")
    assert org_a.api.post("/beneficiaries/A-1/invitation").status_code == 202
    assert send_due() == 1
    token = re.search(r"/connexion/lien/(\S+)", fake_twilio.wait_for(1)[0].body).group(1)
    answers = [
        org_a.api.get("/beneficiaries/A-1"),
        org_a.api.get("/events"),
        org_a.api.get("/beneficiaries/A-1/steps"),
    ]
    for answer in answers:
        assert answer.status_code == 200
        assert token not in answer.get_data(as_text=True)

"""Sign-in by a link sent by SMS: single use, 7 days."""

import re
from datetime import timedelta

from sqlalchemy import select

from portal.auth import services
from portal.auth.models import InvitationToken
from portal.core.clock import utcnow
from portal.extensions import db
from portal.sms.sender import send_due
from tests.factories import make_beneficiary, make_organisation


def _invite(fake_twilio, **fields) -> str:
    organisation = make_organisation()
    organisation.sms_sender_name = "Dep. Bas-Rhin"
    person = make_beneficiary(organisation, first_name="Amina", **fields)
    services.create_invitation(person, organisation)
    db.session.commit()
    assert send_due() == 1
    body = fake_twilio.wait_for(1)[0].body
    assert body.startswith("Dep. Bas-Rhin")
    return re.search(r"https://portail\.test(/connexion/lien/\S+)", body).group(1)


def test_the_link_signs_in_once(working_hours, browser, fake_twilio):
    path = _invite(fake_twilio)
    page = browser.get(path)
    assert page.status_code == 200
    assert browser.get(path).status_code == 200  # a link preview does not spend it

    response = browser.submit(path, {})
    assert response.status_code == 302
    assert "Bonjour Amina" in browser.get("/accueil").get_data(as_text=True)

    browser.submit("/deconnexion", {}, page="/accueil")
    assert browser.get(path).status_code == 410


def test_only_a_hash_of_the_token_is_kept(working_hours, app, fake_twilio):
    path = _invite(fake_twilio)
    token = path.rsplit("/", 1)[1]
    row = db.session.scalars(select(InvitationToken)).one()
    assert token not in row.token_hash
    assert len(row.token_hash) == 64


def test_the_link_lasts_seven_days(working_hours, browser, fake_twilio):
    path = _invite(fake_twilio)
    row = db.session.scalars(select(InvitationToken)).one()
    assert timedelta(days=6, hours=23) < row.expires_at - utcnow() <= timedelta(days=7)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = browser.get(path)
    assert response.status_code == 410
    assert "Ce lien ne marche plus" in response.get_data(as_text=True)


def test_a_made_up_token_is_refused(browser):
    assert browser.get("/connexion/lien/not-a-token").status_code == 410
    assert browser.get("/connexion/lien/" + "x" * 5000).status_code == 410

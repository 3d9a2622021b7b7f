""" "Mes données": the person sees and takes away what the portal holds about them, by
organisation, and nothing of anyone else."""

import json
import re
from datetime import timedelta

from portal.auth import services as auth
from portal.beneficiaries.models import FollowUp
from portal.extensions import db
from portal.sms.models import SmsKind
from portal.sms.outbox import queue_sms
from tests.conftest import Browser
from tests.factories import (
    make_appointment,
    make_beneficiary,
    make_counsellor,
    make_organisation,
    make_slot,
    make_step,
)


def _person_followed_by_two():
    first, second = make_organisation(), make_organisation()
    person = make_beneficiary(first, first_name="Élodie", last_name="Kerbrat")
    db.session.add(
        FollowUp(
            organisation=second,
            beneficiary=person,
            external_id="BREST-7",
            referent_name="Yann Le Gall",
            referent_phone="+33298000000",
        )
    )
    db.session.commit()
    make_step(person, first, title="Atelier CV du premier")
    make_step(person, second, title="Stage en boulangerie du second")
    make_appointment(make_slot(make_counsellor(second), starts_in=timedelta(days=3)), person)
    queue_sms(
        to=person.phone,
        body="Rappel du second",
        kind=SmsKind.REMINDER_DAY,
        beneficiary=person,
        organisation=second,
    )
    # Someone else, followed by the same organisations: nothing of theirs may show.
    other = make_beneficiary(first, first_name="Zoé", last_name="Autre-Personne")
    make_step(other, first, title="Étape de quelqu'un d'autre")
    queue_sms(
        to=other.phone,
        body="SMS de quelqu'un d'autre",
        kind=SmsKind.REMINDER_DAY,
        beneficiary=other,
        organisation=first,
    )
    db.session.commit()
    return person, first, second, other


def test_the_file_holds_both_organisations_and_nothing_of_anyone_else(sign_in):
    person, first, second, other = _person_followed_by_two()
    response = sign_in(person).get("/mes-donnees.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["identity"]["first_name"] == "Élodie"
    assert data["identity"]["phone"] == person.phone
    by_name = {part["name"]: part for part in data["organisations"]}
    assert set(by_name) == {first.name, second.name}
    assert [s["title"] for s in by_name[first.name]["steps"]] == ["Atelier CV du premier"]
    second_steps = [s["title"] for s in by_name[second.name]["steps"]]
    assert "Stage en boulangerie du second" in second_steps
    assert len(by_name[second.name]["appointments"]) == 1
    assert by_name[first.name]["appointments"] == []
    assert [m["text"] for m in by_name[second.name]["sms"]] == ["Rappel du second"]
    assert by_name[second.name]["referent"]["name"] == "Yann Le Gall"
    text = response.get_data(as_text=True)
    for theirs in ("Zoé", "Autre-Personne", other.phone, "quelqu'un d'autre"):
        assert theirs not in text, theirs


def test_the_page_shows_the_same_by_organisation(sign_in):
    person, first, second, other = _person_followed_by_two()
    page = sign_in(person).get("/mes-donnees").get_data(as_text=True)
    assert first.name in page and second.name in page
    assert "Atelier CV du premier" in page and "Stage en boulangerie du second" in page
    assert "Yann Le Gall" in page and 'href="tel:+33298000000"' in page
    assert 'href="/mes-donnees.json"' in page
    assert "Autre-Personne" not in page and other.phone not in page


def test_sign_ins_are_dated_and_no_code_or_link_is_ever_in_the_file(client, fake_twilio):
    person = make_beneficiary(phone="+33612345678")
    token = auth.create_invitation(person, person.follow_ups[0].organisation)
    db.session.commit()
    browser = Browser(client)
    browser.submit("/connexion", {"phone": "06 12 34 56 78"})
    code = re.search(r"\b(\d{6})\b", fake_twilio.wait_for(1)[-1].body).group(1)
    browser.submit("/connexion/code", {"code": code})
    response = browser.get("/mes-donnees.json")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert code not in text and token not in text
    data = json.loads(text)
    assert data["sign_ins"]["first"] is not None
    assert data["sign_ins"]["last"] is not None
    kinds = {m["kind"] for m in data["sms_from_the_portal"]} | {
        m["kind"] for part in data["organisations"] for m in part["sms"]
    }
    assert {"sign_in_code", "invitation"} <= kinds  # listed, without their secret


def test_staff_and_strangers_cannot_open_it(client, sign_in):
    assert client.get("/mes-donnees").status_code == 302
    assert client.get("/mes-donnees.json").status_code == 302
    staff = sign_in(make_counsellor())
    assert staff.get("/mes-donnees").status_code == 403
    assert staff.get("/mes-donnees.json").status_code == 403


def test_the_person_sees_which_organisations_opened_their_file_not_who(sign_in):
    person, first, second, _other = _person_followed_by_two()
    staff = make_counsellor(second, email="yann.le-gall@example.org")
    staff.name = "Yann Counsellor-Name"
    db.session.commit()
    assert sign_in(staff).get(f"/conseiller/personnes/{person.id}").status_code == 200
    client = sign_in(person)
    page = client.get("/mes-donnees").get_data(as_text=True)
    assert f"{second.name}, la dernière fois" in page
    assert f"{first.name}, la dernière fois" not in page
    assert "Yann Counsellor-Name" not in page and "yann.le-gall" not in page
    data = json.loads(client.get("/mes-donnees.json").get_data(as_text=True))
    assert [o["organisation"] for o in data["file_opened_by"]] == [second.name]


def test_what_an_organisation_that_stopped_following_keeps_is_still_shown(sign_in):
    from portal.erasure.services import end_follow_up

    person, first, second, _other = _person_followed_by_two()
    follow_up = next(f for f in person.follow_ups if f.organisation_id == second.id)
    assert end_follow_up(second, follow_up) is False  # the first one still follows
    db.session.commit()
    client = sign_in(person)
    data = json.loads(client.get("/mes-donnees.json").get_data(as_text=True))
    by_name = {part["name"]: part for part in data["organisations"]}
    assert by_name[first.name]["follows_you"] is True
    former = by_name[second.name]
    assert former["follows_you"] is False and former["referent"] is None
    assert "Rappel du second" in [m["text"] for m in former["sms"]]
    assert data["sms_from_the_portal"] == []  # not the former organisation's SMS
    page = client.get("/mes-donnees").get_data(as_text=True)
    assert "Cet organisme ne vous suit plus" in page and second.name in page

"""POST …/invitation: 202 and a sign-in link by SMS; 409 when the person gets no SMS."""

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.sms.models import SmsMessage
from tests.api.conftest import assert_problem
from tests.factories import person_of, put_beneficiary


def test_an_invitation_sends_a_link_by_sms(working_hours, org_a, runner, fake_twilio):
    put_beneficiary(org_a, "DOS-1", phone="06 11 22 33 44")
    response = org_a.api.post("/beneficiaries/DOS-1/invitation")
    assert response.status_code == 202, response.get_data(as_text=True)

    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    messages = fake_twilio.wait_for(1)
    assert len(messages) == 1
    assert messages[0].to == "+33611223344"
    link = re.search(r"https://portail\.test/\S+", messages[0].body)
    assert link, messages[0].body


def test_the_link_signs_the_person_in(working_hours, org_a, runner, fake_twilio, client):
    put_beneficiary(org_a, "DOS-1")
    assert org_a.api.post("/beneficiaries/DOS-1/invitation").status_code == 202
    runner.invoke(args=["worker", "--once"])
    body = fake_twilio.wait_for(1)[0].body
    path = re.search(r"https://portail\.test(/\S+)", body).group(1)
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("reason", ["no-consent", "opted-out"])
def test_no_invitation_to_a_person_who_gets_no_sms(org_a, runner, fake_twilio, reason):
    if reason == "no-consent":
        put_beneficiary(org_a, "DOS-1", sms_consent=False)
    else:
        put_beneficiary(org_a, "DOS-1")
        person_of(org_a, "DOS-1").sms_opted_out = True
        db.session.commit()
    response = org_a.api.post("/beneficiaries/DOS-1/invitation")
    assert_problem(response, 409)
    assert db.session.scalars(select(SmsMessage)).all() == []
    runner.invoke(args=["worker", "--once"])
    assert fake_twilio.wait_for(1, timeout=0.3) == []

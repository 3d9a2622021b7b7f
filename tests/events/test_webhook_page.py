"""Administrators see what was sent to their back office, attempt by attempt."""

import pytest
from werkzeug.wrappers import Response

from portal.events import webhooks
from portal.events.services import record_event
from portal.extensions import db
from tests.factories import make_beneficiary, make_counsellor
from tests.fake_twilio import ServerThread


@pytest.fixture
def app_config():
    return {"WEBHOOK_ALLOW_INSECURE": True}


def test_an_admin_sees_each_attempt_and_its_answer(app, sign_in):
    admin = make_counsellor(is_admin=True)
    person = make_beneficiary(admin.organisation)

    def refusing(environ, start_response):
        return Response("busy", status=503)(environ, start_response)

    with ServerThread(refusing) as server:
        webhooks.register(admin.organisation, server.url + "/hook", "s" * 32)
        event = record_event("appointment.requested", person)
        db.session.commit()
        assert webhooks.deliver_due() == 1

    page = sign_in(admin).get("/conseiller/webhooks").get_data(as_text=True)
    assert f"#{event.id} appointment.requested" in page
    assert "HTTP 503" in page
    assert "En attente" in page  # it will be retried


def test_a_counsellor_who_is_not_admin_is_refused(app, sign_in):
    assert sign_in(make_counsellor()).get("/conseiller/webhooks").status_code == 403

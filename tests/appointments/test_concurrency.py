"""Fifty people tap the same slot at the same moment (PostgreSQL, real transactions)."""

import re
import threading

import pytest
from sqlalchemy import select

from portal.appointments.models import Appointment
from portal.extensions import db
from tests.factories import make_beneficiary, make_counsellor, make_organisation, make_slot

pytestmark = pytest.mark.postgres_only
PEOPLE = 50


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": False}


def test_fifty_people_booking_one_slot_get_one_appointment_and_49_other_slots(sign_in):
    organisation = make_organisation()
    counsellor = make_counsellor(organisation)
    slot = make_slot(counsellor)
    make_slot(counsellor, starts_in=slot.starts_at - slot.created_at)  # somewhere to go instead
    slot_id = slot.id  # the threads have no app context to load it with
    clients = []
    for _ in range(PEOPLE):
        client = sign_in(make_beneficiary(organisation))
        page = client.get(f"/rendez-vous/creneaux/{slot.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        clients.append((client, token))

    start = threading.Barrier(PEOPLE)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def tap(client, token):
        start.wait()
        response = client.post(f"/rendez-vous/creneaux/{slot_id}", data={"csrf_token": token})
        with lock:
            answers.append((response.status_code, response.headers.get("Location", "")))

    threads = [threading.Thread(target=tap, args=pair) for pair in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(answers) == PEOPLE
    assert all(status == 302 for status, _ in answers), answers  # no 500, no error page
    winners = [
        location for _, location in answers if re.match(r"^/rendez-vous/\d+\?fait=1$", location)
    ]
    losers = [location for _, location in answers if location.startswith("/rendez-vous/nouveau")]
    assert (len(winners), len(losers)) == (1, PEOPLE - 1)
    db.session.expire_all()
    booked = db.session.scalars(select(Appointment).where(Appointment.slot_id == slot_id)).all()
    assert len(booked) == 1

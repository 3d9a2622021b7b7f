"""People nobody has updated or seen for DORMANT_PERSON_MONTHS: shown to their
organisations on the staff home, with the definition, and never deleted."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from portal.auth.services import mark_signed_in
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.caseload import todo
from portal.extensions import db
from portal.retention import services as retention
from portal.retention.services import months_before
from tests.factories import (
    make_appointment,
    make_beneficiary,
    make_counsellor,
    make_organisation,
    make_slot,
    make_step,
)

NOW = datetime.now(UTC).replace(microsecond=0)
OLD = months_before(NOW, 24) - timedelta(days=1)
RECENT = months_before(NOW, 24) + timedelta(days=1)


def made(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def organisation(app):
    return make_organisation()


@pytest.fixture
def counsellor(organisation):
    return make_counsellor(organisation, email="claire.muller@example.org")


def _person(organisation, name: str, referent: str = "claire.muller@example.org"):
    with made(OLD):
        person = make_beneficiary(organisation, last_name=name)
        person.follow_ups[0].referent_email = referent
        db.session.commit()
    return person


def test_only_people_nobody_touched_for_24_months_are_dormant(organisation, counsellor):
    untouched = _person(organisation, "Untouched")
    _person(organisation, "Colleagues", referent="someone.else@example.org")
    make_beneficiary(organisation, last_name="Young")  # registered lately: not dormant
    with made(RECENT):  # the record itself changed since
        _person(organisation, "Updated").postal_code = "67100"
        db.session.commit()
    with made(RECENT):  # a step with any organisation
        make_step(_person(organisation, "Stepped"), make_organisation())
    with made(RECENT):  # another organisation's follow-up changed
        followed_elsewhere = _person(organisation, "Elsewhere")
        db.session.add(
            FollowUp(
                organisation=make_organisation(), beneficiary=followed_elsewhere, external_id="E"
            )
        )
        db.session.commit()
    with made(RECENT):  # an appointment
        make_appointment(make_slot(counsellor), _person(organisation, "Booked"))
    with made(RECENT):  # signed in for the first time
        _person(organisation, "Activated").activated_at = RECENT
        db.session.commit()
    with made(RECENT):  # signed in again, long after the first time
        returning = _person(organisation, "Returning")
        returning.activated_at = OLD
        db.session.commit()
        mark_signed_in(returning)
        db.session.commit()
    with made(NOW):
        everyone = todo.home(counsellor, mine=False, only="dormants")["dormants"]
        mine = todo.home(counsellor, mine=True, only="dormants")["dormants"]
    assert [person.last_name for person in everyone.lines] == ["Untouched", "Colleagues"]
    assert everyone.count == 2
    assert [person.last_name for person in mine.lines] == ["Untouched"]
    # Another organisation never sees them.
    stranger = make_counsellor(make_organisation())
    assert todo.home(stranger, mine=False)["dormants"].count == 0
    # Flagged, never deleted by the purge.
    with made(NOW):
        retention.purge()
        db.session.commit()
    assert db.session.get(Beneficiary, untouched.id) is not None


def test_the_period_comes_from_the_configuration(app, organisation, counsellor):
    _person(organisation, "Untouched")
    assert todo.home(counsellor, mine=False)["dormants"].count == 1
    app.config["DORMANT_PERSON_MONTHS"] = 36
    assert todo.home(counsellor, mine=False)["dormants"].count == 0


def test_the_home_shows_the_block_and_its_definition(organisation, counsellor, sign_in):
    person = _person(organisation, "Untouched")
    html = sign_in(counsellor).get("/conseiller/").get_data(as_text=True)
    block = html.split('aria-labelledby="bloc-dormants"', 1)[1].split("</section>", 1)[0]
    assert "Sans nouvelles depuis 24 mois" in block
    assert f"/conseiller/personnes/{person.id}" in block
    assert "aucune organisation n'a modifié la fiche" in html  # the definition
    alone = sign_in(counsellor).get("/conseiller/?voir=dormants").get_data(as_text=True)
    assert "Untouched" in alone and 'id="bloc-demandes"' not in alone

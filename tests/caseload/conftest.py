from datetime import timedelta

import pytest
from sqlalchemy import update

from portal.beneficiaries.models import FollowUp
from portal.core.clock import paris_today
from portal.extensions import db
from tests.factories import make_beneficiary, make_counsellor, make_organisation

MY_EMAIL = "claire.muller@example.org"  # the référent the factories give everyone


def person(organisation, last_name, first_name="Amina", days_ago=20, referent=MY_EMAIL, **fields):
    """A person the organisation follows, registered `days_ago` days ago (Paris)."""
    someone = make_beneficiary(
        organisation,
        last_name=last_name,
        first_name=first_name,
        rsa_registration_date=paris_today() - timedelta(days=days_ago),
        **fields,
    )
    if referent != MY_EMAIL:
        db.session.execute(
            update(FollowUp)
            .where(FollowUp.beneficiary_id == someone.id)
            .values(referent_email=referent, referent_name="Paul Martin" if referent else None)
        )
        db.session.commit()
    return someone


@pytest.fixture
def organisation(app):
    return make_organisation()


@pytest.fixture
def me(organisation):
    return make_counsellor(organisation, email=MY_EMAIL)

"""The API against its own OpenAPI document: generated requests, no 5xx, answers as documented.

Schemathesis' pytest plugin does not run on pytest 9 yet, so each operation is driven
with its Hypothesis strategy directly; the checks are schemathesis' own.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from portal import create_app
from portal.extensions import db
from portal.organisations.services import create_api_key
from tests.factories import make_beneficiary, make_counsellor


def _operation_labels() -> list[str]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return sorted(result.ok().label for result in schema.get_all_operations())


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": False}


@pytest.mark.parametrize("label", _operation_labels())
def test_the_api_keeps_its_own_contract(app, label):
    counsellor = make_counsellor(email="c@example.org")
    make_beneficiary(counsellor.organisation, external_id="DOS-1")
    _key, secret = create_api_key(counsellor.organisation)
    db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = next(
        result.ok() for result in schema.get_all_operations() if result.ok().label == label
    )
    # Answers as they are: a real client decodes gzip or br, the WSGI test client does not.
    headers = {"Authorization": f"Bearer {secret}", "Accept-Encoding": "identity"}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=20,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        # Every check but "schema-valid data is accepted": the contract has rules no JSON
        # schema can state (a known counsellor, a public holiday, the clock, ends_on after
        # starts_on), documented in each 422. bench/api_fuzz.py runs that check too, with
        # exactly those answers excused, 500 examples an operation and stateful links.
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    check()

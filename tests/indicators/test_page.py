"""The indicators page: each figure as a chart with its table, its definition and a CSV."""

import csv
import io
import re

import pytest

from tests.factories import make_counsellor
from tests.indicators.conftest import MARCH

PERIOD = f"?from={MARCH[0].isoformat()}&to={MARCH[1].isoformat()}"
TABLES = ("cohorts", "delays", "activation", "appointments", "sms", "referents")


@pytest.mark.parametrize("language", ["fr", "en", "ar"])
def test_the_page_shows_charts_tables_and_definitions(cohort, org_a, sign_in, language):
    client = sign_in(org_a.counsellor)
    response = client.get(
        "/conseiller/indicateurs/" + PERIOD, headers={"Accept-Language": language}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("<svg") >= 9 and html.count("<table") == len(TABLES)
    for name in TABLES:
        assert f"/conseiller/indicateurs/{name}.csv?from=2025-03-01&amp;to=2025-03-31" in html
    # The Content-Security-Policy forbids inline style and script: none in the charts.
    assert not re.search(r"<style|<script(?![^>]*\ssrc=)|\sstyle=", html)
    assert 'role="img"' in html and "<title id=" in html and "<desc id=" in html
    if language == "ar":
        assert 'dir="rtl"' in html
    if language == "fr":
        assert "70 %" in html  # the cohort's rate, and the target
        assert "Karim Benali" in html


def test_a_counsellor_of_another_organisation_sees_none_of_it(cohort, org_b, sign_in):
    html = sign_in(org_b.counsellor).get("/conseiller/indicateurs/" + PERIOD)
    html = html.get_data(as_text=True)
    assert "Karim Benali" not in html
    assert "70 %" not in html.replace("objectif 70 %", "").replace("objectif : 70 %", "")


def test_every_table_exports_as_csv(cohort, org_a, sign_in):
    client = sign_in(org_a.counsellor)
    response = client.get("/conseiller/indicateurs/cohorts.csv" + PERIOD)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1] == ["2025-03", "100", "69", "0.69", "69", "0.69", "70", "0.7"]
    for name in TABLES:
        assert client.get(f"/conseiller/indicateurs/{name}.csv" + PERIOD).status_code == 200
    assert client.get("/conseiller/indicateurs/nothing.csv").status_code == 404


def test_a_bad_period_says_what_to_fix_and_shows_the_last_year(org_a, sign_in):
    response = sign_in(org_a.counsellor).get(
        "/conseiller/indicateurs/?from=2025-04-01&to=2025-03-01"
    )
    assert response.status_code == 200
    assert 'role="alert"' in response.get_data(as_text=True)


def test_an_administrator_sees_the_page_too(org_a, sign_in):
    admin = make_counsellor(org_a.organisation, is_admin=True)
    assert sign_in(admin).get("/conseiller/indicateurs/").status_code == 200


def test_the_definitions_are_public(client):
    response = client.get("/conseiller/indicateurs/definitions")
    assert response.status_code == 200
    assert "91" in response.get_data(as_text=True)

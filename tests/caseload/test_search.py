"""The caseload's search, filters, pages, counts and CSV, always within one organisation."""

import csv
import io
from datetime import timedelta

from sqlalchemy import update

from portal.caseload import risk
from portal.caseload.search import PAGE_SIZE, Filters, counts, search
from portal.core.clock import paris_today, utcnow
from portal.extensions import db
from portal.pathway.models import PathwayStep, StepKind, StepStatus
from tests.caseload.conftest import person
from tests.factories import make_counsellor, make_organisation, make_step


def _names(counsellor, **filters) -> list[str]:
    return [row.last_name for row in search(counsellor, Filters(**filters)).rows]


def test_a_name_is_found_whatever_its_accents_and_case(organisation, me):
    person(organisation, "Lefèvre", "Élodie")
    person(organisation, "Diallo", "Amina")
    assert _names(me, text="elodie") == ["Lefèvre"]
    assert _names(me, text="ÉLO lefev") == ["Lefèvre"]
    assert _names(me, text="  lefevre  ") == ["Lefèvre"]
    assert _names(me, text="martin") == []


def test_a_renamed_person_is_found_by_the_new_name(organisation, me):
    someone = person(organisation, "Diallo", "Amina")
    someone.last_name = "Ndiaye"
    db.session.commit()
    assert _names(me, text="ndiaye") == ["Ndiaye"]
    assert _names(me, text="diallo") == []


def test_a_phone_is_found_however_it_is_typed(organisation, me):
    person(organisation, "Diallo", phone="+33612345678")
    person(organisation, "Autre", phone="+33698765432")
    for typed in ("06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678", "06.12.34.56.78"):
        assert _names(me, text=typed) == ["Diallo"], typed


def test_caf_number_and_france_travail_id_are_found(organisation, me):
    person(organisation, "Caf", caf_number="1234567")
    person(organisation, "Travail", france_travail_id="4455667A")
    assert _names(me, text="1234567") == ["Caf"]
    assert _names(me, text="4455667a") == ["Travail"]
    assert _names(me, text="123456") == []  # a whole number, not a part


def test_another_organisations_people_never_appear_nor_count(organisation, me):
    other = make_organisation()
    person(other, "Lefèvre", "Élodie", days_ago=90, phone="+33612345678", caf_number="1234567")
    person(organisation, "Diallo")
    for filters in ({}, {"text": "elodie"}, {"text": "0612345678"}, {"text": "1234567"}):
        assert "Lefèvre" not in _names(me, **filters)
    assert counts(me)["total"] == 1 and counts(me)[risk.ANY] == 0


def test_filters_and_their_counts(organisation, me):
    person(organisation, "Mienne", days_ago=5)
    person(organisation, "Collegue", referent="paul.martin@example.org", days_ago=100)
    active = person(organisation, "Active", referent=None, days_ago=70)
    make_step(active, organisation, kind=StepKind.EMPLOYMENT, status=StepStatus.DONE)
    today = paris_today()
    assert _names(me, mine=True) == ["Mienne"]
    assert _names(me, referent="paul.martin@example.org") == ["Collegue"]
    assert _names(me, activity=True) == ["Active"]
    assert _names(me, activity=False) == ["Collegue", "Mienne"]
    assert _names(me, risk="sans-activite") == ["Collegue"]
    assert _names(me, risk=risk.ANY) == ["Collegue"]
    assert _names(me, registered_from=today - timedelta(days=80)) == ["Active", "Mienne"]
    assert _names(me, registered_to=today - timedelta(days=70)) == ["Active", "Collegue"]
    assert _names(me, sort="inscription") == ["Collegue", "Active", "Mienne"]
    found = counts(me)
    assert (found["total"], found["mine"], found["sans-activite"], found[risk.ANY]) == (3, 1, 1, 1)
    assert counts(me, mine=True)["total"] == 1
    assert search(me, Filters(mine=True)).total == 1


def test_pages_of_fifty(organisation, me):
    for n in range(PAGE_SIZE + 3):
        person(organisation, f"Nom{n:03d}")
    first = search(me, Filters())
    second = search(me, Filters(page=2))
    assert (first.total, first.pages, len(first.rows), len(second.rows)) == (53, 2, 50, 3)
    assert second.rows[-1].last_name == "Nom052"
    assert search(me, Filters(page=99)).page == 2  # past the end: the last page


def test_the_csv_export_has_the_filtered_list_and_no_one_else(organisation, me, sign_in):
    person(organisation, "Lefèvre", "Élodie", phone="+33612345678", caf_number="1234567")
    person(organisation, "Diallo")
    person(make_organisation(), "Étranger")
    response = sign_in(me).get("/conseiller/dossiers.csv?q=elodie")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert rows[0][:4] == ["Nom", "Prénom", "Dossier", "Portable"]
    assert [row[:2] for row in rows[1:]] == [["Lefèvre", "Élodie"]]
    assert rows[1][3] == "06 12 34 56 78" and rows[1][4] == "1234567"
    everyone = sign_in(me).get("/conseiller/dossiers.csv").get_data(as_text=True)
    assert "Diallo" in everyone and "Étranger" not in everyone


def test_the_page_searches_filters_and_pages_without_javascript(organisation, me, sign_in):
    person(organisation, "Lefèvre", "Élodie")
    person(organisation, "Diallo")
    client = sign_in(make_counsellor(organisation))
    page = client.get("/conseiller/dossiers?q=elodie&tri=mouvement").get_data(as_text=True)
    assert "Lefèvre" in page and "Diallo" not in page
    assert "1 personne trouvée" in page
    assert "Le nom sans tenir compte des accents ni des majuscules" in page  # the definitions
    # Choices out of their lists are ignored, not errors.
    odd = client.get("/conseiller/dossiers?risque=x&activite=y&tri=z&referent=nobody&page=-3")
    assert odd.status_code == 200 and "Diallo" in odd.get_data(as_text=True)


def test_sorted_by_last_change_the_stillest_first(organisation, me):
    person(organisation, "Jamais")
    for name, days in (("Recent", 2), ("Ancien", 40)):
        step = make_step(person(organisation, name), organisation, kind=StepKind.OTHER)
        db.session.execute(
            update(PathwayStep)
            .where(PathwayStep.id == step.id)
            .values(updated_at=utcnow() - timedelta(days=days))
        )
    db.session.commit()
    rows = search(me, Filters(sort="mouvement")).rows
    assert [row.last_name for row in rows] == ["Jamais", "Ancien", "Recent"]
    assert rows[0].last_change is None and rows[1].last_change < rows[2].last_change

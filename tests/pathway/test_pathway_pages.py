"""The pathway page: the person's own, in three languages, in a fixed number of queries."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from portal.extensions import db
from tests.factories import (
    make_appointment,
    make_beneficiary,
    make_counsellor,
    make_organisation,
    make_pathway,
    make_slot,
    make_step,
)


def _person_with_two_organisations():
    return make_pathway()


def test_the_page_says_where_the_person_is_what_comes_next_and_who_follows_them(sign_in):
    person, department, plie = _person_with_two_organisations()
    counsellor = make_counsellor(department)
    make_appointment(make_slot(counsellor), person)
    page = sign_in(person).get("/accueil").get_data(as_text=True)

    assert "Bonjour Amina" in page
    assert "Vous suivez une formation : Remise à niveau en français" in page
    assert "Vous avez commencé une formation : bravo." in page
    assert "Immersion en boulangerie" in page  # next
    assert "1 place du Quartier Blanc" in page  # next appointment, in person
    assert "Avec : Greta" in page and "Avec : Département du Bas-Rhin" in page
    assert "Karim Benali" in page and "PLIE de Strasbourg" in page
    assert 'href="tel:+33388000000"' in page
    assert 'href="mailto:karim@plie.example"' in page
    # statuses in words, not colour alone
    for word in ("Terminé", "En cours", "Prévu"):
        assert word in page


def test_before_any_activity_the_aim_is_said_kindly(sign_in):
    person = make_beneficiary(rsa_registration_date=date.today() - timedelta(days=10))
    page = sign_in(person).get("/accueil").get_data(as_text=True)
    assert "Objectif : commencer une activité" in page
    late = make_beneficiary(rsa_registration_date=date.today() - timedelta(days=200))
    page = sign_in(late).get("/accueil").get_data(as_text=True)
    assert "Votre conseiller est là pour vous aider" in page
    assert "Objectif : commencer" not in page


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fr", "Votre parcours"), ("en", 'lang="en"'), ("ar", 'dir="rtl"')],
)
def test_the_page_in_each_language(sign_in, language, expected):
    person, _department, _plie = _person_with_two_organisations()
    person.language = language
    db.session.commit()
    page = sign_in(person).get("/accueil").get_data(as_text=True)
    assert expected in page
    assert "Remise à niveau en français" in page  # titles come from the back office as written
    if language != "fr":
        assert "Vous suivez une formation" not in page


def test_a_step_page_shows_the_persons_own_step_and_404s_for_anyone_elses(sign_in):
    person, department, _plie = _person_with_two_organisations()
    other = make_beneficiary(department)
    others_step = make_step(other, department, title="Secret")
    own_step = make_step(person, department, title="Atelier CV", description="Apportez votre CV.")
    client = sign_in(person)
    own = client.get(f"/parcours/etapes/{own_step.id}")
    assert own.status_code == 200
    assert "Apportez votre CV." in own.get_data(as_text=True)
    refused = client.get(f"/parcours/etapes/{others_step.id}")
    assert refused.status_code == 404
    assert "Secret" not in refused.get_data(as_text=True)
    assert client.get("/parcours/etapes/999999").status_code == 404


def test_a_counsellor_sees_the_timeline_of_a_person_their_organisation_follows(sign_in):
    person, department, plie = _person_with_two_organisations()
    stranger_org = make_organisation()
    of_department = sign_in(make_counsellor(department))
    page = of_department.get(f"/conseiller/personnes/{person.id}").get_data(as_text=True)
    assert "Remise à niveau en français" in page  # the PLIE's step, on the same timeline
    assert "Karim Benali" in page
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "<" not in title and person.last_name in title
    assert page.count('id="sms"') == 1  # the SMS sent, once, in the page's body
    outsider = sign_in(make_counsellor(stranger_org))
    assert outsider.get(f"/conseiller/personnes/{person.id}").status_code == 404


def _count_queries(action) -> int:
    counter = {"n": 0}

    def count(*_args):
        counter["n"] += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return counter["n"]


def test_the_page_takes_the_same_number_of_queries_whatever_the_number_of_steps(sign_in):
    person, department, plie = _person_with_two_organisations()
    client = sign_in(person)
    client.get("/accueil")  # warm up (session, caches)
    few = _count_queries(lambda: client.get("/accueil"))
    for n in range(30):
        make_step(
            person,
            department if n % 2 else plie,
            title=f"Atelier {n}",
            starts_on=date.today() - timedelta(days=n),
        )
    many = _count_queries(lambda: client.get("/accueil"))
    assert many == few
    assert few <= 8

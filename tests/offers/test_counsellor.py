"""The counsellor's side: interests in the to-do list, and offers entered on the portal."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.core.clock import paris_today
from portal.extensions import db
from portal.offers import services
from portal.offers.models import Offer, OfferInterest
from tests.conftest import Browser
from tests.factories import (
    make_beneficiary,
    make_counsellor,
    make_offer,
    make_organisation,
    make_pathway,
)
from tests.offers.conftest import api_of, input_value, text_of, titles_in

HTMX = {"HX-Request": "true"}


# -- Interests in the to-do list ----------------------------------------------------------------


@pytest.fixture
def interest(app):
    """Amina (followed by the Bas-Rhin and a PLIE) said an offer interests her."""
    person, department, plie = make_pathway()
    offer = make_offer(department, title="Immersion en boulangerie")
    said = services.express_interest(person, offer, "Je suis libre le matin.").interest
    db.session.commit()
    return said, department, plie


def _interest_cards(page: str) -> list[str]:
    return re.findall(r'<li [^>]*id="interest-(\d+)"', page)


def test_the_interest_is_in_the_to_do_of_every_organisation_following_the_person(interest, sign_in):
    said, department, plie = interest
    for organisation in (department, plie):
        response = sign_in(make_counsellor(organisation)).get("/conseiller/")
        assert response.status_code == 200
        page = text_of(response)
        assert _interest_cards(page) == [str(said.id)], organisation.slug
        assert "Amina Diallo" in page
        assert "Immersion en boulangerie" in page
        assert "Son message : Je suis libre le matin." in page
        assert f'href="/conseiller/personnes/{said.beneficiary_id}"' in page


def test_another_organisations_counsellor_does_not_see_it(interest, sign_in):
    _said, _department, _plie = interest
    outsider = sign_in(make_counsellor(make_organisation()))
    page = text_of(outsider.get("/conseiller/"))
    assert _interest_cards(page) == []
    assert "Je suis libre le matin." not in page
    assert "Aucun nouvel intérêt pour une offre." in page


def test_the_to_do_page_keeps_its_title_plain_and_lists_interests_once(interest, sign_in):
    said, department, _plie = interest
    page = sign_in(make_counsellor(department)).get("/conseiller/").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "<" not in title, title
    assert page.count('id="interests"') == 1
    assert page.count(f'id="interest-{said.id}"') == 1


def test_cest_note_takes_it_off_the_list(interest, sign_in):
    said, department, plie = interest
    browser = Browser(sign_in(make_counsellor(department)))
    response = browser.submit(f"/conseiller/interets/{said.id}/vu", {}, page="/conseiller/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/conseiller/"
    page = text_of(browser.get("/conseiller/"))
    assert "Noté : l'intérêt d'Amina pour « Immersion en boulangerie » est traité." in page
    assert _interest_cards(page) == []
    assert db.session.get(OfferInterest, said.id).acknowledged_at is not None
    # Taken in hand for the person: the PLIE's counsellor does not call her a second time.
    assert _interest_cards(text_of(sign_in(make_counsellor(plie)).get("/conseiller/"))) == []


def test_cest_note_with_htmx_answers_the_row(interest, sign_in):
    said, department, _plie = interest
    browser = Browser(sign_in(make_counsellor(department)))
    response = browser.submit(
        f"/conseiller/interets/{said.id}/vu", {}, page="/conseiller/", headers=HTMX
    )
    assert response.status_code == 200
    row = text_of(response)
    assert row.startswith('<li class="card" role="status">')
    assert "Immersion en boulangerie" in row
    assert db.session.get(OfferInterest, said.id).acknowledged_at is not None


def test_cest_note_escapes_what_it_repeats(app, sign_in):
    organisation = make_organisation()
    person = make_beneficiary(organisation, first_name="<b>Amina</b>")
    offer = make_offer(organisation, title="<script>alert(1)</script>")
    said = services.express_interest(person, offer, None).interest
    db.session.commit()
    browser = Browser(sign_in(make_counsellor(organisation)))
    row = browser.submit(
        f"/conseiller/interets/{said.id}/vu", {}, page="/conseiller/", headers=HTMX
    ).get_data(as_text=True)
    assert "<script>" not in row and "<b>" not in row


def test_another_organisations_counsellor_gets_a_404(interest, sign_in):
    said, _department, _plie = interest
    browser = Browser(sign_in(make_counsellor(make_organisation())))
    response = browser.submit(
        f"/conseiller/interets/{said.id}/vu", {}, page="/conseiller/offres/nouvelle"
    )
    assert response.status_code == 404
    assert db.session.get(OfferInterest, said.id).acknowledged_at is None
    missing = browser.submit("/conseiller/interets/999999/vu", {}, page="/conseiller/offres/")
    assert missing.status_code == 404


def test_cest_note_without_the_token_changes_nothing(interest, sign_in):
    said, department, _plie = interest
    client = sign_in(make_counsellor(department))
    assert client.post(f"/conseiller/interets/{said.id}/vu").status_code == 400
    assert db.session.get(OfferInterest, said.id).acknowledged_at is None


def test_a_person_cannot_reach_the_to_do(interest, sign_in):
    said, _department, _plie = interest
    person_client = sign_in(said.beneficiary)
    assert person_client.get("/conseiller/").status_code == 403


# -- Offers entered by counsellors ----------------------------------------------------------------


def _offer_form(**overrides) -> dict:
    today = paris_today()
    form = {
        "kind": "volunteering",
        "title": "Bénévolat à l'épicerie solidaire",
        "provider_name": "Les Restos du Cœur",
        "description": "Accueillir les familles, ranger les rayons.",
        "address": "12 rue Vauban",
        "postal_code": "68000",
        "city": "Colmar",
        "starts_on": (today + timedelta(days=7)).isoformat(),
        "ends_on": (today + timedelta(days=90)).isoformat(),
        "hours_per_week": "6",
        "seats": "3",
        "url": "",
        "expires_on": "",
    }
    form.update(overrides)
    return form


@pytest.fixture
def staff(app, sign_in):
    organisation = make_organisation(slug="dep-68", department_code="68")
    counsellor = make_counsellor(organisation)
    return Browser(sign_in(counsellor)), counsellor


def _offers() -> list[Offer]:
    return list(db.session.scalars(select(Offer).order_by(Offer.id)))


def test_a_counsellor_adds_an_offer_people_nearby_find_at_once(staff, sign_in):
    browser, counsellor = staff
    response = browser.submit("/conseiller/offres/nouvelle", _offer_form())
    assert response.status_code == 302
    (offer,) = _offers()
    assert response.headers["Location"] == f"/offres/{offer.id}"
    assert offer.organisation_id == counsellor.organisation_id
    assert offer.created_by_id == counsellor.id
    assert offer.located_by_postal_code is True and offer.latitude is not None
    assert (offer.kind.value, offer.hours_per_week, offer.seats) == ("volunteering", 6.0, 3)
    assert "L'offre est enregistrée" in text_of(browser.get(response.headers["Location"]))

    near = sign_in(make_beneficiary(postal_code="68000"))  # Colmar
    assert titles_in(near.get("/offres/")) == ["Bénévolat à l'épicerie solidaire"]
    assert titles_in(near.get("/offres/?q=epicerie+coeur")) == ["Bénévolat à l'épicerie solidaire"]
    far = sign_in(make_beneficiary(postal_code="29000"))  # Quimper
    assert titles_in(far.get("/offres/")) == []
    # Listed on the organisation's page, with its edit link.
    listing = browser.get("/conseiller/offres/").get_data(as_text=True)
    assert f'href="/conseiller/offres/{offer.id}/modifier"' in listing


def test_the_back_office_reads_an_offer_entered_on_the_portal(staff, client):
    browser, counsellor = staff
    browser.submit("/conseiller/offres/nouvelle", _offer_form())
    (offer,) = _offers()
    answered = api_of(client, counsellor.organisation).get(f"/offers/{offer.external_id}")
    assert answered.status_code == 200
    assert answered.get_json()["title"] == "Bénévolat à l'épicerie solidaire"
    assert answered.get_json()["latitude"] is None  # placed by its postal code only


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"postal_code": "99999"}, "postal_code", "Ce code postal n'existe pas."),
        ({"postal_code": "abc"}, "postal_code", "Un code postal a 5 chiffres."),
        ({"postal_code": "6800"}, "postal_code", "Un code postal a 5 chiffres."),
        ({"postal_code": ""}, "postal_code", "Indiquez le code postal."),
        ({"title": ""}, "title", "Écrivez un titre."),
        ({"title": "   "}, "title", "Écrivez un titre."),
        ({"provider_name": ""}, "provider_name", "Écrivez le nom de l'entreprise"),
        ({"description": ""}, "description", "Écrivez ce que la personne fera."),
        (
            {
                "starts_on": (paris_today() + timedelta(days=10)).isoformat(),
                "ends_on": (paris_today() + timedelta(days=9)).isoformat(),
            },
            "ends_on",
            "La fin est avant le début.",
        ),
        ({"hours_per_week": "80"}, "hours_per_week", "Entre 1 et 60 heures."),
        ({"seats": "0"}, "seats", "Entre 1 et 10 000."),
        ({"url": "pas un lien"}, "url", "Ce lien n'est pas valide."),
        ({"kind": "internship"}, "kind", None),
        ({"starts_on": "bad"}, "starts_on", None),
    ],
)
def test_an_invalid_offer_is_refused_with_the_reason_and_what_was_typed(
    staff, overrides, field, message
):
    browser, _counsellor = staff
    typed = _offer_form(**overrides)
    response = browser.submit("/conseiller/offres/nouvelle", typed)
    assert response.status_code == 422
    page = text_of(response)
    assert "Vérifiez les champs signalés." in page
    assert f'id="{field}-error"' in page
    if message:
        assert message in page
    for name in ("title", "postal_code", "provider_name", "city", "starts_on", "url"):
        assert input_value(response, name) == typed[name], name
    description = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1)
    assert description.strip() == typed["description"].strip()
    assert _offers() == []


def test_a_counsellor_edits_an_offer_and_the_search_follows(staff, sign_in):
    browser, _counsellor = staff
    browser.submit("/conseiller/offres/nouvelle", _offer_form())
    (offer,) = _offers()
    url = f"/conseiller/offres/{offer.id}/modifier"
    form = browser.get(url)
    assert input_value(form, "title") == "Bénévolat à l'épicerie solidaire"
    assert input_value(form, "postal_code") == "68000"
    assert '<option selected value="volunteering">' in form.get_data(as_text=True)

    moved = _offer_form(title="Bénévolat à la banque alimentaire", postal_code="67600", city="")
    response = browser.submit(url, moved)
    assert response.status_code == 302
    assert len(_offers()) == 1
    db.session.refresh(offer)
    assert (offer.title, offer.postal_code, offer.city) == (
        "Bénévolat à la banque alimentaire",
        "67600",
        None,
    )
    near = sign_in(make_beneficiary(postal_code="67600"))  # Sélestat
    assert titles_in(near.get("/offres/?distance=5")) == ["Bénévolat à la banque alimentaire"]
    assert titles_in(near.get("/offres/?q=epicerie&distance=tout")) == []
    assert titles_in(near.get("/offres/?lieu=68000&distance=5")) == []

    refused = browser.submit(url, _offer_form(postal_code="abc"))
    assert refused.status_code == 422
    db.session.refresh(offer)
    assert offer.postal_code == "67600"


def test_a_counsellor_withdraws_an_offer_and_it_is_gone_at_once(staff, sign_in):
    browser, _counsellor = staff
    browser.submit("/conseiller/offres/nouvelle", _offer_form())
    (offer,) = _offers()
    person = sign_in(make_beneficiary(postal_code="68000"))
    assert titles_in(person.get("/offres/")) == ["Bénévolat à l'épicerie solidaire"]
    response = browser.submit(
        f"/conseiller/offres/{offer.id}/retirer", {}, page="/conseiller/offres/"
    )
    assert response.status_code == 302
    assert titles_in(person.get("/offres/")) == []
    assert titles_in(person.get("/offres/?distance=tout")) == []
    assert person.get(f"/offres/{offer.id}").status_code == 404
    listing = text_of(browser.get("/conseiller/offres/"))
    assert "L'offre est retirée" in listing
    assert "Bénévolat à l'épicerie solidaire" not in listing
    # Withdrawn, it can be neither edited nor withdrawn again.
    assert browser.get(f"/conseiller/offres/{offer.id}/modifier").status_code == 404
    again = browser.submit(f"/conseiller/offres/{offer.id}/retirer", {}, page="/conseiller/offres/")
    assert again.status_code == 404


def test_another_organisations_offer_can_be_neither_edited_nor_withdrawn(staff, sign_in):
    _browser, _counsellor = staff
    theirs = make_offer(make_organisation(), title="Leur offre")
    outsider = Browser(sign_in(make_counsellor(make_organisation())))
    assert outsider.get(f"/conseiller/offres/{theirs.id}/modifier").status_code == 404
    edited = outsider.submit(
        f"/conseiller/offres/{theirs.id}/modifier",
        _offer_form(title="Piratée"),
        page="/conseiller/offres/nouvelle",
    )
    assert edited.status_code == 404
    withdrawn = outsider.submit(
        f"/conseiller/offres/{theirs.id}/retirer", {}, page="/conseiller/offres/"
    )
    assert withdrawn.status_code == 404
    db.session.refresh(theirs)
    assert (theirs.title, theirs.withdrawn_at) == ("Leur offre", None)


def test_a_back_office_offer_is_not_rewritten_behind_the_back_offices_back(app, sign_in):
    """The list shows no 'Modifier' for offers the back office sent. A form posted anyway
    must be refused, or at least keep what it does not show: the ROME code, the offer's
    own coordinates (which the API answers back)."""
    organisation = make_organisation()
    offer = make_offer(organisation, latitude=48.6, longitude=7.8, rome_code="D1102")
    browser = Browser(sign_in(make_counsellor(organisation)))
    listing = browser.get("/conseiller/offres/").get_data(as_text=True)
    assert f"/conseiller/offres/{offer.id}/modifier" not in listing
    same = _offer_form(
        kind="immersion",
        title=offer.title,
        provider_name=offer.provider_name,
        description=offer.description,
        address=offer.address,
        postal_code=offer.postal_code,
        city=offer.city,
        starts_on=offer.starts_on.isoformat(),
        ends_on=offer.ends_on.isoformat(),
        hours_per_week="35",
        seats="2",
    )
    response = browser.submit(f"/conseiller/offres/{offer.id}/modifier", same)
    db.session.refresh(offer)
    kept = (offer.rome_code, offer.latitude, offer.longitude, offer.located_by_postal_code)
    assert response.status_code == 404 or kept == ("D1102", 48.6, 7.8, False), kept


def test_a_person_cannot_enter_offers(app, sign_in):
    client = sign_in(make_beneficiary())
    assert client.get("/conseiller/offres/nouvelle").status_code == 403
    assert client.get("/conseiller/offres/").status_code == 403

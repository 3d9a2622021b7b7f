"""Offers near me on a phone: search, one offer, "Ça m'intéresse", and the counsellor's to-do.

In French and in Arabic (right to left), with htmx and without JavaScript, with no
accessibility violation. Offers are placed around Strasbourg (67000) at known distances.
"""

import math
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.extensions import db
from portal.offers import services
from portal.offers.models import Offer, OfferInterest, OfferKind
from tests.factories import PASSWORD, make_beneficiary, make_counsellor, make_organisation

# Strasbourg (67000) as the portal's places table has it.
STRASBOURG = (48.5839, 7.7455)
KM_PER_DEGREE = 111.195

NEAR_KITCHEN = "Découvrir le métier de commis de cuisine"  # immersion, 600 m
KITCHEN_TRAINING = "Formation aux métiers de la cuisine collective"  # training, 3 km
GROCERY = "Accueil à l'épicerie solidaire"  # volunteering, 7 km
CANTEEN = "Employé polyvalent de restauration"  # job, 12 km, "cuisine" in its text
FAR_KITCHEN = "Immersion en cuisine de restaurant"  # immersion, 35 km
COLMAR = "Commis de cuisine à Colmar"  # immersion, 65 km: never within 50 km

MESSAGE = "Je suis libre le matin, je n'ai pas de voiture."
MESSAGE_AR = "أنا متاحة في الصباح."
PHONE_NUMBER = "+33612345678"
TYPED_PHONE = "06 12 34 56 78"


def _near_strasbourg(km: float, bearing: float) -> tuple[float, float]:
    """A point about `km` from the centre of Strasbourg, `bearing` degrees from north."""
    latitude, longitude = STRASBOURG
    angle = math.radians(bearing)
    return (
        latitude + km * math.cos(angle) / KM_PER_DEGREE,
        longitude + km * math.sin(angle) / (KM_PER_DEGREE * math.cos(math.radians(latitude))),
    )


def _offer(organisation, external_id: str, kind: OfferKind, title: str, km: float, **fields):
    latitude, longitude = _near_strasbourg(km, fields.pop("bearing", 45))
    values = {
        "kind": kind.value,
        "title": title,
        "description": "Une activité près de chez vous.",
        "provider_name": "Entreprise partenaire",
        "postal_code": "67000",
        "city": "Strasbourg",
        "latitude": latitude,
        "longitude": longitude,
        **fields,
    }
    return services.upsert_offer(organisation, external_id, values).offer


def _offers_around_strasbourg(publisher) -> dict[str, int]:
    """Six offers from 600 m to 65 km; their ids by title."""
    offers = [
        _offer(
            publisher,
            "IMM-1",
            OfferKind.IMMERSION,
            NEAR_KITCHEN,
            0.6,
            bearing=40,
            provider_name="Restaurant Au Pont Corbeau",
            description="Deux semaines en cuisine avec le chef : préparer, dresser, ranger.",
            address="21 quai Saint-Nicolas",
        ),
        _offer(
            publisher,
            "FOR-1",
            OfferKind.TRAINING,
            KITCHEN_TRAINING,
            3,
            bearing=200,
            provider_name="Greta Strasbourg Europe",
            starts_on=date.today() + timedelta(days=30),
        ),
        _offer(
            publisher,
            "BEN-1",
            OfferKind.VOLUNTEERING,
            GROCERY,
            7,
            bearing=160,
            provider_name="Épicerie solidaire de la Meinau",
            description="Accueillir les clients et ranger les rayons, deux matinées par semaine.",
        ),
        _offer(
            publisher,
            "EMP-1",
            OfferKind.JOB,
            CANTEEN,
            12,
            bearing=100,
            provider_name="Cantine du Port du Rhin",
            description="Aider en cuisine et au service, 24 heures par semaine.",
        ),
        _offer(
            publisher,
            "IMM-2",
            OfferKind.IMMERSION,
            FAR_KITCHEN,
            35,
            bearing=300,
            provider_name="Auberge du Kochersberg",
            postal_code="67700",
            city="Saverne",
        ),
        _offer(
            publisher,
            "IMM-3",
            OfferKind.IMMERSION,
            COLMAR,
            65,
            bearing=200,
            provider_name="Brasserie de la Petite Venise",
            postal_code="68000",
            city="Colmar",
        ),
    ]
    db.session.commit()
    return {offer.title: offer.id for offer in offers}


def _person_and_offers(language: str = "fr"):
    """Amina (67000), followed by the Bas-Rhin; offers from another organisation."""
    follower = make_organisation(slug="bas-rhin")
    publisher = make_organisation(slug="plateforme-inclusion")
    person = make_beneficiary(follower, phone=PHONE_NUMBER, language=language)
    return person, follower, _offers_around_strasbourg(publisher)


def _titles(page: Page) -> list[str]:
    return page.locator("#resultats .offer-title").all_inner_texts()


def _mark_page(page: Page) -> None:
    """A mark that only a full page load removes."""
    page.evaluate("window.__sameDocument = true")


def _assert_same_document(page: Page, what: str) -> None:
    assert page.evaluate("window.__sameDocument === true"), f"{what} reloaded the whole page"


def _assert_fits_the_phone(page: Page, where: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{where} is {width}px wide on a 360px phone"


def _assert_nothing_required(page: Page, form: str, where: str) -> None:
    """Every field of these forms is optional: none may carry the `required` attribute.

    Otherwise the browser refuses to send the form (and htmx, which checks the form's
    validity first, never sends its request) until the person fills them all.
    """
    required = page.locator(f"{form} [required]").evaluate_all(
        "fields => fields.map(f => `${f.name} required=\"${f.getAttribute('required')}\"`)"
    )
    assert not required, f"{where}: optional fields marked required: {required}"


def _interests() -> list[tuple[int, str | None]]:
    db.session.rollback()  # read what the server committed
    return [(row.offer_id, row.message) for row in db.session.scalars(select(OfferInterest)).all()]


# --- 1. With htmx, in French and in Arabic ------------------------------------------


def test_search_open_and_say_interest_in_french(new_page, sign_in_by_sms, assert_accessible):
    _person, _follower, ids = _person_and_offers("fr")
    page = new_page("fr-FR")
    sign_in_by_sms(page, TYPED_PHONE)
    expect(page.locator("html")).to_have_attribute("dir", "ltr")

    page.get_by_role("link", name="Voir les offres").click()
    page.wait_for_url("**/offres/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Offres près de chez vous")
    count = page.locator("#results-count")
    expect(count).to_have_text("4 offres à moins de 20 km de Strasbourg (67000)")
    expect(page.get_by_label("Près de")).to_have_value("67000")
    assert _titles(page) == [NEAR_KITCHEN, KITCHEN_TRAINING, GROCERY, CANTEEN]
    expect(page.locator("#resultats li.card").first).to_contain_text("À 600 m")
    _assert_fits_the_phone(page, "the offer list")
    assert_accessible(page, "offer list (fr)")
    _assert_nothing_required(page, "form[role='search']", "the search form")

    # Words: htmx updates the list by itself and pushes the search into the URL.
    _mark_page(page)
    page.get_by_label("Mots").fill("cuisine")
    expect(count).to_have_text("3 offres à moins de 20 km de Strasbourg (67000)")
    expect(page).to_have_url(re.compile(r"/offres/\?.*\bq=cuisine\b"))
    assert _titles(page) == [NEAR_KITCHEN, KITCHEN_TRAINING, CANTEEN]

    # A type.
    page.get_by_label("Immersion en entreprise").check()
    expect(count).to_have_text("1 offre à moins de 20 km de Strasbourg (67000)")
    expect(page).to_have_url(re.compile(r"\btype=immersion\b"))
    assert _titles(page) == [NEAR_KITCHEN]

    # A longer distance.
    page.get_by_label("Distance", exact=True).select_option("50")
    expect(count).to_have_text("2 offres à moins de 50 km de Strasbourg (67000)")
    expect(page).to_have_url(re.compile(r"\bdistance=50\b"))
    assert _titles(page) == [NEAR_KITCHEN, FAR_KITCHEN]
    _assert_same_document(page, "filtering")
    assert_accessible(page, "filtered offer list (fr)")

    # The offer page: what an immersion (PMSMP) is.
    page.get_by_role("link", name=NEAR_KITCHEN).click()
    page.wait_for_url(f"**/offres/{ids[NEAR_KITCHEN]}?lieu=67000")
    expect(page.get_by_role("heading", level=1)).to_have_text(NEAR_KITCHEN)
    main = page.locator("main")
    expect(main).to_contain_text("Restaurant Au Pont Corbeau")
    expect(main).to_contain_text("À 600 m de Strasbourg (67000)")
    pmsmp = page.locator("section[aria-labelledby='pmsmp']")
    expect(pmsmp.get_by_role("heading", level=2)).to_have_text("Une immersion, c'est quoi ?")
    expect(pmsmp).to_contain_text("PMSMP")
    expect(pmsmp).to_contain_text("vous gardez votre RSA")
    _assert_fits_the_phone(page, "the offer page")
    assert_accessible(page, "offer page (fr)")
    _assert_nothing_required(page, "#interet form", "the interest form")

    # "Ça m'intéresse", with a message.
    _mark_page(page)
    page.get_by_label("Un message pour votre référent (si vous voulez)").fill(MESSAGE)
    page.get_by_role("button", name="Ça m'intéresse").click()
    interest = page.locator("#interet")
    expect(interest.get_by_role("heading", level=2)).to_have_text(
        "C'est noté : cette offre vous intéresse"
    )
    expect(interest).to_contain_text("Claire Muller le sait maintenant")
    expect(interest).to_contain_text(f"Votre message : {MESSAGE}")
    _assert_same_document(page, "saying interest")
    assert_accessible(page, "offer page after interest (fr)")
    assert _interests() == [(ids[NEAR_KITCHEN], MESSAGE)]

    # Reloading: the same state, no second button.
    page.reload()
    expect(interest.get_by_role("heading", level=2)).to_have_text(
        "C'est noté : cette offre vous intéresse"
    )
    expect(interest).to_contain_text(f"Votre message : {MESSAGE}")
    expect(page.get_by_role("button", name="Ça m'intéresse")).to_have_count(0)
    expect(interest.locator("textarea")).to_have_count(0)
    # Only the way back out is left, apart from the notice.
    expect(interest.get_by_role("button")).to_have_text(["Cette offre ne m'intéresse plus"])
    # The pathway shows it as a planned step.
    page.goto("/accueil")
    expect(page.locator("ol.timeline")).to_contain_text(NEAR_KITCHEN)


def test_search_open_and_say_interest_in_arabic(new_page, sign_in_by_sms, assert_accessible):
    """The same path by selectors that ignore the language, right to left."""
    _person, _follower, ids = _person_and_offers("ar")
    page = new_page("ar")
    sign_in_by_sms(page, TYPED_PHONE)
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")

    page.locator("main a[href='/offres/']").click()
    page.wait_for_url("**/offres/")
    count = page.locator("#results-count")
    expect(count).to_contain_text("4")
    expect(count).to_contain_text("Strasbourg (67000)")
    assert _titles(page) == [NEAR_KITCHEN, KITCHEN_TRAINING, GROCERY, CANTEEN]
    _assert_fits_the_phone(page, "the offer list (ar)")
    assert_accessible(page, "offer list (ar)")
    _assert_nothing_required(page, "form[role='search']", "the search form (ar)")

    _mark_page(page)
    page.locator("#q").fill("cuisine")
    expect(page).to_have_url(re.compile(r"\bq=cuisine\b"))
    expect(page.locator("#resultats .offer-title")).to_have_count(3)
    page.locator("input[name='type'][value='immersion']").check()
    expect(page.locator("#resultats .offer-title")).to_have_count(1)
    page.locator("#distance").select_option("50")
    expect(page.locator("#resultats .offer-title")).to_have_count(2)
    expect(count).to_contain_text("50")
    assert _titles(page) == [NEAR_KITCHEN, FAR_KITCHEN]
    _assert_same_document(page, "filtering (ar)")
    assert_accessible(page, "filtered offer list (ar)")

    page.locator(f"#resultats a[href^='/offres/{ids[NEAR_KITCHEN]}']").click()
    page.wait_for_url(f"**/offres/{ids[NEAR_KITCHEN]}?lieu=67000")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text(NEAR_KITCHEN)
    expect(page.locator("#pmsmp")).to_be_visible()
    expect(page.locator("section[aria-labelledby='pmsmp']")).to_contain_text("PMSMP")
    _assert_fits_the_phone(page, "the offer page (ar)")
    assert_accessible(page, "offer page (ar)")
    _assert_nothing_required(page, "#interet form", "the interest form (ar)")

    page.locator("#interet textarea[name='message']").fill(MESSAGE_AR)
    page.locator("#interet form button[type='submit']").click()
    status = page.locator("#interet [role='status']")
    expect(status).to_contain_text(MESSAGE_AR)
    expect(page.locator("#interet textarea")).to_have_count(0)
    assert_accessible(page, "offer page after interest (ar)")
    assert _interests() == [(ids[NEAR_KITCHEN], MESSAGE_AR)]

    page.reload()
    expect(page.locator("#interet [role='status']")).to_contain_text(MESSAGE_AR)
    # No second "interested" button: only the way back out, in Arabic.
    expect(page.locator("#interet button")).to_have_text(["هذا العرض لم يعد يهمني"])


# --- 2. Without JavaScript ------------------------------------------------------------


def test_filters_work_as_a_plain_form_without_javascript(
    new_page, sign_in_by_sms, assert_accessible
):
    _person, _follower, ids = _person_and_offers("fr")
    page = new_page("fr-FR", java_script_enabled=False)
    sign_in_by_sms(page, TYPED_PHONE)
    page.get_by_role("link", name="Voir les offres").click()
    page.wait_for_url("**/offres/")
    count = page.locator("#results-count")
    expect(count).to_have_text("4 offres à moins de 20 km de Strasbourg (67000)")
    _assert_nothing_required(page, "form[role='search']", "the search form (no JavaScript)")

    page.get_by_label("Mots").fill("cuisine")
    page.get_by_label("Immersion en entreprise").check()
    page.get_by_label("Distance", exact=True).select_option("50")
    page.get_by_role("button", name="Chercher").click()
    page.wait_for_url(re.compile(r"/offres/\?"))
    for pair in ("q=cuisine", "type=immersion", "lieu=67000", "distance=50"):
        assert pair in page.url, f"{pair} not in {page.url}"
    expect(count).to_have_text("2 offres à moins de 50 km de Strasbourg (67000)")
    assert _titles(page) == [NEAR_KITCHEN, FAR_KITCHEN]
    # The form shows the search it made.
    expect(page.get_by_label("Mots")).to_have_value("cuisine")
    expect(page.get_by_label("Immersion en entreprise")).to_be_checked()
    expect(page.get_by_label("Distance", exact=True)).to_have_value("50")

    # Another place, by its name.
    page.get_by_label("Près de").fill("Colmar")
    page.get_by_role("button", name="Chercher").click()
    page.wait_for_url(re.compile(r"\blieu=Colmar\b"))
    expect(count).to_have_text("1 offre à moins de 50 km de Colmar (68000)")
    assert _titles(page) == [COLMAR]

    # An unknown place: the message next to the field, what was typed kept.
    page.get_by_label("Près de").fill("Zzzyx")
    page.get_by_role("button", name="Chercher").click()
    page.wait_for_url(re.compile(r"\blieu=Zzzyx\b"))
    place = page.get_by_label("Près de")
    expect(place).to_have_value("Zzzyx")
    expect(place).to_have_attribute("aria-invalid", "true")
    error = page.locator("#lieu-error")
    expect(error).to_have_text(
        "Nous ne trouvons pas « Zzzyx ». Écrivez un code postal (5 chiffres) ou le nom d'une ville."
    )
    described_by = place.get_attribute("aria-describedby") or ""
    assert "lieu-error" in described_by.split(), described_by
    expect(count).to_have_text("Aucune offre")
    expect(page.locator("#resultats .offer-title")).to_have_count(0)
    _assert_fits_the_phone(page, "the unknown place")

    # axe needs JavaScript: the same URL, same session, in a page that runs it.
    error_url = page.url
    checked = new_page("fr-FR", storage_state=page.context.storage_state())
    checked.goto(error_url)
    expect(checked.locator("#lieu-error")).to_be_visible()
    expect(checked.get_by_label("Près de")).to_have_value("Zzzyx")
    assert_accessible(checked, "unknown place (no JavaScript)")

    # The interest, as a plain POST and redirect.
    page.goto("/offres/?q=cuisine&type=immersion")
    page.get_by_role("link", name=NEAR_KITCHEN).click()
    page.get_by_label("Un message pour votre référent (si vous voulez)").fill(MESSAGE)
    page.get_by_role("button", name="Ça m'intéresse").click()
    page.wait_for_url(f"**/offres/{ids[NEAR_KITCHEN]}#interet")
    expect(page.locator("#interet")).to_contain_text("C'est noté : cette offre vous intéresse")
    expect(page.locator("#interet")).to_contain_text(f"Votre message : {MESSAGE}")
    expect(page.get_by_role("button", name="Ça m'intéresse")).to_have_count(0)
    assert _interests() == [(ids[NEAR_KITCHEN], MESSAGE)]


# --- 3. Paging ------------------------------------------------------------------------


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_next_page(new_page, assert_accessible, javascript):
    publisher = make_organisation(slug="plateforme-inclusion")
    titles = [f"Formation n°{n:02d}" for n in range(1, 26)]
    for n, title in enumerate(titles):
        # 500 m to 14.9 km, nearest first by their number; a far one that never shows.
        _offer(publisher, f"FOR-{n}", OfferKind.TRAINING, title, 0.5 + 0.6 * n, bearing=n * 37)
    _offer(publisher, "FAR", OfferKind.TRAINING, "Formation à Mulhouse", 95, bearing=190)
    db.session.commit()

    page = new_page("fr-FR", java_script_enabled=javascript)
    page.goto("/offres/?lieu=67000&distance=20")
    count = page.locator("#results-count")
    expect(count).to_have_text("25 offres à moins de 20 km de Strasbourg (67000)")
    assert _titles(page) == titles[:20]
    pages = page.get_by_role("navigation", name="Pages")
    expect(pages).to_contain_text("Page 1 sur 2")
    expect(pages.get_by_role("link", name="Page précédente")).to_have_count(0)
    if javascript:
        _mark_page(page)

    pages.get_by_role("link", name="Page suivante").click()
    page.wait_for_url(re.compile(r"\bpage=2\b"))
    expect(pages).to_contain_text("Page 2 sur 2")
    assert "lieu=67000" in page.url and "distance=20" in page.url, page.url
    assert _titles(page) == titles[20:]
    expect(count).to_have_text("25 offres à moins de 20 km de Strasbourg (67000)")
    expect(pages.get_by_role("link", name="Page suivante")).to_have_count(0)
    if javascript:
        _assert_same_document(page, "paging")
        assert_accessible(page, "second page of offers")

    pages.get_by_role("link", name="Page précédente").click()
    page.wait_for_url(re.compile(r"\bpage=1\b"))
    expect(pages).to_contain_text("Page 1 sur 2")
    assert _titles(page) == titles[:20]


# --- 4. The counsellor ------------------------------------------------------------------


def test_counsellor_sees_the_interest_and_takes_it_in_hand(new_page, assert_accessible):
    person, follower, ids = _person_and_offers("fr")
    offer = db.session.get(Offer, ids[NEAR_KITCHEN])
    services.express_interest(person, offer, MESSAGE)
    # Someone another organisation follows: not for this counsellor.
    stranger = make_beneficiary(make_organisation(), first_name="Yannick", last_name="Le Gall")
    services.express_interest(stranger, db.session.get(Offer, ids[GROCERY]), "Pas pour vous.")
    db.session.commit()
    make_counsellor(follower, email="claire@example.org")

    staff = new_page("fr-FR")
    staff.goto("/conseiller/connexion")
    staff.fill("input[name='email']", "claire@example.org")
    staff.fill("input[name='password']", PASSWORD)
    staff.locator("main form button[type='submit']").click()
    staff.wait_for_url("**/conseiller/")
    expect(
        staff.get_by_role("heading", level=2, name=re.compile(r"^Intérêts pour une offre"))
    ).to_be_visible()
    cards = staff.locator("li[id^='interest-']")
    expect(cards).to_have_count(1)
    card = cards.first
    expect(card).to_contain_text("Diallo Amina")
    expect(card.get_by_role("link", name=NEAR_KITCHEN)).to_have_attribute(
        "href", f"/offres/{ids[NEAR_KITCHEN]}"
    )
    expect(card).to_contain_text(f"Son message : {MESSAGE}")
    expect(staff.locator("main")).not_to_contain_text("Yannick")
    _assert_fits_the_phone(staff, "the counsellor's to-do")
    assert_accessible(staff, "counsellor to-do with an interest")

    card.get_by_role("button", name=re.compile(r"^C'est noté")).click()
    expect(staff.locator("main [role='status']")).to_have_text(
        f"Noté : l'intérêt d'Amina pour « {NEAR_KITCHEN} » est traité."
    )
    expect(cards).to_have_count(0)
    staff.reload()
    expect(staff.locator("main")).to_contain_text("Aucun nouvel intérêt pour une offre.")
    expect(staff.locator("li[id^='interest-']")).to_have_count(0)
    assert_accessible(staff, "counsellor to-do, interest taken in hand")
    # The tab's title is the page's name, not its content.
    expect(staff).to_have_title(f"À faire · {follower.name}")

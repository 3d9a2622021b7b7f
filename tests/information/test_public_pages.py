"""The public pages: open before sign-in, linked from every page, saying what this
deployment's configuration says (publisher, contacts, retention periods)."""

import pytest

from tests.conftest import Browser
from tests.factories import make_beneficiary, make_counsellor

PAGES = ["/mentions-legales", "/donnees-personnelles", "/accessibilite", "/aide"]


@pytest.fixture
def app_config():
    return {
        "PUBLISHER_NAME": "Conseil départemental du Bas-Rhin",
        "PUBLISHER_ADDRESS": "Place du Quartier Blanc, 67964 Strasbourg Cedex 9",
        "PUBLICATION_DIRECTOR": "Présidente du Conseil départemental",
        "HOSTING_PROVIDER": "Hébergeur public, 1 rue de l'Exemple, 75000 Paris",
        "DPO_CONTACT": "dpo@bas-rhin.example.org",
        "ACCESSIBILITY_CONTACT": "accessibilite@bas-rhin.example.org",
        "HELP_PHONES": "Département du Bas-Rhin=03 88 76 67 67; ;Broken=not a number;"
        "Brest métropole=02 98 33 50 50",
        "RETENTION_SMS_BODY_DAYS": 45,
        "RETENTION_EVENT_DATA_MONTHS": 7,
    }


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("language", ["fr", "en", "ar"])
def test_each_page_opens_before_sign_in_in_each_language(client, page, language):
    response = client.get(page, headers={"Accept-Language": language})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert f'<html lang="{language}"' in text
    for other in PAGES:  # every page links to the others from its foot
        assert f'href="{other}"' in text


@pytest.mark.parametrize("page", ["/", "/connexion", "/conseiller/connexion"])
def test_the_pages_before_sign_in_link_to_help_and_the_legal_pages(client, page):
    text = client.get(page).get_data(as_text=True)
    for other in PAGES:
        assert f'href="{other}"' in text, other


def test_signed_in_pages_link_to_them_too_and_the_person_to_their_data(sign_in):
    person_page = sign_in(make_beneficiary()).get("/accueil").get_data(as_text=True)
    assert all(f'href="{page}"' in person_page for page in PAGES)
    assert 'href="/mes-donnees"' in person_page
    staff_page = sign_in(make_counsellor()).get("/conseiller/").get_data(as_text=True)
    assert all(f'href="{page}"' in staff_page for page in PAGES)
    assert 'href="/mes-donnees"' not in staff_page


def test_the_legal_notice_names_the_publisher_from_configuration(client):
    text = client.get("/mentions-legales").get_data(as_text=True)
    assert "Conseil départemental du Bas-Rhin" in text
    assert "Place du Quartier Blanc, 67964 Strasbourg Cedex 9" in text
    assert "Présidente du Conseil départemental" in text
    assert "Hébergeur public" in text


def test_the_personal_data_page_states_the_configured_periods_and_contacts(client):
    text = client.get("/donnees-personnelles").get_data(as_text=True)
    assert "Texte des SMS : 45 jours" in text
    assert "logiciel des organismes : 7 mois" in text
    assert "Codes de connexion non utilisés : 24 heures" in text  # the default
    assert "dpo@bas-rhin.example.org" in text
    assert "mission de service public" in text and "CNIL" in text


def test_the_accessibility_statement_has_the_rgaa_parts(client):
    text = client.get("/accessibilite").get_data(as_text=True)
    for part in (
        "État de conformité",
        "non conforme",
        "axe-core",
        "clavier",
        "lecteur d'écran",
        "Dérogations",
        "accessibilite@bas-rhin.example.org",
        "Défenseur des droits",
    ):
        assert part in text, part


def test_help_gives_the_configured_numbers_and_skips_a_broken_one(client):
    text = client.get("/aide").get_data(as_text=True)
    assert 'href="tel:+33388766767"' in text and "Département du Bas-Rhin" in text
    assert 'href="tel:+33298335050"' in text and "Brest métropole" in text
    assert "Broken" not in text
    assert "Je n'ai pas reçu le code" in text
    assert "Je n'ai pas de téléphone portable" in text


def test_the_code_page_points_to_help(client):
    browser = Browser(client)
    browser.submit("/connexion", {"phone": "06 12 34 56 78"})
    text = browser.get("/connexion/code").get_data(as_text=True)
    assert 'href="/aide#no-code"' in text

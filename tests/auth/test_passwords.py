"""The counsellors' password policy, and changing one's password from the account page."""

import pytest

from portal.core.hashing import verify_secret
from portal.extensions import db
from portal.organisations import services as organisations
from portal.organisations.passwords import password_problem
from tests.factories import PASSWORD, make_counsellor, make_organisation

EMAIL = "maelle.kerouac@finistere.demo"
NAME = "Maëlle Kerouac"


@pytest.mark.parametrize(
    ("password", "because"),
    [
        ("court-11-ca", "au moins 12 caractères"),
        ("x7#Lq" * 40 + "z", "200 caractères au plus"),
        ("Kerouac et les vagues 29", "ni votre nom ni votre adresse e-mail"),
        # Accents and capitals do not hide a name.
        ("MAELLE sous la pluie de Brest", "ni votre nom ni votre adresse e-mail"),
        ("maelle.kerouac!!", "ni votre nom ni votre adresse e-mail"),
        ("qwerty123456", "fait partie des plus utilisés"),
        ("mailcreated5240", "fait partie des plus utilisés"),
        ("azertyuiopqs", "trop facile à deviner"),
        ("aaaaaaaaaaaaaaaa", "trop facile à deviner"),
        ("bonjour123456", "trop facile à deviner"),
    ],
)
def test_the_policy_refuses_and_says_why(app, password, because):
    problem = password_problem(password, EMAIL, NAME)
    assert problem is not None and because in problem


@pytest.mark.parametrize(
    "password",
    [PASSWORD, "Tournesol vif sous la pluie 42", "marmotte-escalier-violon-7", "x7#Lq" * 40],
)
def test_the_policy_accepts_long_unguessable_passwords(app, password):
    assert password_problem(password, EMAIL, NAME) is None


def test_short_name_pieces_do_not_refuse_half_the_dictionary(app):
    # "Le" in "Yann Le Goff" is too short to count; "goff" is not.
    assert password_problem("Le tournesol vif sous la pluie", "yann@x.org", "Yann Le Goff") is None
    assert password_problem("Goff sous la pluie vive", "yann@x.org", "Yann Le Goff") is not None


def test_create_counsellor_applies_the_policy(app):
    organisation = make_organisation()
    with pytest.raises(organisations.OrganisationError, match="trop facile à deviner"):
        organisations.create_counsellor(organisation, "a@example.org", "Ana Lima", "azertyuiopqs")
    with pytest.raises(organisations.OrganisationError, match="au moins 12"):
        organisations.create_counsellor(organisation, "a@example.org", "Ana Lima", "short")


def _change(browser, current, new, confirmation=None):
    return browser.submit(
        "/conseiller/compte/mot-de-passe",
        {
            "current_password": current,
            "new_password": new,
            "confirmation": new if confirmation is None else confirmation,
        },
        page="/conseiller/compte",
    )


@pytest.fixture
def counsellor_browser(sign_in):
    from tests.conftest import Browser

    counsellor = make_counsellor(email="claire.muller@example.org")
    return counsellor, Browser(sign_in(counsellor))


def test_the_account_page_changes_the_password_and_ends_other_sessions(sign_in, counsellor_browser):
    counsellor, browser = counsellor_browser
    elsewhere = sign_in(counsellor)
    assert elsewhere.get("/conseiller/").status_code == 200

    response = _change(browser, PASSWORD, "marmotte-escalier-violon-7")
    assert response.status_code == 302
    assert response.headers["Location"] == "/conseiller/compte"
    page = browser.get("/conseiller/compte").get_data(as_text=True)
    assert "Votre mot de passe est changé" in page
    db.session.refresh(counsellor)
    assert verify_secret(counsellor.password_hash, "marmotte-escalier-violon-7")
    # This device stays signed in; the other one is out.
    assert browser.get("/conseiller/").status_code == 200
    assert elsewhere.get("/conseiller/").status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "confirmation", "message"),
    [
        (
            "not my password",
            "marmotte-escalier-violon-7",
            None,
            "Ce n&#39;est pas votre mot de passe",
        ),
        (PASSWORD, "azertyuiopqs", None, "trop facile à deviner"),
        (PASSWORD, "Claire dans le jardin 2026", None, "ni votre nom"),
        (PASSWORD, "marmotte-escalier-violon-7", "marmotte-escalier-violon-8", "pas les mêmes"),
    ],
)
def test_a_refused_change_says_what_to_do_next_to_the_field(
    counsellor_browser, current, new, confirmation, message
):
    counsellor, browser = counsellor_browser
    before = counsellor.password_hash
    response = _change(browser, current, new, confirmation)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-invalid="true"' in page
    assert new not in page  # a password is never sent back
    db.session.refresh(counsellor)
    assert counsellor.password_hash == before
    assert browser.get("/conseiller/").status_code == 200


def test_password_changes_are_rate_limited_per_account(counsellor_browser):
    _counsellor, browser = counsellor_browser
    statuses = [_change(browser, f"guess-{n:08d}", "x").status_code for n in range(11)]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429

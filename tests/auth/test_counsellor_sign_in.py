from tests.factories import PASSWORD, make_counsellor


def test_a_counsellor_signs_in_with_email_and_password(browser):
    counsellor = make_counsellor(email="claire.muller@example.org")
    response = browser.submit(
        "/conseiller/connexion", {"email": "Claire.Muller@Example.org ", "password": PASSWORD}
    )
    assert response.status_code == 302
    page = browser.get("/conseiller/").get_data(as_text=True)
    assert f"Bonjour {counsellor.name}" in page


def test_every_failure_gives_the_same_generic_message(browser):
    make_counsellor(email="claire.muller@example.org")
    wrong_password = browser.submit(
        "/conseiller/connexion", {"email": "claire.muller@example.org", "password": "nope" * 4}
    )
    unknown_email = browser.submit(
        "/conseiller/connexion", {"email": "nobody@example.org", "password": PASSWORD}
    )
    for response in (wrong_password, unknown_email):
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "Adresse e-mail ou mot de passe incorrect." in page
    assert 'value="claire.muller@example.org"' in wrong_password.get_data(as_text=True)
    assert browser.get("/conseiller/").status_code == 302


def test_a_disabled_account_cannot_sign_in(browser):
    from portal.extensions import db

    counsellor = make_counsellor(email="gone@example.org")
    counsellor.is_enabled = False
    db.session.commit()
    response = browser.submit(
        "/conseiller/connexion", {"email": "gone@example.org", "password": PASSWORD}
    )
    assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)


def test_password_guessing_is_rate_limited(browser):
    make_counsellor(email="claire.muller@example.org")
    statuses = [
        browser.submit(
            "/conseiller/connexion",
            {"email": "claire.muller@example.org", "password": f"guess-{n:08d}"},
        ).status_code
        for n in range(12)
    ]
    assert statuses[:10] == [200] * 10
    assert statuses[10:] == [429, 429]
    # Even the right password waits now: that is what stops a guesser.
    blocked = browser.submit(
        "/conseiller/connexion", {"email": "claire.muller@example.org", "password": PASSWORD}
    )
    assert blocked.status_code == 429
    assert "Attendez quelques minutes" in blocked.get_data(as_text=True)

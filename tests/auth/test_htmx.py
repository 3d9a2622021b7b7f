"""With htmx, the forms answer their fragment alone; without it, the whole page."""

from tests.factories import make_beneficiary

HTMX = {"HX-Request": "true"}


def test_a_refused_number_swaps_the_form_only(browser):
    response = browser.submit("/connexion", {"phone": "01 23 45 67 89"}, headers=HTMX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in page and page.lstrip().startswith("<form")
    assert "ne semble pas être un portable" in page
    assert 'value="01 23 45 67 89"' in page
    assert "autofocus" in page  # focus goes back to the field to fix


def test_an_accepted_number_moves_to_the_code_page_as_a_full_load(browser):
    response = browser.submit("/connexion", {"phone": "06 12 34 56 78"}, headers=HTMX)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/connexion/code"


def test_without_htmx_the_same_posts_answer_whole_pages(browser):
    refused = browser.submit("/connexion", {"phone": "01 23 45 67 89"})
    assert "<html" in refused.get_data(as_text=True)
    accepted = browser.submit("/connexion", {"phone": "06 12 34 56 78"})
    assert accepted.status_code == 302


def test_a_wrong_code_swaps_the_form_and_a_right_one_goes_home(browser, request_code):
    make_beneficiary(phone="+33612345678")
    code = request_code("06 12 34 56 78")
    wrong = browser.submit("/connexion/code", {"code": "12345a"}, headers=HTMX)
    assert wrong.get_data(as_text=True).lstrip().startswith("<form")
    right = browser.submit("/connexion/code", {"code": code}, headers=HTMX)
    assert right.headers["HX-Redirect"] == "/"


def test_the_rate_limit_message_reaches_htmx_as_a_fragment(browser):
    for _ in range(3):
        browser.submit("/connexion", {"phone": "06 12 34 56 78"})
    response = browser.submit("/connexion", {"phone": "06 12 34 56 78"}, headers=HTMX)
    assert response.status_code == 200
    assert "Trop de codes demandés" in response.get_data(as_text=True)

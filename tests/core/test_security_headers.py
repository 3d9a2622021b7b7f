"""Security headers on every answer; no page kept in any cache, static files cached."""

import re
from pathlib import Path

import pytest

from portal import create_app
from portal.core.security_headers import CONTENT_SECURITY_POLICY
from tests.factories import make_beneficiary, make_counsellor

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.fixture
def signed_in(sign_in):
    return sign_in(make_beneficiary(first_name="Amina"))


def _directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def test_the_content_security_policy_is_strict(client):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert _directives(policy) == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
        "object-src": "'none'",
    }
    assert "unsafe" not in policy


def test_no_framing(client):
    headers = client.get("/").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"


def test_nosniff(client):
    assert client.get("/").headers["X-Content-Type-Options"] == "nosniff"


def test_referrer_policy_same_origin(client):
    assert client.get("/").headers["Referrer-Policy"] == "same-origin"


def test_permissions_policy_turns_off_camera_microphone_and_location(client):
    policy = client.get("/").headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment"):
        assert f"{feature}=()" in policy


def test_cross_origin_opener_policy(client):
    assert client.get("/").headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_hsts_when_the_portal_is_served_in_https(client):
    # The tests' PORTAL_BASE_URL is https://portail.test.
    hsts = client.get("/", base_url="https://portail.test").headers["Strict-Transport-Security"]
    assert re.fullmatch(r"max-age=(\d+); includeSubDomains", hsts)
    assert int(hsts.split("=")[1].split(";")[0]) >= 365 * 24 * 3600


def test_no_hsts_on_the_laptop_in_plain_http(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})
    assert app.config["PORTAL_BASE_URL"].startswith("http:")
    response = app.test_client().get("/")
    assert "Strict-Transport-Security" not in response.headers
    assert "Content-Security-Policy" in response.headers


def test_a_signed_in_page_is_never_stored(signed_in):
    response = signed_in.get("/accueil")
    assert response.status_code == 200
    assert "Amina" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", ["/", "/connexion", "/conseiller/connexion", "/nulle-part"])
def test_every_page_is_no_store_even_for_anyone(client, url):
    response = client.get(url)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_htmx_fragments_api_answers_and_redirects_are_no_store_too(client, signed_in, sign_in):
    fragment = signed_in.get("/offres/?q=x", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.get_data(as_text=True)
    assert fragment.headers["Cache-Control"] == "no-store"
    api = client.get("/api/v1/beneficiaries/DOS-1")
    assert api.status_code == 401
    assert api.headers["Cache-Control"] == "no-store"
    redirect = sign_in(make_counsellor()).get("/")
    assert redirect.status_code == 302
    assert redirect.headers["Cache-Control"] == "no-store"


def test_static_files_keep_their_caching(client):
    response = client.get("/static/css/portal.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers.get("ETag") or response.headers.get("Last-Modified")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def test_htmx_is_configured_for_the_policy(client):
    page = client.get("/connexion").get_data(as_text=True)
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page)
    assert config, "base.html must configure htmx"
    for setting in (
        '"includeIndicatorStyles":false',
        '"allowEval":false',
        '"historyCacheSize":0',
    ):
        assert setting in config.group(1)


INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "htmx code (hx-on, js:)": re.compile(r"hx-on|[\"']js:", re.IGNORECASE),
}


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_no_template_needs_unsafe_inline(template):
    source = template.read_text(encoding="utf-8")
    found = [kind for kind, pattern in INLINE.items() if pattern.search(source)]
    assert not found, f"{template.name}: {found} would be blocked by the CSP"

"""/healthz for the load balancer, and a 503 (not a 500) when the database is down.

The database is really down: a second app points at a PostgreSQL port nobody listens
on, or at a SQLite file in a folder that does not exist.
"""

import json
import logging

import pytest
from flask_login.utils import _create_identifier

from portal import create_app
from tests.conftest import _test_config

DEAD_DATABASES = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/portal",
    "sqlite": "sqlite:////nonexistent-folder/portal.sqlite",
}


def test_healthz_says_ok_with_no_personal_data(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "not_used"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_healthz_is_exempt_from_rate_limits_and_csrf(app, client):
    from flask_limiter import ExemptionScope

    from portal.extensions import limiter

    scope = limiter.limit_manager.exemption_scope(app, "health.healthz", "health")
    assert scope & ExemptionScope.DEFAULT and scope & ExemptionScope.APPLICATION
    assert [client.get("/healthz").status_code for _ in range(30)] == [200] * 30
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405  # not a CSRF refusal: it only reads


def test_healthz_pings_redis_when_the_limits_live_there(fake_twilio, _schema):
    app = create_app(
        {**_test_config(fake_twilio), "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15"}
    )
    with app.app_context():
        response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_tells_which_part_is_down(fake_twilio, _schema, caplog):
    app = create_app(
        {**_test_config(fake_twilio), "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"}
    )
    with app.app_context():
        response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "ok", "redis": "unavailable"}
    assert response.headers["Retry-After"] == "30"


@pytest.fixture(params=sorted(DEAD_DATABASES))
def dead_app(request, fake_twilio):
    """The tests' settings but a database that cannot be reached."""
    app = create_app(
        {**_test_config(fake_twilio), "SQLALCHEMY_DATABASE_URI": DEAD_DATABASES[request.param]}
    )
    with app.app_context():
        yield app


def _signed_in_client(app):
    """A client whose session names beneficiary 1: loading them needs the database."""
    client = app.test_client()
    with app.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as session:
        session.update({"_user_id": "b:1:" + "0" * 32, "_fresh": True, "_id": identifier})
    return client


def test_healthz_says_the_database_is_down(dead_app):
    response = dead_app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {
        "status": "unavailable",
        "database": "unavailable",
        "redis": "not_used",
    }


def test_a_page_answers_503_with_retry_after_and_one_log_line(dead_app, caplog):
    client = _signed_in_client(dead_app)
    with caplog.at_level(logging.INFO):
        response = client.get("/accueil")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" in response.headers
    page = response.get_data(as_text=True)
    assert "Le service est momentanément indisponible" in page
    assert "Se déconnecter" not in page  # rendered without asking the database again
    errors = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(errors) == 1, [record.getMessage() for record in errors]
    assert (
        errors[0].getMessage().startswith("database unreachable or busy on GET home.beneficiary:")
    )
    assert errors[0].exc_info is None and "\n" not in errors[0].getMessage()


def test_a_form_post_also_gets_the_503_page(dead_app):
    dead_app.config["WTF_CSRF_ENABLED"] = False
    response = _signed_in_client(dead_app).post("/parametres", data={"sms": "off"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"


@pytest.mark.parametrize(
    ("method", "url"), [("GET", "/nulle-part"), ("POST", "/parametres")], ids=["404", "csrf"]
)
def test_an_error_page_that_needs_the_database_becomes_the_503_page(dead_app, method, url):
    """A signed-in person's 404 or refused form: base.html asks who they are."""
    response = _signed_in_client(dead_app).open(url, method=method)
    assert response.status_code == 503
    assert "Le service est momentanément indisponible" in response.get_data(as_text=True)


def test_the_api_answers_problem_json_503(dead_app):
    response = dead_app.test_client().get(
        "/api/v1/beneficiaries/DOS-1", headers={"Authorization": "Bearer spi_x_not-a-real-key"}
    )
    assert response.status_code == 503
    # Flask-Limiter raises it to the end of the key's rate window when that is later.
    assert int(response.headers["Retry-After"]) >= 30
    assert response.mimetype == "application/problem+json"
    body = json.loads(response.get_data(as_text=True))
    assert body["status"] == 503
    assert body["title"] == "Service unavailable"
    assert body["type"].endswith(":service-unavailable")

"""SECRET_KEY: required and long in production, a random key kept in instance/ otherwise."""

import os
import stat

import pytest
from flask import Flask, session
from flask.sessions import SecureCookieSessionInterface

from portal import create_app
from portal.core.secret_key import ConfigurationError

LONG_KEY = "k" * 32


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in ("SECRET_KEY", "PORTAL_ENV", "PORTAL_BASE_URL", "SESSION_COOKIE_SECURE"):
        monkeypatch.delenv(name, raising=False)


def _app(tmp_path, **settings):
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite", **settings})


def _forged_cookie(key: str) -> str:
    """A session cookie for beneficiary 1, signed with `key`."""
    forger = Flask("forger")
    forger.secret_key = key
    return (
        SecureCookieSessionInterface()
        .get_signing_serializer(forger)
        .dumps({"_user_id": "b:1", "_fresh": True})
    )


def _session_from(app, cookie: str) -> dict:
    with app.test_request_context(headers={"Cookie": f"session={cookie}"}):
        return dict(session)


@pytest.mark.parametrize(
    "settings",
    [
        {"PORTAL_BASE_URL": "https://portail.example"},
        {"PORTAL_ENV": "production"},
        {"PORTAL_ENV": "production", "PORTAL_BASE_URL": "http://10.0.0.5:8000"},
    ],
    ids=["https", "production flag", "production flag over http"],
)
def test_production_refuses_to_start_without_a_key(monkeypatch, tmp_path, settings):
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match="set SECRET_KEY to a random value of at least 32"):
        _app(tmp_path)


def test_production_refuses_a_short_key(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "dev-only-not-secret")  # the old public default
    with pytest.raises(ConfigurationError, match="SECRET_KEY is too short"):
        _app(tmp_path)


def test_the_message_never_shows_the_key(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "short-but-secret")
    with pytest.raises(ConfigurationError) as refused:
        _app(tmp_path)
    assert "short-but-secret" not in str(refused.value)


def test_production_starts_with_a_long_key(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", LONG_KEY)
    assert _app(tmp_path).config["SECRET_KEY"] == LONG_KEY


def test_an_unknown_environment_name_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "prod")
    with pytest.raises(ConfigurationError, match="PORTAL_ENV must be one of"):
        _app(tmp_path)


def test_the_laptop_needs_no_set_up_and_keeps_its_random_key(tmp_path):
    first = _app(tmp_path, PORTAL_BASE_URL="http://127.0.0.1:5000")
    key = first.config["SECRET_KEY"]
    assert len(key) >= 32
    kept = os.path.join(first.instance_path, "secret_key")
    with open(kept, encoding="ascii") as file:
        assert file.read().strip() == key
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    # A restart (or a second worker) uses the same key: sessions stay valid.
    assert _app(tmp_path).config["SECRET_KEY"] == key


def test_a_laptop_instance_makes_its_own_key(tmp_path):
    from portal.core.secret_key import _instance_key

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one, other = _instance_key(str(tmp_path / "a")), _instance_key(str(tmp_path / "b"))
    assert one != other
    assert _instance_key(str(tmp_path / "a")) == one
    # An empty or damaged file is replaced, not trusted.
    (tmp_path / "a" / "secret_key").write_text("")
    assert len(_instance_key(str(tmp_path / "a"))) >= 32


def test_a_cookie_signed_with_the_old_public_default_is_not_accepted(tmp_path):
    app = _app(tmp_path)
    assert _session_from(app, _forged_cookie("dev-only-not-secret")) == {}
    # The same cookie signed with the app's own key would be read: the check is real.
    assert _session_from(app, _forged_cookie(app.config["SECRET_KEY"]))["_user_id"] == "b:1"

"""Portail SPI: the beneficiary-facing portal of the Service Public de l'Insertion."""

import logging
import math
import os
import time
from typing import Any

from flask import Flask, current_app, has_request_context, render_template, request, session
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import (
    cli,
    health,
    models,  # noqa: F401 - every model, before Alembic reads the metadata
)
from portal.admin.views import bp as admin_bp
from portal.api.views import bp as api_bp
from portal.appointments.views import bp as appointments_bp
from portal.auth import sessions
from portal.auth.forms import PhoneForm
from portal.auth.views import bp as auth_bp
from portal.config import Config
from portal.core import (
    formatting,
    log_privacy,
    secret_key,
    security_headers,
    sentences,
    static_files,
)
from portal.core.problems import ApiProblem, problem_response
from portal.core.web import RowIdConverter, page_or_fragment
from portal.counsellor.views import bp as counsellor_bp
from portal.extensions import babel, csrf, db, htmx, limiter, migrate
from portal.handover.views import bp as handover_bp
from portal.home.views import bp as home_bp
from portal.indicators.views import bp as indicators_bp
from portal.information.views import bp as information_bp
from portal.offers.views import bp as offers_bp
from portal.offers.views import staff_bp as offers_staff_bp
from portal.pathway.views import bp as pathway_bp
from portal.sms.views import bp as sms_bp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """The only place the app is assembled; tests pass their settings as overrides."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_object(Config(app.instance_path))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = os.path.join(ROOT, "translations")
    if overrides:
        app.config.update(overrides)
    secret_key.init_app(app)
    if app.config["SESSION_COOKIE_SECURE"] is None:
        app.config["SESSION_COOKIE_SECURE"] = app.config["PORTAL_BASE_URL"].startswith("https:")
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(app.config))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    log_privacy.init_app(app)

    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    _bind_extensions(app)
    # Before any rule is made: every <int:…> is a row id, and one past the id columns a 404.
    app.url_map.converters["int"] = RowIdConverter
    _register_blueprints(app)
    _register_error_pages(app)
    security_headers.init_app(app)
    _refuse_nul_characters(app)
    _register_commands(app)
    _register_template_helpers(app)
    health.init_app(app)  # last: it guards the error handlers registered before it
    return app


def _engine_options(config) -> dict[str, Any]:
    # A connection the database dropped (restart, failover) is replaced, not handed out.
    # Errors never carry the bound values (phone numbers, names) into the logs.
    options: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # psycopg prepares a statement after 5 runs, and PostgreSQL may then keep a
        # generic plan made when the tables were small (a sequential scan where an
        # index is now right): batch upserts fell from 3 600 to 850 a second at
        # 100 000 people. Planning each statement for its own values avoids that.
        # A database that does not answer fails a request (503) after 5 s, not minutes.
        options["connect_args"] = {"prepare_threshold": None, "connect_timeout": 5}
    return options


def select_locale() -> str:
    """The person's saved choice, then the session, then the browser, then French."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # a command or the worker: French, unless force_locale
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated:
        saved = getattr(current_user, "language", None)
        if saved in languages and session.get("language") in (None, saved):
            return saved
    if session.get("language") in languages:
        return session["language"]
    return request.accept_languages.best_match(list(languages)) or "fr"


def _bind_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    sentences.install(app, babel)
    htmx.init_app(app)
    limiter.init_app(app)
    sessions.init_app(app)
    static_files.init_app(app)


def _register_blueprints(app: Flask) -> None:
    app.register_blueprint(home_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(counsellor_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(indicators_bp)
    app.register_blueprint(pathway_bp)
    app.register_blueprint(appointments_bp)
    app.register_blueprint(offers_bp)
    app.register_blueprint(offers_staff_bp)
    app.register_blueprint(handover_bp)
    app.register_blueprint(information_bp)
    app.register_blueprint(sms_bp)
    app.register_blueprint(api_bp)


def _refuse_nul_characters(app: Flask) -> None:
    @app.before_request
    def no_nul_in_forms():
        # Nobody types U+0000, and PostgreSQL cannot store it: refuse the request whole.
        # (The API names the field in its own validation.)
        if request.path.startswith("/api/"):
            return None
        values = [*request.args.values(), *(request.form.values() if request.form else [])]
        if any("\x00" in value for value in values):
            message = _("Ce que vous avez envoyé contient un caractère invalide. Réessayez.")
            return render_template("errors.html", code=400, message=message), 400
        return None


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        app.logger.warning("CSRF refused on %s: %s", request.path, error.description)
        message = _("La page a expiré. Revenez en arrière, rechargez la page et recommencez.")
        return render_template("errors.html", code=400, message=message), 400

    def is_api() -> bool:
        return request.path.startswith("/api/")

    def api_problem(error: HTTPException, detail: str | None = None):
        db.session.rollback()
        headers = {}
        if error.code == 405 and getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(error.valid_methods)
        if error.code == 429:
            headers["Retry-After"] = str(_retry_after())
        return problem_response(
            ApiProblem(error.code, detail or error.description, headers=headers)
        )

    @app.errorhandler(429)
    def too_many(error: HTTPException):
        if is_api():
            return api_problem(
                error, "Too many requests for this key; wait for Retry-After seconds."
            )
        if request.endpoint == "auth.phone":
            # Keep what was typed: the same form, with the reason above it.
            form = PhoneForm(formdata=request.form, meta={"csrf": False})
            form.phone.errors = [
                _("Trop de codes demandés. Attendez quelques minutes avant de réessayer.")
            ]
            # htmx does not swap an error answer: give it the fragment as a success.
            return page_or_fragment(
                "auth/phone.html",
                "auth/_phone_form.html",
                status=200 if request.htmx else 429,
                form=form,
            )
        message = _("Trop d'essais. Attendez quelques minutes avant de réessayer.")
        return render_template("errors.html", code=429, message=message), 429

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if is_api():
            return api_problem(error)
        messages = {
            403: _("Cette page n'est pas pour votre compte."),
            404: _("Cette page n'existe pas ou plus."),
            405: _("Cette action n'est pas possible ici."),
            410: _("Ce lien ne marche plus."),
            413: _("Votre envoi est trop volumineux."),
        }
        message = messages.get(error.code, _("Votre demande n'a pas pu être traitée."))
        return render_template("errors.html", code=error.code, message=message), error.code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        app.logger.exception("unexpected error on %s", request.path)
        db.session.rollback()
        if is_api():
            return api_problem(InternalServerError(), "An unexpected error; it has been logged.")
        message = _("Un problème technique est survenu. Réessayez dans un moment.")
        return render_template("errors.html", code=500, message=message), 500


def _retry_after() -> int:
    """Seconds until the limit that refused this request lets a new one through."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))


def _register_commands(app: Flask) -> None:
    cli.register(app)


def _register_template_helpers(app: Flask) -> None:
    @app.context_processor
    def page_globals() -> dict[str, Any]:
        locale = str(get_locale())
        return {
            "languages": app.config["LANGUAGES"],
            "current_language": locale,
            "text_direction": "rtl" if locale in sentences.RTL_LANGUAGES else "ltr",
        }

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["datetime_human"] = formatting.datetime_human
    app.jinja_env.filters["when_relative"] = formatting.when_relative
    app.jinja_env.filters["date_human"] = formatting.date_human
    app.jinja_env.filters["date_short"] = formatting.date_short
    app.jinja_env.filters["time_human"] = formatting.time_human
    app.jinja_env.filters["phone_display"] = formatting.phone_display
    app.jinja_env.filters["format_number"] = formatting.number

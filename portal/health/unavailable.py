"""A database that cannot be reached gives a 503 with Retry-After, and one log line.

Not a 500 and a traceback per request: the page says to come back shortly, the API
answers problem+json, and the log says once per request which endpoint met which error.
"""

import functools
import logging

from flask import Flask, Response, g, json, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from portal.core.problems import TYPE_BASE
from portal.extensions import db, login_manager
from portal.health.views import _first_line

logger = logging.getLogger("portal.health")

RETRY_AFTER_SECONDS = 30


def register(app: Flask) -> None:
    # SQLAlchemy wraps the driver's connection failures (refused, dropped, timed out) as
    # OperationalError, and a use of a closed connection as InterfaceError; they are also
    # what a lock timeout or a serialization failure raises, for which "try again in a
    # moment" is as right. Other database errors keep the generic 500.
    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(InterfaceError, database_unavailable)
    _guard_error_pages(app)


def _guard_error_pages(app: Flask) -> None:
    """An error page (404, 403, CSRF…) needs the database too when someone is signed in
    (base.html asks who it is): if that fails, the answer is this 503, not a traceback.

    Wraps the handlers registered so far, hence create_app registers this last.
    """
    for scope in app.error_handler_spec.values():
        for handlers in scope.values():
            for kind, handler in list(handlers.items()):
                if handler is not database_unavailable:
                    handlers[kind] = _or_unavailable(app, handler)


def _or_unavailable(app: Flask, handler):
    @functools.wraps(handler)
    def guarded(error):
        try:
            return app.ensure_sync(handler)(error)
        except (OperationalError, InterfaceError) as database_error:
            return database_unavailable(database_error)

    return guarded


def database_unavailable(error: DBAPIError):
    logger.error(
        "database unreachable or busy on %s %s: %s",
        request.method,
        request.endpoint,
        _first_line(error),
    )
    try:
        db.session.rollback()
    # The connection is gone; the session is discarded at teardown.
    except Exception:  # nosec B110 # nothing to roll back on a dead connection
        pass
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/api/"):
        body = {
            "type": TYPE_BASE + "service-unavailable",
            "title": "Service unavailable",
            "status": 503,
            "detail": "The database cannot be reached; retry after Retry-After seconds.",
        }
        return Response(
            json.dumps(body), status=503, headers=headers, mimetype="application/problem+json"
        )
    # The page must not touch the database again: whoever was signed in is shown the
    # page as anyone (their session is kept).
    g._login_user = login_manager.anonymous_user()
    message = _("Le service est momentanément indisponible. Réessayez dans quelques instants.")
    return render_template("errors.html", code=503, message=message), 503, headers

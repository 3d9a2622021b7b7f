"""GET /healthz: can this instance serve? The database answers, and Redis when used.

Public and without personal data; no rate limit (the load balancer polls often) and no
CSRF (GET). Each check gives up quickly: the database connection after
connect_timeout (5 s, portal/__init__.py) and Redis after 1 s.
"""

import logging
from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from portal.auth.roles import public
from portal.extensions import csrf, db, limiter

logger = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

REDIS_TIMEOUT_SECONDS = 1.0
REDIS_SCHEMES = {"redis", "rediss"}


@bp.route("/healthz")
@limiter.exempt
@csrf.exempt
@public
def healthz():
    checks = {"database": _database(), "redis": _redis()}
    healthy = all(value in ("ok", "not_used") for value in checks.values())
    body = {"status": "ok" if healthy else "unavailable", **checks}
    response = jsonify(body)
    if not healthy:
        response.status_code = 503
        response.headers["Retry-After"] = "30"
    return response


def _database() -> str:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # whatever it is, this instance cannot serve
        logger.error("healthz: database unavailable (%s)", _first_line(error))
        return "unavailable"
    return "ok"


def _redis() -> str:
    uri = current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if urlsplit(uri).scheme not in REDIS_SCHEMES:
        return "not_used"
    import redis

    client = redis.Redis.from_url(
        uri, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except Exception as error:
        logger.error("healthz: redis unavailable (%s)", _first_line(error))
        return "unavailable"
    finally:
        client.close()
    return "ok"


def _first_line(error: Exception) -> str:
    """The error's class and first line: no SQL, no traceback."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0][:200] if lines else ''}"

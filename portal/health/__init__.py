"""Readiness for the load balancer (/healthz) and a 503, not a 500, when the database is down."""

from flask import Flask

from portal.health.unavailable import register
from portal.health.views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register(app)

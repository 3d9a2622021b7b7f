"""The API blueprint: each resource module registers its own routes on it."""

from portal.api import (  # noqa: F401 - imported for the routes they register
    appointments,
    beneficiaries,
    events,
    indicators,
    offers,
    openapi,
    slots,
    steps,
)
from portal.api.routing import bp

__all__ = ["bp"]

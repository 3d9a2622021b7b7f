"""Recording what happened, in the caller's transaction (no change without its event)."""

import logging
from typing import Any

from portal.beneficiaries.models import Beneficiary
from portal.events.models import Event
from portal.extensions import db

logger = logging.getLogger(__name__)


def record_event(
    type_: str, beneficiary: Beneficiary | None, data: dict[str, Any] | None = None
) -> Event:
    """Adds an event to the session; it commits, or rolls back, with the change it describes."""
    event = Event(type=type_, beneficiary=beneficiary, data=data or {})
    db.session.add(event)
    db.session.flush()
    return event

"""Opting out of SMS and back in: STOP and START answers, and the settings page."""

import unicodedata

from sqlalchemy import select

from portal.beneficiaries.models import Beneficiary
from portal.events.services import record_event
from portal.extensions import db

STOP_WORDS = frozenset(
    {"STOP", "ARRET", "ARRETER", "STOP SMS", "STOPSMS", "STOPALL", "UNSUBSCRIBE"}
)
START_WORDS = frozenset({"START", "UNSTOP", "DEMARRER", "REPRENDRE"})


def keyword(body: str) -> str:
    """'Arrêt !' -> 'ARRET': accents, case, punctuation and spacing do not count."""
    decomposed = unicodedata.normalize("NFKD", body or "")
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = "".join(c if c.isalnum() else " " for c in letters.upper()).split()
    return " ".join(words)


def set_sms_opt_out(person: Beneficiary, opted_out: bool, by: str) -> bool:
    """Switches SMS off or on for the person, with its event; False when nothing changed."""
    if person.sms_opted_out == opted_out:
        return False
    person.sms_opted_out = opted_out
    record_event(
        "beneficiary.sms_opted_out" if opted_out else "beneficiary.sms_opted_in", person, {"by": by}
    )
    db.session.flush()
    return True


def handle_inbound(from_number: str, body: str) -> str | None:
    """STOP or START from a phone: applies to everyone who uses that number (a couple
    shares one), in every organisation. Returns 'stop', 'start' or None."""
    word = keyword(body)
    if word in STOP_WORDS:
        opted_out = True
    elif word in START_WORDS:
        opted_out = False
    else:
        return None
    people = db.session.scalars(select(Beneficiary).where(Beneficiary.phone == from_number)).all()
    for person in people:
        set_sms_opt_out(person, opted_out, by="sms")
    return "stop" if opted_out else "start"

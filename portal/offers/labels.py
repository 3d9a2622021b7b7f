"""Words for offer kinds and how far an offer is, in the person's language."""

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.offers.models import OfferKind

KIND_LABELS = {
    OfferKind.IMMERSION: _l("Immersion en entreprise"),
    OfferKind.TRAINING: _l("Formation"),
    OfferKind.VOLUNTEERING: _l("Bénévolat"),
    OfferKind.JOB: _l("Emploi"),
}


def kilometres(distance: float) -> str:
    """'800 m', '3,4 km', '27 km': as precise as it is useful."""
    if distance < 1:
        return _("%(metres)s m", metres=format_decimal(max(100, round(distance * 10) * 100)))
    pattern = "#,##0.#" if distance < 10 else "#,##0"
    return _("%(km)s km", km=format_decimal(distance, format=pattern))

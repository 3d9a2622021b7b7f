from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from portal.core.forms import strip
from portal.handover.models import REASON_MAX

_REASON_LENGTH = Length(max=REASON_MAX, message=_l("500 caractères au plus."))


class ProposeForm(FlaskForm):
    """Which other organisation following the person should lead, and why."""

    organisation = RadioField(
        _l("Organisation qui prendrait le relais"),
        choices=[],
        validate_choice=False,  # checked below, with a message in the counsellor's language
    )
    reason = TextAreaField(
        _l("Motif"),
        filters=[strip],
        validators=[
            DataRequired(_l("Écrivez le motif : l'autre organisation le lira.")),
            _REASON_LENGTH,
        ],
        description=_l("Par exemple : la personne commence une formation suivie par le PLIE."),
    )

    def validate_organisation(self, field) -> None:
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Choisissez une organisation de la liste."))


class RefuseForm(FlaskForm):
    reason = TextAreaField(
        _l("Motif du refus"),
        filters=[strip],
        validators=[
            DataRequired(_l("Écrivez le motif du refus : l'autre organisation le lira.")),
            _REASON_LENGTH,
        ],
    )

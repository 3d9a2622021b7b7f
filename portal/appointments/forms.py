from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.appointments.models import MAX_CAPACITY, SlotMode, SlotPurpose
from portal.core.forms import BoundedIntegerField, strip
from portal.core.web import is_https_url


def _reason_for_the_person(label, example) -> TextAreaField:
    """A reason the person will read in an SMS: required, short."""
    return TextAreaField(
        label,
        validators=[
            DataRequired(_l("Écrivez un motif : la personne le lira dans un SMS.")),
            Length(max=300, message=_l("300 caractères au plus.")),
        ],
        description=example,
    )


class DeclineForm(FlaskForm):
    reason = _reason_for_the_person(
        _l("Motif (la personne le lira)"),
        _l("Par exemple : je suis absente ce jour-là, choisissez un autre moment."),
    )


class CancelForm(FlaskForm):
    reason = _reason_for_the_person(
        _l("Motif de l'annulation (la personne le lira)"),
        _l("Par exemple : je suis malade, je vous propose un autre moment."),
    )


class OutcomeForm(FlaskForm):
    outcome = RadioField(
        _l("Le rendez-vous a eu lieu ?"),
        choices=[
            SelectChoice("attended", _l("Présence")),
            SelectChoice("no_show", _l("Absence sans prévenir")),
            SelectChoice("excused", _l("Absence excusée")),
        ],
        validators=[InputRequired(_l("Choisissez ce qui s'est passé."))],
    )


def _https(_form, field) -> None:
    if field.data and not is_https_url(field.data):
        raise ValidationError(_l("Collez un lien qui commence par https://"))


MODE_CHOICES = [
    SelectChoice(SlotMode.IN_PERSON.value, _l("Sur place")),
    SelectChoice(SlotMode.PHONE.value, _l("Par téléphone")),
    SelectChoice(SlotMode.VIDEO.value, _l("En vidéo")),
]
PURPOSE_CHOICES = [
    SelectChoice(SlotPurpose.ORIENTATION.value, _l("Orientation")),
    SelectChoice(SlotPurpose.FOLLOW_UP.value, _l("Suivi")),
    SelectChoice(SlotPurpose.CONTRACT.value, _l("Contrat d'engagement")),
    SelectChoice(SlotPurpose.OTHER.value, _l("Autre")),
]


class SlotForm(FlaskForm):
    first_day = DateField(_l("Jour"), validators=[InputRequired(_l("Choisissez un jour."))])
    time = TimeField(_l("Heure"), validators=[InputRequired(_l("Choisissez une heure."))])
    until_time = TimeField(
        _l("Jusqu'à (facultatif)"),
        validators=[Optional()],
        description=_l("Plusieurs moments à la suite, le dernier finit avant cette heure."),
    )
    duration_minutes = BoundedIntegerField(
        _l("Durée en minutes"),
        default=30,
        validators=[
            InputRequired(_l("Indiquez une durée.")),
            NumberRange(min=10, max=240, message=_l("Entre 10 et 240 minutes.")),
        ],
    )
    mode = SelectField(_l("Comment"), choices=MODE_CHOICES, default=SlotMode.IN_PERSON.value)
    location = StringField(
        _l("Adresse (pour un rendez-vous sur place)"),
        validators=[Optional(), Length(max=300, message=_l("300 caractères au plus."))],
    )
    video_url = StringField(
        _l("Lien de la vidéo (facultatif, pour un rendez-vous en vidéo)"),
        filters=[strip],
        validators=[Optional(), Length(max=500, message=_l("500 caractères au plus.")), _https],
        description=_l("La personne le voit 30 minutes avant. Sans lien, appelez-la."),
    )
    purpose = SelectField(_l("Objet"), choices=PURPOSE_CHOICES, default=SlotPurpose.FOLLOW_UP.value)
    repeat_until = DateField(
        _l("Répéter chaque semaine jusqu'au (facultatif)"), validators=[Optional()]
    )
    capacity = BoundedIntegerField(
        _l("Nombre de places"),
        default=1,
        validators=[
            Optional(),
            NumberRange(min=1, max=MAX_CAPACITY, message=_l("Entre 1 et 200 places.")),
        ],
        description=_l("Plus d'une place : une réunion collective (information, atelier)."),
    )
    title = StringField(
        _l("Titre de la réunion (facultatif)"),
        validators=[Optional(), Length(max=120, message=_l("120 caractères au plus."))],
        description=_l("Par exemple : Réunion d'information : vos droits et devoirs."),
    )

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    URL,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core.forms import BoundedDecimalField, BoundedIntegerField
from portal.offers.labels import KIND_LABELS
from portal.offers.models import OfferKind
from portal.offers.places import place_of_postal_code

KIND_CHOICES = [SelectChoice(kind.value, label) for kind, label in KIND_LABELS.items()]
ANY_DISTANCE = "tout"
REMOTE = "a-distance"
DISTANCE_CHOICES = [
    SelectChoice("5", _l("5 km")),
    SelectChoice("10", _l("10 km")),
    SelectChoice("20", _l("20 km")),
    SelectChoice("50", _l("50 km")),
    SelectChoice(ANY_DISTANCE, _l("Toute distance")),
    SelectChoice(REMOTE, _l("À distance (de chez vous)")),
]


def _without_blanks(values: list[str] | None) -> list[str] | None:
    """An empty `?type=` (a link, a hand-edited URL) asks for no type: it is left out."""
    return [value for value in values if value.strip()] if values else values


class OfferSearchForm(FlaskForm):
    """A GET form: its URL is the search, to share or to bookmark; it has no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Mots"),
        validators=[Optional(), Length(max=100, message=_l("100 caractères au plus."))],
        description=_l("Un métier, un lieu, une entreprise…"),
    )
    # No Optional(): on "?type=&type=nope" it would clear the error about "nope".
    type = SelectMultipleField(
        _l("Type"),
        choices=KIND_CHOICES,
        filters=[_without_blanks],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    lieu = StringField(
        _l("Près de"),
        validators=[Optional(), Length(max=100, message=_l("100 caractères au plus."))],
        description=_l("Un code postal ou une ville."),
    )
    distance = SelectField(_l("Distance"), choices=DISTANCE_CHOICES, default="20")
    debut = DateField(
        _l("Je peux commencer à partir du"),
        validators=[Optional()],
        description=_l("Laissez vide si vous pouvez commencer tout de suite."),
    )
    page = BoundedIntegerField(validators=[Optional(), NumberRange(min=1, max=10_000)], default=1)


class InterestForm(FlaskForm):
    message = TextAreaField(
        _l("Un message pour votre référent (si vous voulez)"),
        validators=[Optional(), Length(max=1000, message=_l("1 000 caractères au plus."))],
        description=_l("Par exemple : je suis libre le matin, je n'ai pas de voiture."),
    )


def _postal_code_known(form, field) -> None:
    if field.data and place_of_postal_code(field.data) is None:
        raise ValidationError(_l("Ce code postal n'existe pas."))


class OfferForm(FlaskForm):
    """An offer entered by a counsellor, as the back office would push it."""

    kind = SelectField(_l("Type"), choices=KIND_CHOICES, default=OfferKind.IMMERSION.value)
    title = StringField(
        _l("Titre"),
        validators=[
            DataRequired(_l("Écrivez un titre.")),
            Length(max=200, message=_l("200 caractères au plus.")),
        ],
        description=_l("Par exemple : Découvrir le métier d'aide-boulanger."),
    )
    provider_name = StringField(
        _l("Entreprise, organisme ou association"),
        validators=[
            DataRequired(_l("Écrivez le nom de l'entreprise ou de l'organisme.")),
            Length(max=200, message=_l("200 caractères au plus.")),
        ],
    )
    description = TextAreaField(
        _l("Description"),
        validators=[
            DataRequired(_l("Écrivez ce que la personne fera.")),
            Length(max=10000, message=_l("10 000 caractères au plus.")),
        ],
        description=_l("Des phrases courtes : ce que la personne fera, ce qu'il faut savoir."),
    )
    address = StringField(
        _l("Adresse"),
        validators=[Optional(), Length(max=300, message=_l("300 caractères au plus."))],
    )
    postal_code = StringField(
        _l("Code postal"),
        validators=[
            InputRequired(_l("Indiquez le code postal.")),
            Regexp(r"^\d{5}$", message=_l("Un code postal a 5 chiffres.")),
            _postal_code_known,
        ],
    )
    city = StringField(
        _l("Ville"), validators=[Optional(), Length(max=100, message=_l("100 caractères au plus."))]
    )
    remote = BooleanField(_l("Se fait à distance"))
    starts_on = DateField(_l("Début (facultatif)"), validators=[Optional()])
    ends_on = DateField(_l("Fin (facultatif)"), validators=[Optional()])
    hours_per_week = BoundedDecimalField(
        _l("Heures par semaine (facultatif)"),
        places=None,
        validators=[
            Optional(),
            NumberRange(min=1, max=60, message=_l("Entre 1 et 60 heures.")),
        ],
    )
    seats = BoundedIntegerField(
        _l("Nombre de places (facultatif)"),
        validators=[Optional(), NumberRange(min=1, max=10000, message=_l("Entre 1 et 10 000."))],
    )
    url = URLField(
        _l("Lien vers l'offre (facultatif)"),
        validators=[
            Optional(),
            URL(message=_l("Ce lien n'est pas valide.")),
            Length(max=500, message=_l("500 caractères au plus.")),
        ],
    )
    expires_on = DateField(_l("Visible jusqu'au (facultatif)"), validators=[Optional()])

    def validate_ends_on(self, field) -> None:
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("La fin est avant le début."))

    def fields(self) -> dict:
        """What upsert_offer takes, as the API would give it."""
        return {
            "kind": self.kind.data,
            "title": self.title.data.strip(),
            "description": self.description.data.strip(),
            "provider_name": self.provider_name.data.strip(),
            "address": (self.address.data or "").strip() or None,
            "postal_code": self.postal_code.data,
            "city": (self.city.data or "").strip() or None,
            "remote": self.remote.data,
            "starts_on": self.starts_on.data,
            "ends_on": self.ends_on.data,
            "hours_per_week": (
                float(self.hours_per_week.data) if self.hours_per_week.data is not None else None
            ),
            "seats": self.seats.data,
            "url": self.url.data or None,
            "expires_on": self.expires_on.data,
        }

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectMultipleField,
    StringField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)
from wtforms.widgets import CheckboxInput, ListWidget

from portal.appointments.models import SlotPurpose
from portal.core.forms import BoundedIntegerField, strip


class CounsellorForm(FlaskForm):
    name = StringField(
        _l("Nom et prénom"),
        filters=[strip],
        validators=[
            DataRequired(_l("Écrivez le nom et le prénom.")),
            Length(max=200, message=_l("Ce nom est trop long : 200 caractères au plus.")),
        ],
        render_kw={"autocomplete": "off"},
    )
    email = EmailField(
        _l("Adresse e-mail"),
        filters=[strip],
        validators=[
            DataRequired(_l("Écrivez l'adresse e-mail.")),
            Length(max=254, message=_l("Cette adresse est trop longue.")),
            Email(message=_l("Cette adresse e-mail n'est pas valide."), check_deliverability=False),
        ],
        render_kw={"autocomplete": "off", "dir": "ltr"},
    )
    is_admin = BooleanField(_l("Administrateur ou administratrice de l'organisation"))


class RoleForm(FlaskForm):
    role = RadioField(
        _l("Rôle"),
        choices=[
            SelectChoice("counsellor", _l("Conseiller")),
            SelectChoice("admin", _l("Administrateur")),
        ],
        validators=[DataRequired(_l("Choisissez un rôle."))],
    )


class ApiKeyForm(FlaskForm):
    name = StringField(
        _l("Nom de la clé"),
        filters=[strip],
        description=_l("Pour la reconnaître : le logiciel ou le service qui l'utilise."),
        validators=[
            DataRequired(_l("Donnez un nom à la clé.")),
            Length(max=100, message=_l("Ce nom est trop long : 100 caractères au plus.")),
        ],
        render_kw={"autocomplete": "off"},
    )


class WebhookForm(FlaskForm):
    url = URLField(
        _l("Adresse de réception"),
        filters=[strip],
        description=_l("Une adresse https:// du logiciel métier."),
        validators=[
            DataRequired(_l("Écrivez l'adresse de réception.")),
            Length(max=2000, message=_l("Cette adresse est trop longue.")),
        ],
        render_kw={"autocomplete": "off", "dir": "ltr"},
    )


class SettingsForm(FlaskForm):
    reminder_hours_before = BoundedIntegerField(
        _l("Rappel par SMS, en heures avant le rendez-vous"),
        description=_l("De 1 à 168 (une semaine). Vide : pas de ce rappel."),
        validators=[
            Optional(),
            NumberRange(1, 168, message=_l("Écrivez un nombre d'heures de 1 à 168, ou rien.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    morning_reminder_hour = BoundedIntegerField(
        _l("Rappel le matin du rendez-vous, à quelle heure"),
        description=_l("Une heure de 8 à 19. Vide : pas de rappel le matin."),
        validators=[
            Optional(),
            NumberRange(8, 19, message=_l("Écrivez une heure de 8 à 19, ou rien.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    cancellation_limit_minutes = BoundedIntegerField(
        _l("Annuler ou déplacer en ligne : jusqu'à combien de minutes avant"),
        description=_l("De 0 à 10 080 minutes (une semaine). 120 : jusqu'à 2 heures avant."),
        validators=[
            InputRequired(_l("Écrivez un nombre de minutes de 0 à 10 080.")),
            NumberRange(0, 10_080, message=_l("Écrivez un nombre de minutes de 0 à 10 080.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    max_upcoming_appointments = BoundedIntegerField(
        _l("Rendez-vous à venir qu'une personne peut avoir en même temps"),
        description=_l("De 1 à 10. Au-delà, elle doit en annuler un pour en prendre un autre."),
        validators=[
            InputRequired(_l("Écrivez un nombre de 1 à 10.")),
            NumberRange(1, 10, message=_l("Écrivez un nombre de 1 à 10.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    require_two_step = BooleanField(_l("Connexion en deux étapes obligatoire pour les conseillers"))
    purposes_confirmed_at_once = SelectMultipleField(
        _l("Rendez-vous confirmés tout de suite, sans attendre un conseiller"),
        description=_l(
            "Les autres attendent qu'un conseiller les confirme. La personne reçoit un seul "
            "SMS : la confirmation."
        ),
        choices=[
            SelectChoice(SlotPurpose.ORIENTATION.value, _l("Premier rendez-vous (orientation)")),
            SelectChoice(SlotPurpose.FOLLOW_UP.value, _l("Rendez-vous de suivi")),
            SelectChoice(SlotPurpose.CONTRACT.value, _l("Contrat d'engagement")),
            SelectChoice(SlotPurpose.OTHER.value, _l("Réunion d'information")),
        ],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        # An unknown value is refused by the choices; none ticked is a valid answer.
        validate_choice=True,
    )


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Votre mot de passe"),
        validators=[
            DataRequired(_l("Écrivez votre mot de passe.")),
            Length(max=200, message=_l("Ce mot de passe est trop long.")),
        ],
        description=_l(
            "Au moins 12 caractères. Une phrase de quatre mots sans lien entre eux "
            "est facile à retenir et difficile à deviner."
        ),
        render_kw={"autocomplete": "new-password"},
    )
    confirmation = PasswordField(
        _l("Votre mot de passe, encore une fois"),
        validators=[
            DataRequired(_l("Écrivez encore une fois votre mot de passe.")),
            EqualTo("password", message=_l("Les deux mots de passe ne sont pas les mêmes.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )

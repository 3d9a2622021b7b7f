from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp, ValidationError

from portal.core.forms import strip
from portal.core.phones import InvalidPhone, normalise_mobile


class PhoneForm(FlaskForm):
    phone = StringField(
        _l("Votre numéro de portable"),
        validators=[DataRequired(_l("Écrivez votre numéro de portable."))],
        description=_l("Par exemple : 06 12 34 56 78"),
        render_kw={"autocomplete": "tel", "inputmode": "tel", "dir": "ltr"},
    )

    def validate_phone(self, field: StringField) -> None:
        try:
            self.normalised_phone = normalise_mobile(field.data)
        except InvalidPhone as error:
            if error.reason == "not_mobile":
                raise ValidationError(
                    _l(
                        "Ce numéro ne semble pas être un portable. "
                        "Vérifiez qu'il commence par 06 ou 07."
                    )
                ) from None
            raise ValidationError(
                _l("Ce numéro n'est pas complet ou contient une erreur. Vérifiez-le.")
            ) from None


def _six_digit_code(label, missing, pattern: str = r"^\s*\d{6}\s*$") -> StringField:
    """A 6-digit code typed on a phone: digits keypad, the OS may fill it from an SMS."""
    return StringField(
        label,
        validators=[
            DataRequired(missing),
            Regexp(pattern, message=_l("Le code a 6 chiffres, sans lettres.")),
        ],
        description=_l("6 chiffres"),
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "dir": "ltr",
            "maxlength": "12",
        },
    )


class CodeForm(FlaskForm):
    code = _six_digit_code(
        _l("Code reçu par SMS"), _l("Écrivez le code à 6 chiffres reçu par SMS.")
    )


class ChooseForm(FlaskForm):
    person = RadioField(
        _l("Qui êtes-vous ?"),
        coerce=int,
        validators=[DataRequired(_l("Choisissez votre prénom."))],
    )


class CounsellorSignInForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail"),
        filters=[strip],
        validators=[
            DataRequired(_l("Écrivez votre adresse e-mail.")),
            Length(max=254, message=_l("Cette adresse est trop longue.")),
            Email(message=_l("Cette adresse e-mail n'est pas valide."), check_deliverability=False),
        ],
        render_kw={"autocomplete": "username", "dir": "ltr"},
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[
            DataRequired(_l("Écrivez votre mot de passe.")),
            Length(max=200, message=_l("Ce mot de passe est trop long.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )


class SecondStepForm(FlaskForm):
    code = StringField(
        _l("Code de votre application"),
        validators=[
            DataRequired(_l("Écrivez le code à 6 chiffres de votre application.")),
            Length(max=40, message=_l("Ce code est trop long.")),
        ],
        description=_l("6 chiffres. Sans votre téléphone, écrivez un de vos codes de secours."),
        render_kw={"autocomplete": "one-time-code", "dir": "ltr", "maxlength": "40"},
    )


class EnrolmentForm(FlaskForm):
    # Authenticator apps show the code in two groups of three.
    code = _six_digit_code(
        _l("Code affiché par l'application"),
        _l("Écrivez le code à 6 chiffres affiché par l'application."),
        pattern=r"^\s*\d{3}\s?\d{3}\s*$",
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Mot de passe actuel"),
        validators=[
            DataRequired(_l("Écrivez votre mot de passe actuel.")),
            Length(max=200, message=_l("Ce mot de passe est trop long.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("Nouveau mot de passe"),
        validators=[DataRequired(_l("Écrivez votre nouveau mot de passe."))],
        description=_l(
            "Au moins 12 caractères. Une phrase de quatre mots sans lien entre eux "
            "est facile à retenir et difficile à deviner."
        ),
        render_kw={"autocomplete": "new-password"},
    )
    confirmation = PasswordField(
        _l("Nouveau mot de passe, encore une fois"),
        validators=[
            DataRequired(_l("Écrivez encore une fois votre nouveau mot de passe.")),
            EqualTo("new_password", message=_l("Les deux mots de passe ne sont pas les mêmes.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class TwoStepRequirementForm(FlaskForm):
    requirement = RadioField(
        _l("Connexion en deux étapes des conseillers"),
        choices=[
            SelectChoice("required", _l("Obligatoire pour tous")),
            SelectChoice("optional", _l("Au choix de chaque conseiller")),
        ],
        validators=[DataRequired(_l("Choisissez une des deux réponses."))],
    )

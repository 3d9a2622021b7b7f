from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, Email, Length, Regexp, ValidationError

from portal.core.phones import InvalidPhone, normalise_mobile


def _strip(value):
    return value.strip() if isinstance(value, str) else value


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


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code reçu par SMS"),
        validators=[
            DataRequired(_l("Écrivez le code à 6 chiffres reçu par SMS.")),
            Regexp(r"^\s*\d{6}\s*$", message=_l("Le code a 6 chiffres, sans lettres.")),
        ],
        description=_l("6 chiffres"),
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "dir": "ltr",
            "maxlength": "12",
        },
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
        filters=[_strip],
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

"""Forms and fields every feature uses."""

from flask_wtf import FlaskForm
from wtforms import DecimalField, IntegerField


def strip(value):
    """A WTForms filter: the spaces around what was typed go (None and non-text stay)."""
    return value.strip() if isinstance(value, str) else value


class ConfirmForm(FlaskForm):
    """A button and its CSRF token."""


# WTForms' NumberRange converts the value to a float to test for NaN: 400 digits overflow it
# (a server error), and a signalling NaN cannot be converted at all. The fields below leave
# such input without a value, so NumberRange says what to type while the field keeps it.


class _LengthBounded:
    """Input longer than `max_length` characters gets no value (NumberRange then says why)."""

    default_max_length = 9

    def __init__(self, *args, max_length: int | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.max_length = max_length or self.default_max_length

    def process_formdata(self, valuelist) -> None:
        if valuelist and len(valuelist[0].strip()) > self.max_length:
            self.data = None
            return
        super().process_formdata(valuelist)


class BoundedIntegerField(_LengthBounded, IntegerField):
    """An integer of at most `max_length` characters; pair it with NumberRange."""


class BoundedDecimalField(_LengthBounded, DecimalField):
    """A finite decimal of at most `max_length` characters; pair it with NumberRange."""

    default_max_length = 12

    def process_formdata(self, valuelist) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None

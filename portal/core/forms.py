"""Forms every feature uses."""

from flask_wtf import FlaskForm


class ConfirmForm(FlaskForm):
    """A button and its CSRF token."""

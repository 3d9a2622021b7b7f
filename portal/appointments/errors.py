"""Why a rule refused a change to a slot or an appointment."""


class AppointmentError(Exception):
    """A rule refused the change; `code` names which, `field` the field it is about."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field

"""Why a rule refused a change to a slot or an appointment."""


class AppointmentError(Exception):
    """A rule refused the change; `code` names which, `field` the field it is about."""

    def __init__(
        self,
        code: str,
        message: str,
        field: str | None = None,
        other: object | None = None,
        limit: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        # "clash": the person's appointment at the same time, to name it in the answer.
        self.other = other
        # "too_many": the organisation's ceiling that was reached.
        self.limit = limit

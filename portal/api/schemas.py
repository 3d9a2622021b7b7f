"""Request and response bodies of the contract, as pydantic models.

The same models validate requests and generate the OpenAPI document. Strict mode
in JSON: "12" is not an integer, "yes" is not a boolean; unknown fields are refused.
"""

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from portal.core.phones import MOBILE_PATTERN, InvalidPhone, normalise_mobile, normalise_phone
from portal.core.web import HTTPS_URL, is_https_url

EXTERNAL_ID = r"^[A-Za-z0-9._:-]{1,64}$"
ExternalId = Annotated[str, Field(pattern=EXTERNAL_ID, min_length=1, max_length=64)]
NO_NUL = "^[^\\u0000]*$"


def _date_pattern(year: str, leap_year: str) -> str:
    """YYYY-MM-DD, real calendar days only (no 31 June, 29 February in leap years alone)."""
    return (
        f"(?:{year}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
        "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
        f"|{leap_year}-02-29)"
    )


_LEAP_IN_CENTURY = "(?:0[48]|[2468][048]|[13579][26])"
_TIME = "T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\\.[0-9]{1,6})?)?"
_OFFSET = "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
_DATE_1900_2999 = _date_pattern(
    "(?:19|2[0-9])[0-9]{2}", f"(?:(?:19|2[0-9]){_LEAP_IN_CENTURY}|2[048]00)"
)
_DATE_2000_2999 = _date_pattern("2[0-9]{3}", f"(?:2[0-9]{_LEAP_IN_CENTURY}|2[048]00)")
MOMENT = f"^{_DATE_1900_2999}(?:{_TIME}{_OFFSET})?$"
"""A query bound: a date (midnight, Paris) or a date-time with its offset, years 1900-2999."""
STARTS_AT = f"^{_DATE_2000_2999}{_TIME}{_OFFSET}$"
"""RFC 3339 with its offset (Z or ±HH:MM), seconds and fraction optional, years 2000-2999."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_character(cls, value):
        # PostgreSQL cannot store U+0000 in text: refuse it here, naming the field.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain the NUL character (U+0000)")
        return value


def _mobile(value: str) -> str:
    try:
        normalised = normalise_mobile(value)
    except InvalidPhone as error:
        if error.reason == "not_mobile":
            raise ValueError("not a mobile number: SMS cannot reach it") from None
        raise ValueError("not a valid phone number") from None
    if not re.fullmatch(MOBILE_PATTERN, value):
        # A foreign mobile, or a French one written in a form the pattern does not show.
        raise ValueError("not a French mobile number written 06 12 34 56 78 or +33 6 12 34 56 78")
    return normalised


def _phone(value: str) -> str:
    try:
        return normalise_phone(value)
    except InvalidPhone:
        raise ValueError("not a valid phone number") from None


MobilePhone = Annotated[
    str,
    Field(
        max_length=40,
        description=(
            "A French or overseas mobile number, in national form (06 12 34 56 78, "
            "0692 12 34 56) or international form (+33 6 12 34 56 78, 0033…), with at most "
            "one space, dot or dash before each digit; returned in E.164. The pattern is "
            "the numbering plan's list of mobile ranges: a landline is a 422."
        ),
        json_schema_extra={"pattern": MOBILE_PATTERN},
    ),
    AfterValidator(_mobile),
]
AnyPhone = Annotated[
    str,
    Field(
        max_length=40,
        description=(
            "Any valid number, a landline too: French national form (metropolitan or "
            "overseas) or international form of any country; returned in E.164. Which "
            "numbers are valid is every country's numbering plan, which no pattern here "
            "says: an invalid number is a 422 on this field."
        ),
    ),
    AfterValidator(_phone),
]


def _whole_number(value: Any) -> Any:
    # JSON Schema counts 10.0 as an integer, as JavaScript writes it: take it as 10.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def Whole(**limits: int) -> Any:  # noqa: N802 - reads as a type
    """An integer within `limits` (ge, le), written 10 or 10.0; never "10" nor true."""
    return Annotated[int, Field(**limits), BeforeValidator(_whole_number)]


EMAIL = (
    "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    "@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+"
    "[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)
"""An address as a connector sends it: ASCII, dotted local part, a host name with a dot."""


def _email(value: str) -> str:
    if not re.fullmatch(EMAIL, value):
        raise ValueError("not a valid email address")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


Email = Annotated[
    str,
    Field(max_length=254, json_schema_extra={"pattern": EMAIL}),
    AfterValidator(_email),
]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]


class Referent(Strict):
    name: Text200
    email: Email
    phone: AnyPhone | None = None


class BeneficiaryFields(Strict):
    first_name: Name
    last_name: Name
    birth_date: date
    phone: MobilePhone
    email: Email | None = None
    language: Literal["fr", "en", "ar"] = "fr"
    caf_number: Annotated[str, Field(pattern=r"^\d{1,20}$")] | None = None
    france_travail_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,32}$")] | None = None
    role: Literal["demandeur", "conjoint"] = "demandeur"
    postal_code: Annotated[str, Field(pattern=r"^\d{5}$")]
    rsa_registration_date: date
    referent: Referent | None = None
    sms_consent: bool = True


class BeneficiaryOut(BaseModel):
    id: int
    external_id: str
    first_name: str
    last_name: str
    birth_date: date
    phone: str
    email: str | None
    language: str
    caf_number: str | None
    france_travail_id: str | None
    role: Literal["demandeur", "conjoint"]
    postal_code: str
    rsa_registration_date: date
    referent: Referent | None
    sms_consent: bool
    activated_at: datetime | None
    sms_opted_out: bool
    followed_by: list[str]
    # The slug of the organisation leading the pathway (a hand-over it accepted), or None
    # while none has been agreed.
    lead_organisation: str | None
    created_at: datetime
    updated_at: datetime


class BatchItem(BeneficiaryFields):
    external_id: ExternalId


class BatchIn(Strict):
    # Items are validated one by one, so that one bad item does not stop the others.
    items: Annotated[list[Any], Field(max_length=1000)]


class ProblemItem(BaseModel):
    field: str = Field(description="JSON pointer to the field")
    message: str


class BatchResult(BaseModel):
    external_id: str | None
    status: Literal[200, 201, 422]
    errors: list[ProblemItem] | None = Field(default=None, exclude_if=lambda value: value is None)


class BatchOut(BaseModel):
    results: list[BatchResult]


StepKind = Literal[
    "orientation",
    "diagnostic",
    "contract",
    "appointment",
    "immersion",
    "training",
    "volunteering",
    "employment",
    "social_support",
    "other",
]
StepStatus = Literal["planned", "in_progress", "done", "cancelled"]


class StepIn(Strict):
    kind: StepKind
    title: Text200
    status: StepStatus
    starts_on: date | None = None
    ends_on: date | None = None
    organisation_name: Annotated[str, Field(max_length=200)] | None = None
    description: Annotated[str, Field(max_length=5000)] | None = None

    @model_validator(mode="after")
    def _dates_in_order(self):
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class StepOut(BaseModel):
    external_id: str
    organisation: str
    source: Literal["backoffice", "portal"]
    kind: StepKind
    title: str
    status: StepStatus
    starts_on: date | None
    ends_on: date | None
    organisation_name: str | None
    description: str | None
    created_at: datetime
    updated_at: datetime


class StepsOut(BaseModel):
    steps: list[StepOut]


def _written_as_starts_at(value: Any) -> Any:
    if not isinstance(value, str):
        return value  # strict validation refuses it
    if not re.fullmatch(STARTS_AT, value):
        raise ValueError(
            "must be a date-time with its offset, e.g. 2026-03-02T09:30:00+01:00 or "
            "2026-03-02T08:30:00Z, between the years 2000 and 2999"
        )
    # Parsed here: after a function, strict validation would refuse a string.
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _https_url(value: str) -> str:
    if not is_https_url(value):
        raise ValueError("must be an https address (https://…) of printable characters")
    return value


HttpsUrl = Annotated[
    str,
    Field(min_length=8, max_length=500, json_schema_extra={"pattern": HTTPS_URL}),
    AfterValidator(_https_url),
]


class SlotIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            # location is required for in_person.
            "anyOf": [
                {"properties": {"mode": {"enum": ["phone", "video"]}}},
                {"properties": {"location": {"type": "string"}}, "required": ["location"]},
            ]
        }
    )

    counsellor_email: Email = Field(
        description="A counsellor of your organisation (422 otherwise: no schema can say who)"
    )
    starts_at: Annotated[
        AwareDatetime,
        BeforeValidator(_written_as_starts_at),
        Field(
            description=(
                "In the future and not on a public holiday of your department (422 "
                "otherwise: these change with the day, no schema can say them)"
            ),
            json_schema_extra={"pattern": STARTS_AT},
        ),
    ]
    duration_minutes: Whole(ge=10, le=240)
    mode: Literal["in_person", "phone", "video"]
    location: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    purpose: Literal["orientation", "follow_up", "contract", "other"]
    reserved_for: ExternalId | None = Field(
        default=None,
        description="One of your beneficiaries (422 otherwise); only with capacity 1 (422)",
    )
    capacity: Whole(ge=1, le=200) = Field(
        default=1,
        description="Seats: more than 1 makes a collective session, each person who books "
        "it with an appointment of their own; never below the live bookings (409)",
    )
    title: Annotated[str, Field(min_length=1, max_length=120)] | None = Field(
        default=None, description="What the person reads, for a session"
    )
    video_url: HttpsUrl | None = Field(
        default=None,
        description=(
            "Only with mode video (422 otherwise). The person sees it from 30 minutes before "
            "the start, and the day's reminder SMS carries it; without it, the person is told "
            "that the counsellor will call or send the link."
        ),
    )


class SlotOut(BaseModel):
    id: int
    external_id: str
    counsellor_email: str
    starts_at: datetime
    duration_minutes: int
    mode: str
    location: str | None
    purpose: str
    reserved_for: str | None
    video_url: str | None
    capacity: int
    title: str | None
    is_booked: bool
    appointments_count: int
    seats_left: int
    created_at: datetime
    updated_at: datetime


AppointmentStatus = Literal[
    "requested", "confirmed", "declined", "cancelled", "attended", "no_show", "excused"
]


class AppointmentOut(BaseModel):
    id: int
    slot_external_id: str
    beneficiary_external_id: str | None
    starts_at: datetime
    mode: str
    location: str | None
    status: AppointmentStatus
    status_reason: str | None
    booked_at: datetime
    updated_at: datetime


class AppointmentsOut(BaseModel):
    appointments: list[AppointmentOut]
    next_after: int | None


class StatusIn(Strict):
    status: Literal["confirmed", "declined", "attended", "no_show", "excused"]
    reason: Annotated[str, Field(max_length=1000)] | None = None


class OfferIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            # latitude and longitude come together, or not at all.
            "anyOf": [
                {
                    "properties": {"latitude": {"type": "number"}, "longitude": {"type": "number"}},
                    "required": ["latitude", "longitude"],
                },
                {"properties": {"latitude": {"type": "null"}, "longitude": {"type": "null"}}},
            ]
        }
    )

    kind: Literal["immersion", "training", "volunteering", "job"]
    title: Text200
    description: Annotated[str, Field(min_length=1, max_length=10000)]
    provider_name: Text200
    address: Annotated[str, Field(max_length=300)] | None = None
    postal_code: Annotated[str, Field(pattern=r"^\d{5}$")]
    city: Annotated[str, Field(max_length=100)] | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    remote: bool = False
    starts_on: date | None = None
    ends_on: date | None = None
    hours_per_week: Annotated[float, Field(gt=0, le=60)] | None = None
    seats: Whole(ge=0, le=100000) | None = None
    rome_code: Annotated[str, Field(pattern=r"^[A-N]\d{4}$")] | None = None
    url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=500)] | None = None
    expires_on: date | None = None

    @model_validator(mode="after")
    def _coherent(self):
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class OfferOut(BaseModel):
    id: int
    external_id: str
    kind: str
    title: str
    description: str
    provider_name: str
    address: str | None
    postal_code: str
    city: str | None
    latitude: float | None
    longitude: float | None
    remote: bool
    starts_on: date | None
    ends_on: date | None
    hours_per_week: float | None
    seats: int | None
    rome_code: str | None
    url: str | None
    expires_on: date | None
    created_at: datetime
    updated_at: datetime


class EventOut(BaseModel):
    id: int
    type: str
    occurred_at: datetime
    beneficiary_external_id: str | None
    data: dict


class EventsOut(BaseModel):
    events: list[EventOut]
    next_after: int


class WebhookIn(Strict):
    url: Annotated[
        str,
        Field(
            min_length=8,
            max_length=2000,
            description=(
                "https only, and the host must resolve to public addresses alone (422 "
                "otherwise, checked when it is registered and at each delivery). A portal "
                "started with WEBHOOK_ALLOW_INSECURE=1 (a laptop, tests) also takes http "
                "and any address."
            ),
            json_schema_extra={"pattern": HTTPS_URL},
        ),
    ]
    secret: Annotated[str, Field(min_length=32, max_length=200)]


class WebhookOut(BaseModel):
    url: str
    created_at: datetime
    updated_at: datetime


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemItem] | None = None


# -- Indicators (v1.1) ----------------------------------------------------------------------

Fraction = Annotated[float, Field(ge=0, le=1)]


class CohortOut(BaseModel):
    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    people: int
    anonymous: int
    complete: bool
    in_activity_within_90_days: int
    rate: Fraction | None
    in_activity_within_60_days: int
    rate_60_days: Fraction | None
    in_activity_within_30_days: int
    rate_30_days: Fraction | None
    target_rate: Fraction
    people_with_first_activity: int
    median_days_to_first_activity: float | None
    p80_days_to_first_activity: float | None
    people_with_first_appointment: int
    median_days_to_first_appointment: float | None
    p80_days_to_first_appointment: float | None
    invited: int
    median_days_invitation_to_sign_in: float | None
    p80_days_invitation_to_sign_in: float | None
    activated: int
    activation_rate: Fraction | None


class ReminderSplitOut(BaseModel):
    outcomes: int
    no_show: int
    no_show_rate: Fraction | None


class CancelledByOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    beneficiary: int
    counsellor: int
    backoffice: int


class AppointmentFiguresOut(BaseModel):
    held: int
    no_show: int
    excused: int
    cancelled: int
    cancelled_by: CancelledByOut
    rescheduled: int
    declined: int
    requested: int
    confirmed: int
    no_show_rate: Fraction | None
    with_reminder: ReminderSplitOut
    without_reminder: ReminderSplitOut
    confirmations: int
    median_days_to_confirmation: float | None
    p80_days_to_confirmation: float | None


class SmsFiguresOut(BaseModel):
    sent: int
    delivered: int
    failed: int
    segments: int
    opted_out: int


class ReferentFiguresOut(BaseModel):
    name: str | None
    people: int
    in_activity_within_90_days: int
    activated: int


class IndicatorsOut(BaseModel):
    # "from" is a Python keyword: the field is named from_ and written as "from".
    model_config = ConfigDict(serialize_by_alias=True)
    from_: date = Field(alias="from")
    to: date
    target_rate: Fraction
    cohorts: list[CohortOut]
    appointments: AppointmentFiguresOut
    sms: SmsFiguresOut
    referents: list[ReferentFiguresOut]
    definitions_url: str

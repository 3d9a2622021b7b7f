"""Request and response bodies of the contract, as pydantic models.

The same models validate requests and generate the OpenAPI document. Strict mode
in JSON: "12" is not an integer, "yes" is not a boolean; unknown fields are refused.
"""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    field_validator,
    model_validator,
)

from portal.core.phones import InvalidPhone, normalise_mobile

EXTERNAL_ID = r"^[A-Za-z0-9._:-]{1,64}$"
ExternalId = Annotated[str, Field(pattern=EXTERNAL_ID, min_length=1, max_length=64)]


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
        return normalise_mobile(value)
    except InvalidPhone as error:
        if error.reason == "not_mobile":
            raise ValueError("not a mobile number: SMS cannot reach it") from None
        raise ValueError("not a valid phone number") from None


def _phone_or_landline(value: str) -> str:
    import phonenumbers

    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        raise ValueError("not a valid phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


MobilePhone = Annotated[
    str,
    Field(max_length=40, description="French national form or E.164; returned in E.164"),
    AfterValidator(_mobile),
]
AnyPhone = Annotated[str, Field(max_length=40), AfterValidator(_phone_or_landline)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]


class Referent(Strict):
    name: Text200
    email: EmailStr
    phone: AnyPhone | None = None


class BeneficiaryFields(Strict):
    first_name: Name
    last_name: Name
    birth_date: date
    phone: MobilePhone
    email: EmailStr | None = None
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


def _within_our_calendar(value: datetime) -> datetime:
    if not 2000 <= value.year <= 2999:
        raise ValueError("must be between the years 2000 and 2999")
    return value


class SlotIn(Strict):
    counsellor_email: EmailStr
    starts_at: Annotated[AwareDatetime, AfterValidator(_within_our_calendar)]
    duration_minutes: Annotated[int, Field(ge=10, le=240)]
    mode: Literal["in_person", "phone", "video"]
    location: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    purpose: Literal["orientation", "follow_up", "contract", "other"]
    reserved_for: ExternalId | None = None


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
    is_booked: bool
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
    seats: Annotated[int, Field(ge=0, le=100000)] | None = None
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
    url: Annotated[str, Field(min_length=8, max_length=2000)]
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

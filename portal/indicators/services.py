"""The indicators, computed once for the page, its CSV files and the API.

Definitions (the contract's, v1.1 "Indicators — definitions"):
- a cohort is the people whose RSA registration date falls in one calendar month; the
  cohorts of a period are the months it touches, each counted whole;
- "in activity within N days": a step of kind immersion, training, volunteering or
  employment, now in_progress or done, that started on or before registration + N days
  (its starts_on, or where that is null the day the portal first saw it started); day N
  counts, day N + 1 does not; a cancelled step never counts;
- the rate is null while the cohort's N days have not all passed ("en cours");
- the appointment figures are over the organisation's appointments whose start falls in
  the period (Paris days, both ends included); the SMS figures over the messages the
  organisation wrote in it;
- medians are the middle value (the mean of the two middle ones for an even count); the
  80th percentile is the smallest value that at least 80 % of the values do not exceed
  (PostgreSQL's percentile_disc(0.8)).

People an organisation no longer follows (and people erased) count through the anonymous
facts kept when the follow-up ended (CohortFact).
"""

import calendar
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    Select,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    select,
    text,
)

from portal.appointments.models import AppointmentStatus
from portal.auth.models import InvitationToken
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.core.clock import PARIS, paris_day, paris_midnight, paris_today
from portal.events.models import Event, EventRecipient
from portal.extensions import db
from portal.indicators.models import CohortFact, SmsDayCount
from portal.indicators.summaries import (
    OUTCOMES,
    SECONDS_A_DAY,
    appointment_facts,
    summarised,
)
from portal.pathway.models import ACTIVITY_KINDS, PathwayStep, StepStatus
from portal.sms.models import SmsMessage, SmsStatus

TARGET_RATE = 0.7
WINDOWS = (30, 60, 90)
MAX_YEARS = 5
# Also keeps the day arithmetic (month ends, the next midnight) far from date's limits.
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
CANCELLERS = ("beneficiary", "counsellor", "backoffice")


class PeriodError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def check_period(start: date | None, end: date | None) -> tuple[date, date]:
    """Both dates given, start ≤ end, at most 5 years apart; otherwise PeriodError."""
    if start is None:
        raise PeriodError("from is required (YYYY-MM-DD)", "from")
    if end is None:
        raise PeriodError("to is required (YYYY-MM-DD)", "to")
    for value, name in ((start, "from"), (end, "to")):
        if not EARLIEST <= value <= LATEST:
            raise PeriodError(f"{name} must be between 1900-01-01 and 2999-12-31", name)
    if start > end:
        raise PeriodError("from must be on or before to", "from")
    if end > _add_years(start, MAX_YEARS):
        raise PeriodError(f"from and to must be at most {MAX_YEARS} years apart", "to")
    return start, end


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last twelve months, the current one included."""
    today = today or paris_today()
    month = today.month - 11
    year = today.year
    if month < 1:
        month += 12
        year -= 1
    return date(year, month, 1), today


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def months_between(start: date, end: date) -> list[date]:
    months, current = [], month_start(start)
    while current <= end:
        months.append(current)
        current = month_end(current) + timedelta(days=1)
    return months


# -- Figures ------------------------------------------------------------------------------


def median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def percentile_80(values: list[float]) -> float | None:
    """Nearest rank, with the same floating-point rank as PostgreSQL's percentile_disc."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(0.8 * len(ordered)))
    return float(ordered[rank - 1])


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(slots=True)
class PersonFacts:
    """One person of a cohort, as the indicators see them (live or anonymous)."""

    month: date
    activity_day: int | None
    appointment_day: int | None
    is_invited: bool
    sign_in_after_invitation_days: float | None
    is_activated: bool
    referent: str | None = None
    is_anonymous: bool = False


@dataclass
class Cohort:
    month: date
    people: int = 0
    anonymous: int = 0
    in_activity: dict[int, int] = field(default_factory=dict)
    rates: dict[int, float | None] = field(default_factory=dict)
    complete: dict[int, bool] = field(default_factory=dict)
    activity_days: list[int] = field(default_factory=list)
    appointment_days: list[int] = field(default_factory=list)
    sign_in_days: list[float] = field(default_factory=list)
    invited: int = 0
    activated: int = 0

    @property
    def rate(self) -> float | None:
        return self.rates[90]

    @property
    def activation_rate(self) -> float | None:
        return share(self.activated, self.people)

    def payload(self) -> dict[str, Any]:
        return {
            "month": self.month.strftime("%Y-%m"),
            "people": self.people,
            "anonymous": self.anonymous,
            "complete": self.complete[90],
            "in_activity_within_90_days": self.in_activity[90],
            "rate": self.rates[90],
            "in_activity_within_60_days": self.in_activity[60],
            "rate_60_days": self.rates[60],
            "in_activity_within_30_days": self.in_activity[30],
            "rate_30_days": self.rates[30],
            "target_rate": TARGET_RATE,
            "people_with_first_activity": len(self.activity_days),
            "median_days_to_first_activity": median(self.activity_days),
            "p80_days_to_first_activity": percentile_80(self.activity_days),
            "people_with_first_appointment": len(self.appointment_days),
            "median_days_to_first_appointment": median(self.appointment_days),
            "p80_days_to_first_appointment": percentile_80(self.appointment_days),
            "invited": self.invited,
            "median_days_invitation_to_sign_in": _rounded(median(self.sign_in_days)),
            "p80_days_invitation_to_sign_in": _rounded(percentile_80(self.sign_in_days)),
            "activated": self.activated,
            "activation_rate": self.activation_rate,
        }


def cohort_of(month: date, people: Iterable[PersonFacts], today: date) -> Cohort:
    cohort = Cohort(month)
    last_day = month_end(month)
    for window in WINDOWS:
        # Every person of the month has had their N days once the last one's N-th is over.
        cohort.complete[window] = today > last_day + timedelta(days=window)
        cohort.in_activity[window] = 0
    for person in people:
        cohort.people += 1
        cohort.anonymous += person.is_anonymous
        if person.activity_day is not None:
            for window in WINDOWS:
                cohort.in_activity[window] += person.activity_day <= window
            cohort.activity_days.append(max(0, person.activity_day))
        if person.appointment_day is not None:
            cohort.appointment_days.append(max(0, person.appointment_day))
        cohort.invited += person.is_invited
        if person.sign_in_after_invitation_days is not None:
            cohort.sign_in_days.append(person.sign_in_after_invitation_days)
        cohort.activated += person.is_activated
    for window in WINDOWS:
        cohort.rates[window] = (
            share(cohort.in_activity[window], cohort.people) if cohort.complete[window] else None
        )
    return cohort


# -- What the database holds about people ---------------------------------------------------


def _people_facts(organisation_id: int, people: Select) -> list[PersonFacts]:
    """Facts of the people `people` selects (FollowUp rows of the organisation), in one
    statement: each person with their first activity, first appointment held and first
    invitation, each an index lookup per person (cheaper than aggregating everyone's)."""
    started = func.min(func.coalesce(PathwayStep.starts_on, PathwayStep.seen_started_on))
    activity = (
        select(started)
        .where(
            PathwayStep.beneficiary_id == Beneficiary.id,
            PathwayStep.kind.in_(ACTIVITY_KINDS),
            PathwayStep.status.in_((StepStatus.IN_PROGRESS, StepStatus.DONE)),
        )
        .scalar_subquery()
    )
    facts = appointment_facts()
    held = (
        select(func.min(facts.c.starts_at))
        .where(
            facts.c.beneficiary_id == Beneficiary.id,
            facts.c.status == AppointmentStatus.ATTENDED.value,
        )
        .scalar_subquery()
    )
    invited = (
        select(func.min(InvitationToken.created_at))
        .where(
            InvitationToken.organisation_id == organisation_id,
            InvitationToken.beneficiary_id == Beneficiary.id,
        )
        .scalar_subquery()
    )
    if summarised():
        return _counted_in_postgres(people, activity, held, invited)
    rows = db.session.execute(
        people.with_only_columns(
            Beneficiary.rsa_registration_date,
            Beneficiary.activated_at,
            FollowUp.referent_name,
            activity,
            held,
            invited,
        )
    ).all()
    facts = []
    for registered_on, activated_at, referent, started_on, held_at, invited_at in rows:
        sign_in = None
        if invited_at is not None and activated_at is not None and activated_at >= invited_at:
            sign_in = (activated_at - invited_at).total_seconds() / SECONDS_A_DAY
        facts.append(
            PersonFacts(
                month=month_start(registered_on),
                activity_day=(started_on - registered_on).days if started_on else None,
                appointment_day=(paris_day(held_at) - registered_on).days if held_at else None,
                is_invited=invited_at is not None,
                sign_in_after_invitation_days=sign_in,
                is_activated=activated_at is not None,
                referent=referent,
            )
        )
    return facts


def _counted_in_postgres(people: Select, activity, held, invited) -> list[PersonFacts]:
    """The same facts with the day arithmetic done by PostgreSQL, as the loop above does
    it (Paris days; seconds as a double divided by 86 400). A year of a department's people
    then comes back as small numbers, not 100 000 dates and times to convert; and the rows,
    named as PersonFacts' fields, serve as they are (30 000 objects fewer to make)."""
    registered_on = Beneficiary.rsa_registration_date
    activated_at = Beneficiary.activated_at
    seconds = cast(func.extract("epoch", activated_at - invited), Float)
    rows = db.session.execute(
        people.with_only_columns(
            cast(func.date_trunc("month", cast(registered_on, DateTime)), Date).label("month"),
            (activity - registered_on).label("activity_day"),
            (cast(func.timezone(PARIS.key, held), Date) - registered_on).label("appointment_day"),
            invited.is_not(None).label("is_invited"),
            case((activated_at >= invited, seconds / SECONDS_A_DAY)).label(
                "sign_in_after_invitation_days"
            ),
            activated_at.is_not(None).label("is_activated"),
            FollowUp.referent_name.label("referent"),
            literal(False).label("is_anonymous"),
        )
    ).all()
    return rows  # type: ignore[return-value] # the same attributes as PersonFacts


def _followed(organisation_id: int) -> Select:
    return (
        select(FollowUp.id)
        .join(Beneficiary, Beneficiary.id == FollowUp.beneficiary_id)
        .where(FollowUp.organisation_id == organisation_id)
    )


def _anonymous_facts(organisation_id: int, first: date, last: date) -> list[PersonFacts]:
    """The facts kept of people the organisation no longer follows; a person it follows
    again counts as they are now, not a second time through what was kept."""
    followed_again = exists().where(
        FollowUp.organisation_id == organisation_id,
        FollowUp.beneficiary_id == CohortFact.beneficiary_id,
    )
    rows = db.session.scalars(
        select(CohortFact).where(
            CohortFact.organisation_id == organisation_id,
            CohortFact.registration_month >= first,
            CohortFact.registration_month <= last,
            ~followed_again,
        )
    )
    return [
        PersonFacts(
            month=row.registration_month,
            activity_day=row.activity_day,
            appointment_day=row.appointment_day,
            is_invited=row.is_invited,
            sign_in_after_invitation_days=row.sign_in_after_invitation_days,
            is_activated=row.is_activated,
            is_anonymous=True,
        )
        for row in rows
    ]


def keep_anonymous_facts(organisation_id: int, person: Beneficiary) -> CohortFact | None:
    """Before a follow-up ends (or the person is erased): what the organisation's cohorts
    keep of them, with nothing that identifies them. Call it before steps go."""
    people = _followed(organisation_id).where(FollowUp.beneficiary_id == person.id)
    facts = _people_facts(organisation_id, people)
    if not facts:
        return None
    fact = facts[0]
    # Followed, let go, followed again, let go again: one fact, the latest.
    row = db.session.scalars(
        select(CohortFact).where(
            CohortFact.organisation_id == organisation_id, CohortFact.beneficiary_id == person.id
        )
    ).first() or CohortFact(organisation_id=organisation_id, beneficiary_id=person.id)
    row.registration_month = fact.month
    row.activity_day = fact.activity_day
    row.appointment_day = fact.appointment_day
    row.is_invited = fact.is_invited
    row.sign_in_after_invitation_days = fact.sign_in_after_invitation_days
    row.is_activated = fact.is_activated
    db.session.add(row)
    db.session.flush()
    return row


# -- Appointments and SMS ----------------------------------------------------------------


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return paris_midnight(start), paris_midnight(end + timedelta(days=1))


def _delay_statistics(days: Select) -> tuple[int, float | None, float | None]:
    """Count, median and 80th percentile of a one-column select of delays in days."""
    if db.session.get_bind().dialect.name == "postgresql":
        values = days.subquery()
        column = values.c[0]
        count, mid, p80 = db.session.execute(
            select(
                func.count(column),
                func.percentile_cont(0.5).within_group(column),
                func.percentile_disc(0.8).within_group(column),
            )
        ).one()
        return count, (None if mid is None else float(mid)), (None if p80 is None else float(p80))
    values = [float(value) for value in db.session.scalars(days)]
    return len(values), median(values), percentile_80(values)


def appointment_figures(organisation_id: int, start: date, end: date) -> dict[str, Any]:
    begin, finish = _bounds(start, end)
    facts = appointment_facts()
    in_period = and_(
        facts.c.organisation_id == organisation_id,
        facts.c.starts_at >= begin,
        facts.c.starts_at < finish,
    )
    counts: dict[str, int] = defaultdict(int)
    cancelled_by: dict[str, int] = {who: 0 for who in CANCELLERS}
    by_reminder: dict[bool, dict[str, int]] = {True: defaultdict(int), False: defaultdict(int)}
    moved = 0
    grouped = (facts.c.status, facts.c.cancelled_by, facts.c.moved, facts.c.reminded)
    rows = db.session.execute(
        select(*grouped, func.count()).where(in_period).group_by(*grouped)
    ).all()
    for value, who, was_moved, was_reminded, count in rows:
        status = AppointmentStatus(value)
        if status is AppointmentStatus.CANCELLED and was_moved:
            moved += count
            continue
        counts[status.value] += count
        if status is AppointmentStatus.CANCELLED:
            key = who if who in cancelled_by else "unknown"
            cancelled_by[key] = cancelled_by.get(key, 0) + count
        if status in OUTCOMES:
            by_reminder[bool(was_reminded)][status.value] += count

    def no_show_rate(figures: dict[str, int]) -> float | None:
        outcomes = sum(figures[s.value] for s in OUTCOMES)
        return share(figures[AppointmentStatus.NO_SHOW.value], outcomes)

    confirmed, confirm_median, confirm_p80 = _delay_statistics(
        select(facts.c.confirmation_days).where(in_period, facts.c.confirmation_days.is_not(None))
    )

    def reminder_figures(flag: bool) -> dict[str, Any]:
        figures = by_reminder[flag]
        return {
            "outcomes": sum(figures[s.value] for s in OUTCOMES),
            "no_show": figures[AppointmentStatus.NO_SHOW.value],
            "no_show_rate": no_show_rate(figures),
        }

    return {
        "held": counts[AppointmentStatus.ATTENDED.value],
        "no_show": counts[AppointmentStatus.NO_SHOW.value],
        "excused": counts[AppointmentStatus.EXCUSED.value],
        "cancelled": counts[AppointmentStatus.CANCELLED.value],
        "cancelled_by": cancelled_by,
        "rescheduled": moved,
        "declined": counts[AppointmentStatus.DECLINED.value],
        "requested": counts[AppointmentStatus.REQUESTED.value],
        "confirmed": counts[AppointmentStatus.CONFIRMED.value],
        "no_show_rate": no_show_rate(counts),
        "with_reminder": reminder_figures(True),
        "without_reminder": reminder_figures(False),
        "confirmations": confirmed,
        "median_days_to_confirmation": _rounded(confirm_median),
        "p80_days_to_confirmation": _rounded(confirm_p80),
    }


SENT = (SmsStatus.SENT, SmsStatus.DELIVERED, SmsStatus.UNDELIVERED)
FAILED = (SmsStatus.FAILED, SmsStatus.UNDELIVERED)


def _sms_by_status(organisation_id: int, start: date, end: date) -> Select:
    """(status, messages, segments) of the messages the organisation wrote in the period:
    from the day counts where the triggers keep them, else from the messages."""
    if summarised():
        return (
            select(
                SmsDayCount.status, func.sum(SmsDayCount.messages), func.sum(SmsDayCount.segments)
            )
            .where(
                SmsDayCount.organisation_id == organisation_id,
                SmsDayCount.day >= start,
                SmsDayCount.day <= end,
            )
            .group_by(SmsDayCount.status)
        )
    begin, finish = _bounds(start, end)
    return (
        select(SmsMessage.status, func.count(), func.sum(SmsMessage.segments))
        .where(
            SmsMessage.organisation_id == organisation_id,
            SmsMessage.created_at >= begin,
            SmsMessage.created_at < finish,
        )
        .group_by(SmsMessage.status)
    )


def sms_figures(organisation_id: int, start: date, end: date) -> dict[str, Any]:
    begin, finish = _bounds(start, end)
    by_status = {
        SmsStatus(status): (int(count), int(segments or 0))
        for status, count, segments in db.session.execute(
            _sms_by_status(organisation_id, start, end)
        ).all()
    }
    opted_out = db.session.scalar(
        select(func.count())
        .select_from(EventRecipient)
        .join(Event, Event.id == EventRecipient.event_id)
        .where(
            EventRecipient.organisation_id == organisation_id,
            Event.type == "beneficiary.sms_opted_out",
            Event.occurred_at >= begin,
            Event.occurred_at < finish,
        )
    )
    return {
        "sent": sum(by_status.get(s, (0, 0))[0] for s in SENT),
        "delivered": by_status.get(SmsStatus.DELIVERED, (0, 0))[0],
        "failed": sum(by_status.get(s, (0, 0))[0] for s in FAILED),
        "segments": int(sum(by_status.get(s, (0, 0))[1] for s in SENT)),
        "opted_out": opted_out or 0,
    }


# -- Everything ---------------------------------------------------------------------------


def _tune_for_aggregates() -> None:
    """For this transaction only, on PostgreSQL: a year of a department's appointments
    hashes and sorts in memory, not on disk; and no JIT compilation, which cost half a
    second a query here for scans that take less."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))
        db.session.execute(text("SET LOCAL jit = off"))


@dataclass
class Indicators:
    start: date
    end: date
    cohorts: list[Cohort]
    appointments: dict[str, Any]
    sms: dict[str, Any]
    referents: list[dict[str, Any]]

    def payload(self) -> dict[str, Any]:
        return {
            "from": self.start,
            "to": self.end,
            "target_rate": TARGET_RATE,
            "cohorts": [cohort.payload() for cohort in self.cohorts],
            "appointments": self.appointments,
            "sms": self.sms,
            "referents": self.referents,
        }


def indicators(
    organisation_id: int, start: date, end: date, today: date | None = None
) -> Indicators:
    """The organisation's indicators for the period: its people only, never anyone else's."""
    today = today or paris_today()
    _tune_for_aggregates()
    first, last = month_start(start), month_end(end)
    people = _followed(organisation_id).where(
        Beneficiary.rsa_registration_date >= first, Beneficiary.rsa_registration_date <= last
    )
    live = _people_facts(organisation_id, people)
    everyone = live + _anonymous_facts(organisation_id, first, last)
    by_month: dict[date, list[PersonFacts]] = defaultdict(list)
    for person in everyone:
        by_month[person.month].append(person)
    cohorts = [cohort_of(month, by_month[month], today) for month in months_between(first, last)]
    return Indicators(
        start=start,
        end=end,
        cohorts=cohorts,
        appointments=appointment_figures(organisation_id, start, end),
        sms=sms_figures(organisation_id, start, end),
        referents=_referents(live),
    )


def _referents(live: list[PersonFacts]) -> list[dict[str, Any]]:
    """Counts per référent, in alphabetical order (counts, not a ranking)."""
    rows: dict[str, dict[str, Any]] = {}
    for person in live:
        name = person.referent or ""
        row = rows.setdefault(
            name,
            {"name": person.referent, "people": 0, "in_activity_within_90_days": 0, "activated": 0},
        )
        row["people"] += 1
        row["in_activity_within_90_days"] += (
            person.activity_day is not None and person.activity_day <= 90
        )
        row["activated"] += person.is_activated
    return [rows[name] for name in sorted(rows, key=lambda n: (n == "", n.casefold()))]

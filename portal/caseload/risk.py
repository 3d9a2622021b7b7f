"""The people at risk of a break in their pathway: three rules, written once as SQL so that
they filter, count and mark rows at any scale, with the words that define them on the pages.

Each rule reads the person's whole pathway and appointments, whatever the organisation that
made them: the pathway is one, and a step with another organisation is not a break.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, exists, not_, or_, select, union_all
from sqlalchemy.orm import aliased

from portal.appointments.models import LIVE, Appointment, AppointmentStatus, Slot
from portal.appointments.status import OPEN
from portal.beneficiaries.models import Beneficiary
from portal.core.clock import paris_midnight, paris_today, utcnow
from portal.pathway.models import ACTIVITY_KINDS, PathwayStep, StepStatus

QUIET_DAYS = 30
IDLE_DAYS = 60


@dataclass(frozen=True)
class Rule:
    key: str  # as in the caseload's ?risque=
    label: str
    definition: str


RULES = (
    Rule(
        "sans-suite",
        _l("Sans suite depuis %(days)s jours", days=QUIET_DAYS),
        _l(
            "Inscrite il y a plus de %(days)s jours, aucun rendez-vous à venir (demandé ou "
            "confirmé), aucune étape en cours, et aucune étape ni aucun rendez-vous créé ou "
            "modifié depuis %(days)s jours (le jour d'il y a %(days)s jours compte encore).",
            days=QUIET_DAYS,
        ),
    ),
    Rule(
        "sans-activite",
        _l("Pas d'activité après %(days)s jours", days=IDLE_DAYS),
        _l(
            "Inscrite au RSA il y a %(days)s jours ou plus, sans activité commencée : aucune "
            "immersion, formation, bénévolat ou emploi en cours ou terminé (une étape annulée "
            "ne compte pas).",
            days=IDLE_DAYS,
        ),
    ),
    Rule(
        "absence",
        _l("Absente, rien de repris"),
        _l(
            "Absente à un rendez-vous, et aucun rendez-vous demandé depuis l'heure de ce "
            "rendez-vous (un rendez-vous refusé ou annulé ne compte pas)."
        ),
    ),
)
RULE_KEYS = tuple(rule.key for rule in RULES)
LABELS = {rule.key: rule.label for rule in RULES}
ANY = "toutes"  # ?risque=toutes: at least one rule


# Each rule is written with IN (SELECT person …) rather than correlated EXISTS: PostgreSQL
# reads each subquery once into a hash table, where EXISTS would probe the indexes once a
# person (100 000 people: seconds, against tens of milliseconds). The subqueries skip the
# appointments of erased people (no person): a NULL would make every NOT IN unknown.


def _people_with_steps(*conditions, among: Sequence[int] | None = None) -> Select:
    query = select(PathwayStep.beneficiary_id).where(*conditions)
    return query if among is None else query.where(PathwayStep.beneficiary_id.in_(among))


def _people_with_appointments(*conditions, among: Sequence[int] | None = None) -> Select:
    query = select(Appointment.beneficiary_id).where(
        Appointment.beneficiary_id.is_not(None), *conditions
    )
    return query if among is None else query.where(Appointment.beneficiary_id.in_(among))


def activity_started(among: Sequence[int] | None = None) -> ColumnElement[bool]:
    """The indicators' activity: a step of an activity kind, in progress or done."""
    return Beneficiary.id.in_(
        _people_with_steps(
            PathwayStep.kind.in_(ACTIVITY_KINDS),
            PathwayStep.status.in_((StepStatus.IN_PROGRESS, StepStatus.DONE)),
            among=among,
        )
    )


def _quiet(today: date, now: datetime, among: Sequence[int] | None) -> ColumnElement[bool]:
    since = paris_midnight(today - timedelta(days=QUIET_DAYS))
    upcoming = _people_with_appointments(
        Appointment.status.in_(OPEN),
        Appointment.slot_id.in_(select(Slot.id).where(Slot.starts_at >= now)),
        among=among,
    )
    busy = union_all(  # NOT IN hashes the ids: no need to remove duplicates first
        _people_with_steps(PathwayStep.status == StepStatus.IN_PROGRESS, among=among),
        _people_with_steps(PathwayStep.updated_at >= since, among=among),
        _people_with_appointments(Appointment.updated_at >= since, among=among),
        upcoming,
    )
    return and_(
        Beneficiary.rsa_registration_date < today - timedelta(days=QUIET_DAYS),
        Beneficiary.id.not_in(select(busy.subquery().c[0])),
    )


def _idle(today: date, among: Sequence[int] | None) -> ColumnElement[bool]:
    return and_(
        Beneficiary.rsa_registration_date <= today - timedelta(days=IDLE_DAYS),
        not_(activity_started(among)),
    )


def _absent(among: Sequence[int] | None) -> ColumnElement[bool]:
    missed, missed_slot, later = aliased(Appointment), aliased(Slot), aliased(Appointment)
    booked_since = exists().where(
        later.beneficiary_id == missed.beneficiary_id,
        later.id != missed.id,
        later.status.in_(LIVE),
        later.booked_at > missed_slot.starts_at,
    )
    missed_people = (
        select(missed.beneficiary_id)
        .join(missed_slot, missed_slot.id == missed.slot_id)
        .where(missed.status == AppointmentStatus.NO_SHOW, not_(booked_since))
    )
    if among is not None:
        missed_people = missed_people.where(missed.beneficiary_id.in_(among))
    return Beneficiary.id.in_(missed_people)


def conditions(
    today: date | None = None, among: Sequence[int] | None = None
) -> dict[str, ColumnElement]:
    """Each rule's condition on Beneficiary, by key, today (Paris). `among`: the only people
    the query will read (a page's), so that each subquery reads theirs alone."""
    today = today or paris_today()
    return {
        "sans-suite": _quiet(today, utcnow(), among),
        "sans-activite": _idle(today, among),
        "absence": _absent(among),
    }


def condition(key: str, today: date | None = None) -> ColumnElement[bool]:
    """One rule, or any of them for ANY."""
    rules = conditions(today)
    return or_(*rules.values()) if key == ANY else rules[key]

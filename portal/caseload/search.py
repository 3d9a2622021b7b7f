"""The organisation's caseload: search, filters, sort, pages, counts and the CSV export.

Every query starts from the organisation's FollowUp rows: another organisation's people
never appear, not even in a count.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    and_,
    case,
    func,
    or_,
    select,
    text,
    union_all,
)

from portal.appointments.models import Appointment
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.caseload import risk
from portal.core.clock import paris_today
from portal.core.phones import InvalidPhone, display_phone, normalise_phone
from portal.core.text import fold
from portal.extensions import db
from portal.organisations.models import Counsellor
from portal.pathway.models import PathwayStep

PAGE_SIZE = 50
MAX_TEXT = 100
# Digits a phone number may be typed with: "06 12 34 56 78", "+33 6 12…", "0033 6…".
_PHONE_LIKE = re.compile(r"^[+0-9][0-9 .()\-]*$")
SORTS = {
    "nom": _l("Nom"),
    "inscription": _l("Date d'inscription (la plus ancienne d'abord)"),
    "mouvement": _l("Dernier mouvement (le plus ancien d'abord)"),
}


@dataclass(frozen=True)
class Filters:
    text: str = ""
    mine: bool = False
    referent: str | None = None  # a référent's e-mail, among the organisation's
    risk: str | None = None  # a rule key, or risk.ANY
    activity: bool | None = None  # started or not
    registered_from: date | None = None
    registered_to: date | None = None
    sort: str = "nom"
    page: int = 1


@dataclass
class Row:
    id: int
    last_name: str
    first_name: str
    phone: str
    caf_number: str | None
    france_travail_id: str | None
    registered_on: date
    external_id: str
    referent_name: str | None
    is_mine: bool
    last_change: datetime | None = None
    risks: list[str] = field(default_factory=list)


@dataclass
class Page:
    rows: list[Row]
    total: int
    page: int
    pages: int


def _followed(counsellor: Counsellor) -> Select:
    return (
        select(Beneficiary.id)
        .join(FollowUp, FollowUp.beneficiary_id == Beneficiary.id)
        .where(FollowUp.organisation_id == counsellor.organisation_id)
    )


def _text_condition(text: str) -> ColumnElement[bool] | None:
    """A name (each word anywhere in "last first"), a phone typed any way, a CAF number or
    a France Travail id."""
    text = text.strip()[:MAX_TEXT]
    if not text:
        return None
    found: list[ColumnElement[bool]] = []
    words = fold(text).split()
    if words and any(char.isalpha() for char in text):  # digits alone: a number, not a name
        found.append(and_(*(Beneficiary.search_name.contains(word) for word in words)))
    if _PHONE_LIKE.match(text):
        try:
            found.append(Beneficiary.phone == normalise_phone(text))
        except InvalidPhone:
            pass
    compact = re.sub(r"\s+", "", text)
    if compact:
        found.append(Beneficiary.caf_number == compact)
        found.append(Beneficiary.france_travail_id.in_({compact, compact.upper()}))
    return or_(*found)


def terms_kind(text: str) -> str | None:
    """What kind of terms a search was made with, for the audit trail, which never keeps
    the terms: "nom", "telephone" or "numero" (CAF or France Travail); None without terms."""
    text = text.strip()[:MAX_TEXT]
    if not text:
        return None
    if any(char.isalpha() for char in text):
        # One word of letters and digits is an identifier (a France Travail id), not a name.
        single = len(text.split()) == 1 and any(char.isdigit() for char in text)
        return "numero" if single else "nom"
    if _PHONE_LIKE.match(text):
        try:
            normalise_phone(text)
            return "telephone"
        except InvalidPhone:
            pass
    return "numero"


def referents(counsellor: Counsellor) -> list[tuple[str, str]]:
    """The organisation's référents as (e-mail, name), by name."""
    rows = db.session.execute(
        select(FollowUp.referent_email, func.max(FollowUp.referent_name))
        .where(
            FollowUp.organisation_id == counsellor.organisation_id,
            FollowUp.referent_email.is_not(None),
        )
        .group_by(FollowUp.referent_email)
    ).all()
    return sorted(((email, name or email) for email, name in rows), key=lambda r: r[1].lower())


def _filtered(counsellor: Counsellor, filters: Filters, today: date) -> Select:
    query = _followed(counsellor)
    text = _text_condition(filters.text)
    if text is not None:
        query = query.where(text)
    if filters.mine:
        query = query.where(FollowUp.referent_email == counsellor.email)
    if filters.referent:
        query = query.where(FollowUp.referent_email == filters.referent)
    if filters.risk:
        query = query.where(risk.condition(filters.risk, today))
    if filters.activity is not None:
        started = risk.activity_started()
        query = query.where(started if filters.activity else ~started)
    if filters.registered_from:
        query = query.where(Beneficiary.rsa_registration_date >= filters.registered_from)
    if filters.registered_to:
        query = query.where(Beneficiary.rsa_registration_date <= filters.registered_to)
    return query


def _last_change() -> ColumnElement:
    """The latest change to one of the person's steps or appointments (None: never)."""
    step = (
        select(func.max(PathwayStep.updated_at))
        .where(PathwayStep.beneficiary_id == Beneficiary.id)
        .scalar_subquery()
    )
    appointment = (
        select(func.max(Appointment.updated_at))
        .where(Appointment.beneficiary_id == Beneficiary.id)
        .scalar_subquery()
    )
    return case(
        (appointment.is_(None), step),
        (step.is_(None), appointment),
        (step >= appointment, step),
        else_=appointment,
    )


def _rows(counsellor: Counsellor, filtered: Select, today: date, ids: list[int]) -> Select:
    is_mine = func.coalesce(FollowUp.referent_email == counsellor.email, False)
    last_change = _last_change()
    return filtered.with_only_columns(
        Beneficiary.id,
        Beneficiary.last_name,
        Beneficiary.first_name,
        Beneficiary.phone,
        Beneficiary.caf_number,
        Beneficiary.france_travail_id,
        Beneficiary.rsa_registration_date,
        FollowUp.external_id,
        FollowUp.referent_name,
        is_mine,
        last_change.label("last_change"),
        *(rule.label(key) for key, rule in risk.conditions(today, among=ids).items()),
    )


def _last_changes() -> Subquery:
    """(person, the latest change to one of their steps or appointments), read in one pass."""
    changes = union_all(
        select(PathwayStep.beneficiary_id.label("person"), PathwayStep.updated_at.label("at")),
        select(Appointment.beneficiary_id, Appointment.updated_at).where(
            Appointment.beneficiary_id.is_not(None)
        ),
    ).subquery()
    return (
        select(changes.c.person, func.max(changes.c.at).label("at"))
        .group_by(changes.c.person)
        .subquery()
    )


def _ordered(query: Select, sort: str) -> Select:
    if sort == "inscription":
        return query.order_by(Beneficiary.rsa_registration_date, Beneficiary.id)
    if sort == "mouvement":
        # Never moved first, then the longest still.
        last = _last_changes()
        return query.outerjoin(last, last.c.person == Beneficiary.id).order_by(
            last.c.at.is_not(None), last.c.at, Beneficiary.id
        )
    return query.order_by(Beneficiary.search_name, Beneficiary.id)


def _row(values) -> Row:
    risks = [key for key in risk.RULE_KEYS if getattr(values, key)]
    return Row(*values[:11], risks=risks)


def _decorated(counsellor: Counsellor, ids: list[int], today: date) -> list[Row]:
    """The rows of these people, in this order, with their risks and last change: computed
    for one page only, after the sort and the limit, since they cost a subquery each."""
    if not ids:
        return []
    rows = db.session.execute(
        _rows(counsellor, _followed(counsellor).where(Beneficiary.id.in_(ids)), today, ids)
    ).all()
    by_id = {values[0]: _row(values) for values in rows}
    return [by_id[person_id] for person_id in ids if person_id in by_id]


def _without_jit() -> None:
    """For this transaction, on PostgreSQL: no JIT compilation, which costs more than the
    scans of a caseload take (as for the indicators)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))


def search(counsellor: Counsellor, filters: Filters, size: int = PAGE_SIZE) -> Page:
    """One page of the people matching `filters`, with the total. With an at-risk filter,
    counted in the same scan as the page (a window count): the rules make a scan costly;
    otherwise a plain count, which needs no sort."""
    _without_jit()
    today = paris_today()
    filtered = _filtered(counsellor, filters, today)
    page = max(1, filters.page)
    query = filtered.add_columns(func.count().over().label("total")) if filters.risk else filtered
    found = db.session.execute(
        _ordered(query, filters.sort).limit(size).offset((page - 1) * size)
    ).all()
    if found and filters.risk:
        total = found[0].total
    else:
        total = db.session.scalar(select(func.count()).select_from(filtered.subquery())) or 0
        if not found and total and page > 1:  # past the last page: show the last one
            return search(counsellor, replace(filters, page=-(-total // size)), size)
    pages = max(1, -(-total // size))
    return Page(_decorated(counsellor, [row[0] for row in found], today), total, page, pages)


def every_row(counsellor: Counsellor, filters: Filters) -> Iterator[Row]:
    """Every matching person, in the page's order, a thousand at a time (the CSV export)."""
    today = paris_today()
    ids = list(db.session.scalars(_ordered(_filtered(counsellor, filters, today), filters.sort)))
    for start in range(0, len(ids), 1000):
        yield from _decorated(counsellor, ids[start : start + 1000], today)


def counts(counsellor: Counsellor, mine: bool = False, with_risks: bool = True) -> dict[str, int]:
    """People followed, the counsellor's own, and (`with_risks`) at risk by rule, in one pass
    over the organisation's people (the counsellor's only when `mine`). The rules cost a
    scan of every step and appointment: the caseload page leaves them to the home."""
    _without_jit()
    query = _followed(counsellor)
    if mine:
        query = query.where(FollowUp.referent_email == counsellor.email)
    columns = {
        "total": func.count(),
        "mine": func.count(case((FollowUp.referent_email == counsellor.email, 1))),
    }
    if with_risks:
        rules = risk.conditions()
        columns[risk.ANY] = func.count(case((or_(*rules.values()), 1)))
        columns.update({key: func.count(case((rule, 1))) for key, rule in rules.items()})
    values = db.session.execute(
        query.with_only_columns(*(column.label(name) for name, column in columns.items()))
    ).one()
    return dict(zip(columns, values, strict=True))


CSV_HEADERS = (
    _l("Nom"),
    _l("Prénom"),
    _l("Dossier"),
    _l("Portable"),
    _l("N° CAF"),
    _l("Identifiant France Travail"),
    _l("Inscription au RSA"),
    _l("Référent"),
    _l("À risque"),
)


def csv_values(row: Row, labels: dict[str, str]) -> list[Any]:
    """A row of the export: what the page shows, never a secret."""
    return [
        row.last_name,
        row.first_name,
        row.external_id,
        display_phone(row.phone),
        row.caf_number or "",
        row.france_travail_id or "",
        row.registered_on.isoformat(),
        row.referent_name or "",
        " ; ".join(labels[key] for key in row.risks),
    ]

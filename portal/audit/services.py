"""Writing the audit trail (one INSERT, in the transaction of the page that reads) and
reading it: the administrators' page, and the organisations a person sees on their own
"Mes données" page."""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.audit.models import AuditEntry
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.extensions import db
from portal.organisations.models import Counsellor, Organisation

PERSON_VIEWED = "person.viewed"
CASELOAD_SEARCHED = "caseload.searched"
CASELOAD_EXPORTED = "caseload.exported"
INDICATORS_EXPORTED = "indicators.exported"
ACTIONS = {
    PERSON_VIEWED: _l("Dossier ouvert"),
    CASELOAD_SEARCHED: _l("Liste des dossiers"),
    CASELOAD_EXPORTED: _l("Export des dossiers (CSV)"),
    INDICATORS_EXPORTED: _l("Export des indicateurs (CSV)"),
}
# What a search was made with: its kind only, never the terms.
SEARCH_KINDS = {
    "nom": _l("recherche par nom"),
    "telephone": _l("recherche par téléphone"),
    "numero": _l("recherche par numéro CAF ou France Travail"),
}
PAGE_SIZE = 50
MAX_DETAIL = 40


def record(
    counsellor: Counsellor,
    action: str,
    ip_address: str | None,
    person_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Adds the entry to the session: it is written with the page's own commit."""
    db.session.add(
        AuditEntry(
            organisation_id=counsellor.organisation_id,
            counsellor_id=counsellor.id,
            action=action,
            beneficiary_id=person_id,
            detail=detail[:MAX_DETAIL] if detail else None,
            ip_address=(ip_address or "")[:45] or None,
        )
    )


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    # People of the entries the organisation still follows: only their names are shown.
    followed: set[int]
    total: int
    page: int
    pages: int


def entries_of(
    organisation_id: int,
    counsellor_id: int | None = None,
    person_id: int | None = None,
    page: int = 1,
) -> AuditPage:
    """The organisation's entries, newest first, a page at a time; past the last page,
    the last one."""
    conditions = [AuditEntry.organisation_id == organisation_id]
    if counsellor_id is not None:
        conditions.append(AuditEntry.counsellor_id == counsellor_id)
    if person_id is not None:
        conditions.append(AuditEntry.beneficiary_id == person_id)
    total = db.session.scalar(select(func.count()).where(*conditions)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    entries = list(
        db.session.scalars(
            select(AuditEntry)
            .options(joinedload(AuditEntry.counsellor), joinedload(AuditEntry.beneficiary))
            .where(*conditions)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
    )
    people = {entry.beneficiary_id for entry in entries if entry.beneficiary_id}
    followed = set(
        db.session.scalars(
            select(FollowUp.beneficiary_id).where(
                FollowUp.organisation_id == organisation_id, FollowUp.beneficiary_id.in_(people)
            )
        )
    )
    return AuditPage(entries, followed, total, page, pages)


def followed_person(organisation_id: int, person_id: int) -> Beneficiary | None:
    """The person, when the organisation follows them (the page's person filter)."""
    return db.session.scalar(
        select(Beneficiary)
        .join(FollowUp, FollowUp.beneficiary_id == Beneficiary.id)
        .where(FollowUp.organisation_id == organisation_id, Beneficiary.id == person_id)
    )


@dataclass(frozen=True)
class OpenedBy:
    organisation_name: str
    last_opened_at: datetime


def organisations_that_opened(person: Beneficiary) -> list[OpenedBy]:
    """Which organisations' staff opened the person's file, and when last (not who): for
    the person's own "Mes données" page. Latest first."""
    last = func.max(AuditEntry.at)
    rows = db.session.execute(
        select(Organisation.name, last)
        .join(Organisation, Organisation.id == AuditEntry.organisation_id)
        .where(AuditEntry.beneficiary_id == person.id, AuditEntry.action == PERSON_VIEWED)
        .group_by(Organisation.id, Organisation.name)
        .order_by(last.desc(), Organisation.name)
    ).all()
    return [OpenedBy(name, at) for name, at in rows]

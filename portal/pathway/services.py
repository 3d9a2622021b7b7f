"""Pathway steps: each organisation owns its own, the person sees them all."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from portal.beneficiaries.models import Beneficiary
from portal.extensions import db
from portal.organisations.models import Organisation
from portal.pathway.models import PathwayStep, StepKind, StepSource, StepStatus


@dataclass(frozen=True)
class StepUpsert:
    step: PathwayStep
    created: bool
    changed: bool


class StepError(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def step_by_external_id(
    organisation: Organisation, beneficiary: Beneficiary, external_id: str
) -> PathwayStep | None:
    return db.session.scalars(
        select(PathwayStep).where(
            PathwayStep.organisation_id == organisation.id,
            PathwayStep.beneficiary_id == beneficiary.id,
            PathwayStep.external_id == external_id,
        )
    ).first()


def upsert_step(
    organisation: Organisation, beneficiary: Beneficiary, external_id: str, fields: dict[str, Any]
) -> StepUpsert:
    """Creates or replaces one of the organisation's steps for this person."""
    if (
        fields.get("starts_on")
        and fields.get("ends_on")
        and fields["ends_on"] < fields["starts_on"]
    ):
        raise StepError("ends_on is before starts_on", "ends_on")
    taken = db.session.scalars(
        select(PathwayStep).where(
            PathwayStep.organisation_id == organisation.id, PathwayStep.external_id == external_id
        )
    ).first()
    if taken is not None and taken.beneficiary_id != beneficiary.id:
        raise StepError("this step external_id already belongs to another beneficiary")
    values = {
        "kind": StepKind(fields["kind"]),
        "title": fields["title"],
        "status": StepStatus(fields["status"]),
        "starts_on": fields.get("starts_on"),
        "ends_on": fields.get("ends_on"),
        "organisation_name": fields.get("organisation_name"),
        "description": fields.get("description"),
    }
    step = taken
    if step is None:
        step = PathwayStep(
            organisation_id=organisation.id,
            beneficiary=beneficiary,
            external_id=external_id,
            source=StepSource.BACKOFFICE,
            **values,
        )
        db.session.add(step)
        db.session.flush()
        return StepUpsert(step, True, True)
    changed = False
    for name, value in values.items():
        if getattr(step, name) != value:
            setattr(step, name, value)
            changed = True
    db.session.flush()
    return StepUpsert(step, False, changed)


def steps_of(beneficiary: Beneficiary) -> list[PathwayStep]:
    """The whole pathway, every organisation's steps, oldest first (undated ones last)."""
    return list(
        db.session.scalars(
            select(PathwayStep)
            .where(PathwayStep.beneficiary_id == beneficiary.id)
            .order_by(PathwayStep.starts_on.is_(None), PathwayStep.starts_on, PathwayStep.id)
        )
    )


def step_payload(step: PathwayStep) -> dict[str, Any]:
    return {
        "external_id": step.external_id,
        "organisation": step.organisation.slug,
        "source": step.source.value,
        "kind": step.kind.value,
        "title": step.title,
        "status": step.status.value,
        "starts_on": step.starts_on,
        "ends_on": step.ends_on,
        "organisation_name": step.organisation_name,
        "description": step.description,
        "created_at": step.created_at,
        "updated_at": step.updated_at,
    }

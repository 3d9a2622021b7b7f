"""Pathway steps: each organisation owns its own, the person sees them all."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.beneficiaries.models import Beneficiary
from portal.beneficiaries.services import follow_ups_of
from portal.core.clock import paris_today
from portal.extensions import db
from portal.organisations.models import Organisation
from portal.pathway.models import ACTIVITY_KINDS, PathwayStep, StepKind, StepSource, StepStatus


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


def delete_step(organisation: Organisation, beneficiary: Beneficiary, external_id: str) -> bool:
    """Deletes one of the organisation's steps for the person; False when there is none."""
    step = step_by_external_id(organisation, beneficiary, external_id)
    if step is None:
        return False
    db.session.delete(step)
    db.session.flush()
    return True


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
    """The whole pathway, every organisation's steps, oldest first (undated ones last).

    An appointment's step comes with its appointment, whose slot and counsellor the
    appointments side always loads with it.
    """
    return list(
        db.session.scalars(
            select(PathwayStep)
            .options(joinedload(PathwayStep.organisation), joinedload(PathwayStep.appointment))
            .where(PathwayStep.beneficiary_id == beneficiary.id)
            .order_by(PathwayStep.starts_on.is_(None), PathwayStep.starts_on, PathwayStep.id)
        )
    )


# -- What the person sees --------------------------------------------------------------------

AIM_DAYS = 90
STARTED = (StepStatus.IN_PROGRESS, StepStatus.DONE)


def current_step(steps: list[PathwayStep]) -> PathwayStep | None:
    """Where the person is now: the step in progress that started last (undated ones after)."""
    in_progress = [step for step in steps if step.status is StepStatus.IN_PROGRESS]
    in_progress.sort(key=lambda step: (step.starts_on is not None, step.starts_on, step.id))
    return in_progress[-1] if in_progress else None


def next_step(steps: list[PathwayStep], today: date) -> PathwayStep | None:
    """What comes next: the earliest planned step not in the past (undated ones last)."""
    planned = [
        step
        for step in steps
        if step.status is StepStatus.PLANNED and (step.starts_on is None or step.starts_on >= today)
    ]
    planned.sort(key=lambda step: (step.starts_on is None, step.starts_on or today, step.id))
    return planned[0] if planned else None


def first_activity(steps: list[PathwayStep]) -> PathwayStep | None:
    """The first immersion, training, volunteering or job the person started."""
    started = [step for step in steps if step.kind in ACTIVITY_KINDS and step.status in STARTED]
    started.sort(key=lambda step: (step.starts_on is None, step.starts_on or date.max, step.id))
    return started[0] if started else None


@dataclass(frozen=True)
class Aim:
    """The 90-day aim, as encouragement: how far along, and whether an activity started."""

    registered_on: date
    days_since: int
    deadline: date
    activity: PathwayStep | None

    @property
    def is_within(self) -> bool:
        """Still inside the first 90 days (the 90th day included)."""
        return self.days_since <= AIM_DAYS

    @property
    def started_in_time(self) -> bool:
        return bool(
            self.activity and self.activity.starts_on and self.activity.starts_on <= self.deadline
        )


def aim(registered_on: date, steps: list[PathwayStep], today: date) -> Aim:
    return Aim(
        registered_on=registered_on,
        days_since=max(0, (today - registered_on).days),
        deadline=registered_on + timedelta(days=AIM_DAYS),
        activity=first_activity(steps),
    )


@dataclass(frozen=True)
class Referent:
    organisation: str
    name: str | None
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class Pathway:
    steps: list[PathwayStep]
    current: PathwayStep | None
    next: PathwayStep | None
    aim: Aim
    referents: list[Referent]


def pathway_of(beneficiary: Beneficiary, today: date | None = None) -> Pathway:
    """Everything the pathway shows, in a fixed number of queries whatever its length."""
    today = today or paris_today()
    steps = steps_of(beneficiary)
    follow_ups = follow_ups_of(beneficiary)
    return Pathway(
        steps=steps,
        current=current_step(steps),
        next=next_step(steps, today),
        aim=aim(beneficiary.rsa_registration_date, steps, today),
        referents=[
            Referent(
                organisation=f.organisation.name,
                name=f.referent_name,
                email=f.referent_email,
                phone=f.referent_phone,
            )
            for f in follow_ups
            if f.referent_name or f.referent_email
        ],
    )


def own_step(beneficiary: Beneficiary, step_id: int) -> PathwayStep | None:
    """One of the person's own steps; another person's is as if it did not exist."""
    return db.session.scalars(
        select(PathwayStep)
        .options(joinedload(PathwayStep.organisation))
        .where(PathwayStep.id == step_id, PathwayStep.beneficiary_id == beneficiary.id)
    ).first()

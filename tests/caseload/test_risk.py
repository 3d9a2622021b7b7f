"""The three at-risk rules on a cohort whose answers are known, day by day."""

from datetime import timedelta

from sqlalchemy import update

from portal.appointments.models import Appointment, AppointmentStatus
from portal.caseload import risk
from portal.caseload.search import Filters, counts, search
from portal.core.clock import paris_midnight, paris_today, utcnow
from portal.extensions import db
from portal.pathway.models import PathwayStep, StepKind, StepStatus
from tests.caseload.conftest import person
from tests.factories import make_appointment, make_counsellor, make_slot, make_step


def _at_risk(counsellor, key) -> set[str]:
    return {row.last_name for row in search(counsellor, Filters(risk=key)).rows}


def _step_changed(step, days_ago: int) -> None:
    moment = paris_midnight(paris_today() - timedelta(days=days_ago)) + timedelta(hours=12)
    db.session.execute(
        update(PathwayStep).where(PathwayStep.id == step.id).values(updated_at=moment)
    )
    db.session.commit()


def test_registered_60_days_ago_without_activity(organisation, me):
    for day in (59, 60, 61):
        person(organisation, f"Jour{day}", days_ago=day)
    cancelled = person(organisation, "Annulee", days_ago=70)
    make_step(cancelled, organisation, kind=StepKind.TRAINING, status=StepStatus.CANCELLED)
    started = person(organisation, "Commencee", days_ago=70)
    make_step(started, organisation, kind=StepKind.IMMERSION, status=StepStatus.IN_PROGRESS)
    planned = person(organisation, "Prevue", days_ago=70)
    make_step(planned, organisation, kind=StepKind.EMPLOYMENT, status=StepStatus.PLANNED)
    assert _at_risk(me, "sans-activite") == {"Jour60", "Jour61", "Annulee", "Prevue"}
    assert counts(me)["sans-activite"] == 4


def test_nothing_moved_for_30_days(organisation, me):
    recent = person(organisation, "Recente", days_ago=100)
    _step_changed(make_step(recent, organisation, kind=StepKind.OTHER, status=StepStatus.DONE), 29)
    old = person(organisation, "Ancienne", days_ago=100)
    _step_changed(make_step(old, organisation, kind=StepKind.OTHER, status=StepStatus.DONE), 31)
    running = person(organisation, "EnCours", days_ago=100)
    _step_changed(make_step(running, organisation, kind=StepKind.OTHER), 31)  # in progress
    person(organisation, "Nouvelle", days_ago=10)  # registered too recently
    person(organisation, "Rien", days_ago=40)
    booked = person(organisation, "Attendue", days_ago=100)
    appointment = make_appointment(make_slot(me, starts_in=timedelta(days=40)), booked)
    db.session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id)
        .values(updated_at=utcnow() - timedelta(days=45), booked_at=utcnow() - timedelta(days=45))
    )
    db.session.commit()
    assert _at_risk(me, "sans-suite") == {"Ancienne", "Rien"}


def test_a_no_show_with_nothing_booked_since(organisation, me):
    def no_show(last_name):
        someone = person(organisation, last_name)
        slot = make_slot(me, starts_in=timedelta(days=-10))
        make_appointment(slot, someone, status=AppointmentStatus.NO_SHOW)
        return someone

    no_show("Absente")
    rebooked = no_show("Reprise")
    make_appointment(make_slot(me, starts_in=timedelta(days=5)), rebooked)
    declined = no_show("Refusee")
    make_appointment(
        make_slot(me, starts_in=timedelta(days=5)), declined, status=AppointmentStatus.DECLINED
    )
    came = person(organisation, "Venue")
    make_appointment(
        make_slot(me, starts_in=timedelta(days=-10)), came, status=AppointmentStatus.ATTENDED
    )
    assert _at_risk(me, "absence") == {"Absente", "Refusee"}
    assert _at_risk(me, risk.ANY) == {"Absente", "Refusee"}
    rows = search(make_counsellor(organisation), Filters(text="absente")).rows
    assert rows[0].risks == ["absence"]

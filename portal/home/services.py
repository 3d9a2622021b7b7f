"""What the beneficiary's home page shows, gathered from the features below it."""

from dataclasses import dataclass

from portal.appointments.models import Appointment
from portal.appointments.services import next_appointment, shows_video_link
from portal.beneficiaries.models import Beneficiary
from portal.pathway.services import Pathway, pathway_of


@dataclass(frozen=True)
class BeneficiaryHome:
    pathway: Pathway
    next_appointment: Appointment | None
    video_link_open: bool


def beneficiary_home(person: Beneficiary) -> BeneficiaryHome:
    """The pathway (now, next, the timeline, the référents) and the next appointment."""
    appointment = next_appointment(person)
    return BeneficiaryHome(
        pathway=pathway_of(person),
        next_appointment=appointment,
        video_link_open=appointment is not None and shows_video_link(appointment),
    )

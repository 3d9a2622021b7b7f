"""The API's JSON bodies, built in one place from the features' models.

Each builder turns what a service returned into the dict that the response model
(schemas.py) validates; builders read attributes, never the database. The event
body is the exception: webhooks (below the API) send it too, so it lives in
events/services.py.
"""

from typing import Any

from portal.appointments.models import Appointment
from portal.appointments.services import SlotState
from portal.beneficiaries import services as beneficiaries
from portal.beneficiaries.models import FollowUp
from portal.events.models import WebhookEndpoint
from portal.offers import services as offers
from portal.offers.models import Offer
from portal.pathway.models import PathwayStep


def beneficiary_payload(follow_up: FollowUp) -> dict[str, Any]:
    person = follow_up.beneficiary
    payload = {name: getattr(person, name) for name in beneficiaries.PERSONAL_FIELDS}
    payload["role"] = person.role.value
    referent = None
    if follow_up.referent_name or follow_up.referent_email:
        referent = {
            "name": follow_up.referent_name,
            "email": follow_up.referent_email,
            "phone": follow_up.referent_phone,
        }
    payload.update(
        {
            "id": person.id,
            "external_id": follow_up.external_id,
            "referent": referent,
            "activated_at": person.activated_at,
            "sms_opted_out": person.sms_opted_out,
            "followed_by": beneficiaries.followed_by(person),
            "lead_organisation": person.lead_organisation.slug
            if person.lead_organisation
            else None,
            "created_at": person.created_at,
            "updated_at": person.updated_at,
        }
    )
    return payload


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


def slot_payload(state: SlotState) -> dict[str, Any]:
    slot = state.slot
    return {
        "id": slot.id,
        "external_id": slot.external_id,
        "counsellor_email": slot.counsellor.email,
        "starts_at": slot.starts_at,
        "duration_minutes": slot.duration_minutes,
        "mode": slot.mode.value,
        "location": slot.location,
        "purpose": slot.purpose.value,
        "reserved_for": state.reserved_for_external_id,
        "video_url": slot.video_url,
        "capacity": slot.capacity,
        "title": slot.title,
        "is_booked": state.is_booked,
        "appointments_count": state.appointments_count,
        "seats_left": state.seats_left,
        "created_at": slot.created_at,
        "updated_at": slot.updated_at,
    }


def appointment_payload(appointment: Appointment, beneficiary_external_id: str | None) -> dict:
    slot = appointment.slot
    return {
        "id": appointment.id,
        "slot_external_id": slot.external_id,
        "beneficiary_external_id": beneficiary_external_id,
        "starts_at": slot.starts_at,
        "mode": slot.mode.value,
        "location": slot.location,
        "status": appointment.status.value,
        "status_reason": appointment.status_reason,
        "booked_at": appointment.booked_at,
        "updated_at": appointment.updated_at,
    }


def offer_payload(offer: Offer) -> dict[str, Any]:
    payload = {name: getattr(offer, name) for name in offers.FIELDS}
    payload["latitude"], payload["longitude"] = offers.given_coordinates(offer)
    payload.update(
        {
            "external_id": offer.external_id,
            "id": offer.id,
            "kind": offer.kind.value,
            "remote": offer.is_remote,
            "created_at": offer.created_at,
            "updated_at": offer.updated_at,
        }
    )
    return payload


def endpoint_payload(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "url": endpoint.url,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }

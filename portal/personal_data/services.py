"""Saving what the back office says of people, and what changing it causes.

Personal fields are shared: the latest PUT, from any organisation, wins. So that no
organisation can quietly take a person over (link to them on CAF number and birth
date, which are not secret, then change their phone and sign in as them), a change
of who the person is or how to reach them is told to every organisation following
them, and a new phone number ends the person's sessions, voids the sign-in links
sent to the old one and tells the old number by SMS.
"""

import logging
from typing import Any

from flask import render_template
from flask_babel import force_locale

from portal.auth.services import void_invitations
from portal.beneficiaries import services as beneficiaries
from portal.beneficiaries.models import Beneficiary
from portal.beneficiaries.services import Upserted
from portal.events.services import record_event
from portal.organisations.models import Organisation
from portal.sms.gsm import to_gsm7
from portal.sms.models import PRIORITY_NOTICE, SmsKind
from portal.sms.outbox import queue_sms

logger = logging.getLogger(__name__)

# The fields whose change every follower hears of (contract v1.1); never their values.
WATCHED_FIELDS = ("phone", "first_name", "last_name", "birth_date", "email")


def save_people(
    organisation: Organisation, items: list[tuple[str, dict[str, Any]]]
) -> list[Upserted]:
    """Creates or replaces people as `organisation` describes them (see
    beneficiaries.upsert_beneficiaries), then applies the consequences of each change."""
    results = beneficiaries.upsert_beneficiaries(organisation, items)
    for result in results:
        watched = [name for name in result.changed_fields if name in WATCHED_FIELDS]
        if result.person is not None and watched:
            _personal_data_changed(result.person, organisation, watched, result.previous_phone)
    return results


def save_person(organisation: Organisation, external_id: str, fields: dict[str, Any]) -> Upserted:
    return save_people(organisation, [(external_id, fields)])[0]


def _personal_data_changed(
    person: Beneficiary, by: Organisation, fields: list[str], previous_phone: str | None
) -> None:
    record_event("beneficiary.updated", person, {"fields": sorted(fields), "by": by.slug})
    if "phone" not in fields or previous_phone is None:
        return
    # Whoever holds the old number may no longer sign in as the person.
    void_invitations(person)
    if person.activated_at is None:
        return
    person.end_sessions()
    with force_locale(person.language):
        body = render_template("sms/phone_changed.txt", sender=by.sender_name).strip()
    queue_sms(
        to=previous_phone,
        body=to_gsm7(body),
        kind=SmsKind.PHONE_CHANGED,
        beneficiary=person,
        organisation=by,
        language=person.language,
        priority=PRIORITY_NOTICE,
    )
    logger.info("a person's phone changed: sessions ended, the old number told")

"""People pushed by the back office: one person, whatever the number of organisations.

An organisation's new id is linked to an existing person only on CAF number and birth
date, or France Travail id and birth date; never on names or phones, since a wrong
merge would show one person's file to another.
"""

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.beneficiaries.models import Beneficiary, FollowUp, HouseholdRole
from portal.extensions import db
from portal.organisations.models import Organisation

logger = logging.getLogger(__name__)

# Personal fields: the latest PUT, from any organisation, wins.
PERSONAL_FIELDS = (
    "first_name",
    "last_name",
    "birth_date",
    "phone",
    "email",
    "language",
    "caf_number",
    "france_travail_id",
    "role",
    "postal_code",
    "rsa_registration_date",
    "sms_consent",
)


@dataclass(frozen=True)
class Upserted:
    external_id: str
    created: bool  # a new id for this organisation
    changed: bool
    # For a person already on the portal: the personal fields this PUT changed, and
    # the number they had before (to tell it when it changed).
    person: "Beneficiary | None" = None
    changed_fields: tuple[str, ...] = ()
    previous_phone: str | None = None


def follow_up_for(organisation: Organisation, external_id: str) -> FollowUp | None:
    return db.session.scalars(
        select(FollowUp).where(
            FollowUp.organisation_id == organisation.id, FollowUp.external_id == external_id
        )
    ).first()


def follow_up_external_id(organisation: Organisation, beneficiary_id: int | None) -> str | None:
    """The organisation's own id for the person, if it follows them."""
    if beneficiary_id is None:
        return None
    return db.session.scalars(
        select(FollowUp.external_id).where(
            FollowUp.organisation_id == organisation.id, FollowUp.beneficiary_id == beneficiary_id
        )
    ).first()


def upsert_beneficiary(
    organisation: Organisation, external_id: str, fields: dict[str, Any]
) -> Upserted:
    """Creates or replaces what `organisation` says of the person it calls `external_id`.

    `fields` holds the personal fields plus `referent` (a dict or None), already validated.
    """
    return upsert_beneficiaries(organisation, [(external_id, fields)])[0]


def upsert_beneficiaries(
    organisation: Organisation, items: list[tuple[str, dict[str, Any]]]
) -> list[Upserted]:
    """The same for many people at once, in a handful of queries whatever their number.

    Items are applied in order: a later item with the same external_id replaces an
    earlier one, and two new items with the same CAF (or France Travail) number and
    birth date are one person.
    """
    external_ids = {external_id for external_id, _fields in items}
    known = {
        follow_up.external_id: follow_up
        for follow_up in db.session.scalars(
            select(FollowUp)
            .options(selectinload(FollowUp.beneficiary))
            .where(
                FollowUp.organisation_id == organisation.id,
                FollowUp.external_id.in_(external_ids),
            )
        )
    }
    matcher = _PersonMatcher(organisation, [fields for eid, fields in items if eid not in known])
    new_people: list[_NewPerson] = []
    new_links: list[_NewFollowUp] = []
    results = []
    for external_id, fields in items:
        personal = {name: fields[name] for name in PERSONAL_FIELDS}
        personal["role"] = HouseholdRole(personal["role"])
        follow_up = known.get(external_id)
        created = follow_up is None
        if created:
            person = matcher.find(personal)
            if person is None:
                person = _NewPerson(personal)
                new_people.append(person)
                matcher.remember(person)
            follow_up = _NewFollowUp(external_id, person)
            new_links.append(follow_up)
            matcher.followed.add(id(person))
            known[external_id] = follow_up
        person = follow_up.beneficiary
        personal.update(_language_fields(person, fields))
        changed = created
        previous_phone = person.phone
        changed_fields = []
        for name, value in personal.items():
            if getattr(person, name) != value:
                setattr(person, name, value)
                changed = True
                changed_fields.append(name)
        referent = fields.get("referent") or {}
        for name in ("name", "email", "phone"):
            value = referent.get(name)
            if getattr(follow_up, f"referent_{name}") != value:
                setattr(follow_up, f"referent_{name}", value)
                changed = True
        existing = isinstance(person, Beneficiary)
        results.append(
            Upserted(
                external_id=external_id,
                created=created,
                changed=changed,
                person=person if existing else None,
                changed_fields=tuple(changed_fields) if existing else (),
                previous_phone=previous_phone if existing else None,
            )
        )
    db.session.flush()
    _insert_new(organisation, new_people, new_links)
    return results


def _language_fields(person: "Beneficiary | _NewPerson", fields: dict[str, Any]) -> dict:
    """A language the person chose on the portal stays theirs; otherwise the back office's,
    when it sent one (`language_sent`, true unless the API saw the field left out)."""
    if getattr(person, "language_source", None) == "person":
        return {"language": person.language, "language_source": "person"}
    sent = fields.get("language_sent", True)
    return {"language": fields["language"], "language_source": "backoffice" if sent else "default"}


class _NewPerson:
    """A person to insert, standing in for a Beneficiary until the bulk insert gives an id.

    The unit of work costs about 0.15 ms an object; one INSERT … RETURNING for the whole
    batch is what makes 1000 people a call cheap.
    """

    def __init__(self, personal: dict[str, Any]) -> None:
        self.id: int | None = None
        self.language_source = "default"
        for name, value in personal.items():
            setattr(self, name, value)

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (*PERSONAL_FIELDS, "language_source")}


class _NewFollowUp:
    def __init__(self, external_id: str, beneficiary: "Beneficiary | _NewPerson") -> None:
        self.external_id = external_id
        self.beneficiary = beneficiary
        self.referent_name = self.referent_email = self.referent_phone = None


def _insert_new(
    organisation: Organisation, people: list[_NewPerson], links: list[_NewFollowUp]
) -> None:
    if people:
        ids = db.session.scalars(
            insert(Beneficiary).returning(Beneficiary.id, sort_by_parameter_order=True),
            [person.row() for person in people],
        ).all()
        for person, person_id in zip(people, ids, strict=True):
            person.id = person_id
    if links:
        db.session.execute(
            insert(FollowUp),
            [
                {
                    "organisation_id": organisation.id,
                    "beneficiary_id": link.beneficiary.id,
                    "external_id": link.external_id,
                    "referent_name": link.referent_name,
                    "referent_email": link.referent_email,
                    "referent_phone": link.referent_phone,
                }
                for link in links
            ],
        )
        for link in links:
            if isinstance(link.beneficiary, Beneficiary):  # an existing person, newly followed
                db.session.expire(link.beneficiary, ["follow_ups"])


class _PersonMatcher:
    """Finds the person a new external_id is about: same CAF number and birth date, or same
    France Travail id and birth date, among stored people and those of the same batch."""

    def __init__(self, organisation: Organisation, new_items: list[dict[str, Any]]) -> None:
        cafs = {f["caf_number"] for f in new_items if f.get("caf_number")}
        travail_ids = {f["france_travail_id"] for f in new_items if f.get("france_travail_id")}
        self.by_caf: dict[tuple[str, date], Beneficiary] = {}
        self.by_travail_id: dict[tuple[str, date], Beneficiary] = {}
        # id() of the people this organisation follows: it does not follow one person twice.
        self.followed: set[int] = set()
        if not cafs and not travail_ids:
            return
        conditions = []
        if cafs:
            conditions.append(Beneficiary.caf_number.in_(cafs))
        if travail_ids:
            conditions.append(Beneficiary.france_travail_id.in_(travail_ids))
        candidates = db.session.scalars(
            select(Beneficiary).where(or_(*conditions)).order_by(Beneficiary.id.desc())
        ).all()
        for person in candidates:  # oldest last, so the oldest match wins
            self.remember(person)
        followed_ids = set(
            db.session.scalars(
                select(FollowUp.beneficiary_id).where(
                    FollowUp.organisation_id == organisation.id,
                    FollowUp.beneficiary_id.in_([p.id for p in candidates]),
                )
            )
        )
        self.followed = {id(p) for p in candidates if p.id in followed_ids}

    def remember(self, person: Beneficiary) -> None:
        if person.caf_number:
            self.by_caf[(person.caf_number, person.birth_date)] = person
        if person.france_travail_id:
            self.by_travail_id[(person.france_travail_id, person.birth_date)] = person

    def find(self, personal: dict[str, Any]) -> Beneficiary | None:
        birth_date = personal["birth_date"]
        for index, key in ((self.by_caf, "caf_number"), (self.by_travail_id, "france_travail_id")):
            if personal.get(key):
                person = index.get((personal[key], birth_date))
                # The organisation already follows this person under another id: a second
                # file for one person would split their pathway, so that id is a new person.
                if person is not None and id(person) not in self.followed:
                    return person
        return None


def followed_by(person: Beneficiary) -> list[str]:
    return sorted(f.organisation.slug for f in person.follow_ups)


# -- Who follows the person, and their référents --------------------------------------------


def follow_ups_of(person: Beneficiary) -> list[FollowUp]:
    """Every organisation following the person, with its référent, oldest link first."""
    return list(
        db.session.scalars(
            select(FollowUp)
            .options(joinedload(FollowUp.organisation))
            .where(FollowUp.beneficiary_id == person.id)
            .order_by(FollowUp.id)
        )
    )


def referent_emails(person: Beneficiary) -> set[str]:
    return {f.referent_email for f in follow_ups_of(person) if f.referent_email}


def referent_names(person: Beneficiary) -> list[str]:
    return [f.referent_name for f in follow_ups_of(person) if f.referent_name]


def referent_at(person_id: int | None, organisation_id: int) -> FollowUp | None:
    """The organisation's follow-up of the person (with its référent), if it follows them."""
    if person_id is None:
        return None
    return db.session.scalars(
        select(FollowUp).where(
            FollowUp.beneficiary_id == person_id, FollowUp.organisation_id == organisation_id
        )
    ).first()


def people_by_ids(ids: list[int]) -> list[Beneficiary]:
    """The people with these ids that still exist, in the order given."""
    found = {
        person.id: person
        for person in db.session.scalars(select(Beneficiary).where(Beneficiary.id.in_(ids)))
    }
    return [found[i] for i in ids if i in found]

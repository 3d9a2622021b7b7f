"""The authorization matrix: every route × every kind of identity × each side's real objects.

Two organisations, each with a counsellor, an administrator and an API key; A is followed
by organisation 1 only, B by organisation 2 only, C by both. Each has appointments, slots,
pathway steps, offer interests, SMS. Every rule of the url_map is walked (GET and POST,
POSTs with a valid CSRF token, so a refusal comes from authorization) with the real ids of
every side, by everyone, and:

- another side's object answers exactly as an id nobody has (404, or for a slot to book
  the same "taken" redirect), and a refusal changes nothing in the database;
- one's own object answers otherwise (the ids are real and reached);
- a page of another kind of account is a 403, and nobody signed in goes to sign in;
- no answer carries the personal data of someone the identity may not see (C's shows to
  the staff of both organisations);
- on /api/v1 each key gets 404 for the other organisation's external ids (a PUT there
  makes its own resource and leaves the other's untouched), and no key is a 401.

Each rule has a cell per identity and, for a rule with ids, objects of both organisations:
`test_the_matrix_covers_every_route` fails for a new route the matrix does not know.
"""

import html
import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import create_app
from portal.admin import services as admin_services
from portal.appointments.models import Appointment, Slot, WaitlistEntry, WaitlistOffer
from portal.auth import services as auth
from portal.auth.roles import ADMIN, BENEFICIARY, COUNSELLOR
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.core.clock import utcnow
from portal.core.phones import display_phone
from portal.core.web import MAX_ROW_ID
from portal.events import webhooks
from portal.extensions import db
from portal.handover.models import Handover, HandoverStatus
from portal.offers import services as offers
from portal.offers.models import Offer, OfferInterest
from portal.organisations.models import ApiKey
from portal.pathway.models import PathwayStep
from portal.sms.models import SmsKind, SmsMessage
from tests.conftest import csrf_token_from
from tests.factories import (
    API,
    Api,
    beneficiary_body,
    make_appointment,
    make_beneficiary,
    make_counsellor,
    make_offer,
    make_slot,
    make_step,
    offer_body,
    offer_fields,
    slot_body,
    step_body,
)

# -- Who is who ------------------------------------------------------------------------------

# Names no page would show by chance: each marks what belongs to one person.
PEOPLE = {
    "A": {"last_name": "Moncourtois", "phone": "+33611223344", "orgs": {1}},
    "B": {"last_name": "Quillebeuf", "phone": "+33655667788", "orgs": {2}},
    "C": {"last_name": "Lemarchandeau", "phone": "+33699001122", "orgs": {1, 2}},
}
# What belongs to one organisation: its webhook's address.
ORG_MARKERS = {1: "hook-of-organisation-1", 2: "hook-of-organisation-2"}


@dataclass(frozen=True)
class Identity:
    name: str
    role: str | None = None  # None: nobody signed in
    person: str | None = None
    org: int | None = None


IDENTITIES = [
    Identity("anonymous"),
    Identity("A", BENEFICIARY, person="A"),
    Identity("B", BENEFICIARY, person="B"),
    Identity("C", BENEFICIARY, person="C"),
    Identity("counsellor-1", COUNSELLOR, org=1),
    Identity("admin-1", ADMIN, org=1),
    Identity("counsellor-2", COUNSELLOR, org=2),
    Identity("admin-2", ADMIN, org=2),
]
# On /api/v1: each key, no key, and a counsellor's session cookie without a key.
API_IDENTITIES = [
    Identity("key-1", org=1),
    Identity("key-2", org=2),
    Identity("no key"),
    Identity("session only", COUNSELLOR),
]


def may_see_person(identity: Identity, person: str) -> bool:
    if identity.person is not None:
        return identity.person == person
    return identity.org in PEOPLE[person]["orgs"]


def follows(identity: Identity, person: str | None) -> bool:
    return person is not None and identity.org in PEOPLE[person]["orgs"]


# -- The objects, by label, with what decides who may reach them ------------------------------


@dataclass(frozen=True)
class Thing:
    label: str
    kind: str
    org: int | None = None  # the organisation that owns it
    person: str | None = None  # the person it is about
    counsellor: str | None = None  # the counsellor it belongs to (slots)
    reserved_for: str | None = None
    portal: bool = False  # an offer entered on the portal (not pushed by the back office)
    namespace: int | None = None  # API: whose external ids the URL uses


THINGS = [
    Thing("appointment-A", "appointment", org=1, person="A"),
    Thing("appointment-B", "appointment", org=2, person="B"),
    Thing("appointment-C1", "appointment", org=1, person="C"),
    Thing("appointment-C2", "appointment", org=2, person="C"),
    Thing("slot-1", "slot", org=1, counsellor="counsellor-1"),
    Thing("slot-2", "slot", org=2, counsellor="counsellor-2"),
    Thing("slot-1-for-C", "slot", org=1, counsellor="counsellor-1", reserved_for="C"),
    Thing("session-1", "session", org=1),
    Thing("session-2", "session", org=2),
    # Earlier slots offered by SMS to people on the waitlist (the link names the offer).
    Thing("waitlist-offer-A", "waitlist-offer", org=1, person="A"),
    Thing("waitlist-offer-B", "waitlist-offer", org=2, person="B"),
    Thing("waitlist-offer-C1", "waitlist-offer", org=1, person="C"),
    Thing("waitlist-offer-C2", "waitlist-offer", org=2, person="C"),
    Thing("step-A", "step", org=1, person="A"),
    Thing("step-B", "step", org=2, person="B"),
    Thing("step-C1", "step", org=1, person="C"),
    Thing("step-C2", "step", org=2, person="C"),
    Thing("interest-A", "interest", org=1, person="A"),
    Thing("interest-B", "interest", org=2, person="B"),
    Thing("interest-C1", "interest", org=1, person="C"),
    Thing("interest-C2", "interest", org=2, person="C"),
    Thing("person-A", "person", org=1, person="A"),
    Thing("person-B", "person", org=2, person="B"),
    Thing("person-C", "person", org=1, person="C"),
    Thing("offer-1", "offer", org=1, portal=True),
    Thing("offer-2", "offer", org=2, portal=True),
    Thing("pushed-offer-1", "offer", org=1),
    Thing("pushed-offer-2", "offer", org=2),
    Thing("invitation-A", "token", org=1, person="A"),
    Thing("invitation-B", "token", org=2, person="B"),
    Thing("invitation-C", "token", org=2, person="C"),
    Thing("stylesheet", "file"),
    # An indicators table: the same name for everyone, its figures the organisation's own.
    Thing("cohorts-table", "table"),
    # Counsellor accounts an administrator may act on (not identities of the matrix).
    Thing("colleague-1", "colleague", org=1),
    Thing("colleague-2", "colleague", org=2),
    # Hand-overs about C (followed by both), by the organisation asked to take the lead: the
    # one to 1 waits for its answer, the one to 2 was refused already.
    Thing("handover-to-1", "handover", org=1),
    Thing("handover-to-2", "handover", org=2),
    # API keys an administrator may revoke, and links to choose a password (the link is
    # the credential: anyone holding it reaches it).
    Thing("api-key-1", "api-key", org=1),
    Thing("api-key-2", "api-key", org=2),
    Thing("password-link-1", "password-link", org=1),
    Thing("password-link-2", "password-link", org=2),
    # The API's external ids: (person's id, step's id) in the namespace of one organisation.
    Thing("api-person-A", "api-person", org=1, person="A", namespace=1),
    Thing("api-person-C1", "api-person", org=1, person="C", namespace=1),
    Thing("api-person-B", "api-person", org=2, person="B", namespace=2),
    Thing("api-person-C2", "api-person", org=2, person="C", namespace=2),
    Thing("api-step-A", "api-step", org=1, person="A", namespace=1),
    Thing("api-step-C1", "api-step", org=1, person="C", namespace=1),
    Thing("api-step-B", "api-step", org=2, person="B", namespace=2),
    Thing("api-step-C2", "api-step", org=2, person="C", namespace=2),
    # C as organisation 2 knows them, with organisation 1's step id, and the reverse.
    Thing("api-step-C1-via-2", "api-step", org=1, person="C", namespace=2),
    Thing("api-step-C2-via-1", "api-step", org=2, person="C", namespace=1),
    Thing("api-slot-1", "api-slot", org=1, namespace=1),
    Thing("api-slot-2", "api-slot", org=2, namespace=2),
    Thing("api-offer-1", "api-offer", org=1, namespace=1),
    Thing("api-offer-2", "api-offer", org=2, namespace=2),
    Thing("api-appointment-A", "api-appointment", org=1, person="A", namespace=1),
    Thing("api-appointment-B", "api-appointment", org=2, person="B", namespace=2),
    Thing("api-appointment-C1", "api-appointment", org=1, person="C", namespace=1),
    Thing("api-appointment-C2", "api-appointment", org=2, person="C", namespace=2),
]
THINGS_BY_KIND: dict[str, list[Thing]] = {}
for _thing in THINGS:
    THINGS_BY_KIND.setdefault(_thing.kind, []).append(_thing)


def _own(identity: Identity, thing: Thing) -> bool:
    return identity.person is not None and identity.person == thing.person


def _bookable(identity: Identity, thing: Thing) -> bool:
    return (
        identity.person is not None
        and thing.org in PEOPLE[identity.person]["orgs"]
        and thing.reserved_for in (None, identity.person)
    )


def _same_org(identity: Identity, thing: Thing) -> bool:
    return identity.org is not None and identity.org == thing.org


def _anyone(identity: Identity, thing: Thing) -> bool:
    return True


# For each endpoint with ids: what its id names, and who may reach which.
HTML_OBJECTS = {
    "appointments.detail": ("appointment", _own),
    "appointments.cancel": ("appointment", _own),
    "appointments.calendar": ("appointment", _own),
    "appointments.confirm": ("slot", _bookable),
    "appointments.join_waitlist": ("appointment", _own),
    "appointments.leave_waitlist": ("appointment", _own),
    "appointments.earlier": ("waitlist-offer", _own),
    "pathway.step": ("step", _own),
    "counsellor.confirm": ("appointment", _same_org),
    "counsellor.decline": ("appointment", _same_org),
    "counsellor.outcome": ("appointment", _same_org),
    "counsellor.cancel": ("appointment", _same_org),
    "counsellor.withdraw": ("slot", lambda who, slot: who.name == slot.counsellor),
    "counsellor.acknowledge_interest": ("interest", lambda who, it: follows(who, it.person)),
    "counsellor.person": ("person", lambda who, it: follows(who, it.person)),
    # A collective session: any staff of its organisation (it lists followed people only).
    "counsellor.session": ("session", _same_org),
    "offers.detail": ("offer", _anyone),  # offers are public
    "offers.interest": ("offer", _anyone),
    "offers.withdraw_interest": ("offer", _anyone),
    "offers_staff.staff_edit": ("offer", lambda who, it: _same_org(who, it) and it.portal),
    "offers_staff.staff_withdraw": ("offer", lambda who, it: _same_org(who, it) and it.portal),
    "auth.invitation": ("token", _anyone),  # the link is the credential
    "auth.reset_two_step": ("colleague", _same_org),
    "admin.new_password_link": ("colleague", _same_org),
    "admin.deactivate": ("colleague", _same_org),
    "admin.reactivate": ("colleague", _same_org),
    "admin.change_role": ("colleague", _same_org),
    "admin.reset_two_step": ("colleague", _same_org),
    "admin.revoke_api_key": ("api-key", _same_org),
    "admin.set_password": ("password-link", _anyone),
    "static": ("file", _anyone),
    "indicators.export": ("table", _anyone),
    "handover.propose": ("person", lambda who, it: follows(who, it.person)),
    "handover.accept": ("handover", _same_org),
    "handover.refuse": ("handover", _same_org),
    # The proposing organisation: the other one of the two.
    "handover.withdraw": ("handover", lambda who, it: who.org is not None and who.org != it.org),
}
# Ids read from the query string: ?deplacer= names the appointment being moved.
QUERY_OBJECTS = {
    "appointments.choose": ("deplacer", "appointment", _own),
    "appointments.confirm": ("deplacer", "appointment", _own),
    "admin.audit_trail": ("personne", "person", lambda who, it: follows(who, it.person)),
}
API_OBJECTS = {
    "api.get_beneficiary": "api-person",
    "api.put_beneficiary": "api-person",
    "api.delete_beneficiary": "api-person",
    "api.invite_beneficiary": "api-person",
    "api.list_steps": "api-person",
    "api.put_step": "api-step",
    "api.delete_step": "api-step",
    "api.get_slot": "api-slot",
    "api.put_slot": "api-slot",
    "api.delete_slot": "api-slot",
    "api.get_offer": "api-offer",
    "api.put_offer": "api-offer",
    "api.delete_offer": "api-offer",
    "api.set_appointment_status": "api-appointment",
}
SIGN_IN_PAGES = {"/connexion", "/conseiller/connexion"}


# -- The plan: every cell, known before any request -------------------------------------------


@dataclass(frozen=True)
class Cell:
    endpoint: str
    rule: str
    method: str
    identity: Identity
    thing: Thing | None = None
    query: str | None = None  # the query parameter the thing goes in, if not the path


@dataclass(frozen=True)
class Route:
    endpoint: str
    rule: str
    method: str
    roles: object  # None (public), a frozenset of roles, "api-key" or "twilio-signature"
    arguments: tuple[str, ...] = field(default=())


def _routes() -> list[Route]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    routes = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "allowed_roles", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append(
                Route(rule.endpoint, rule.rule, method, roles, tuple(sorted(rule.arguments)))
            )
    return sorted(routes, key=lambda r: (r.rule, r.method))


ROUTES = _routes()


def plan(route: Route) -> list[Cell]:
    """The cells of one route; an empty list means the matrix does not know the route."""
    cells = []
    if route.rule.startswith(API + "/"):
        kind = API_OBJECTS.get(route.endpoint)
        if route.arguments and kind is None:
            return []
        for identity in API_IDENTITIES:
            for thing in THINGS_BY_KIND[kind] if kind else [None]:
                cells.append(Cell(route.endpoint, route.rule, route.method, identity, thing))
        return cells
    # /conseiller/offres/nouvelle shares its view with the page that edits an offer.
    kind = HTML_OBJECTS.get(route.endpoint, (None, None))[0] if route.arguments else None
    if route.arguments and kind is None:
        return []
    for identity in IDENTITIES:
        for thing in THINGS_BY_KIND[kind] if kind else [None]:
            cells.append(Cell(route.endpoint, route.rule, route.method, identity, thing))
        if route.endpoint in QUERY_OBJECTS:
            name, query_kind, _allowed = QUERY_OBJECTS[route.endpoint]
            for thing in THINGS_BY_KIND[query_kind]:
                cells.append(
                    Cell(route.endpoint, route.rule, route.method, identity, thing, query=name)
                )
    return cells


def allowed(cell: Cell) -> bool:
    """May this identity reach this object through this route (its role aside)?"""
    if cell.thing is None:
        return True
    if cell.rule.startswith(API + "/"):
        return cell.identity.org == cell.thing.namespace == cell.thing.org
    if cell.query:
        return QUERY_OBJECTS[cell.endpoint][2](cell.identity, cell.thing)
    return HTML_OBJECTS[cell.endpoint][1](cell.identity, cell.thing)


def test_the_matrix_covers_every_route():
    """Every rule of the url_map has cells, for every identity; a rule with ids has objects
    of both organisations, and of C (followed by both) where its objects are people's."""
    unknown = [f"{route.method} {route.rule}" for route in ROUTES if not plan(route)]
    assert unknown == [], "routes the authorization matrix does not know"
    for route in ROUTES:
        cells = plan(route)
        assert {cell.identity for cell in cells} in (set(IDENTITIES), set(API_IDENTITIES))
        things = {cell.thing for cell in cells if cell.thing and not cell.query}
        if route.arguments and route.endpoint not in ("static", "indicators.export"):
            assert {thing.org for thing in things} == {1, 2}, route.rule
            if any(thing.person for thing in things):
                assert {"A", "B", "C"} <= {thing.person for thing in things}, route.rule
    rules = {(route.rule, route.method) for route in ROUTES}
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    assert rules == {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


# -- The world ------------------------------------------------------------------------------


@pytest.fixture
def app_config():
    # Hundreds of posts from one address; a webhook address that needs no DNS.
    return {"RATELIMIT_ENABLED": False, "WEBHOOK_ALLOW_INSECURE": True}


@dataclass
class World:
    values: dict[str, str]  # thing label -> what goes in the URL
    users: dict[str, object]  # identity name -> Beneficiary or Counsellor
    apis: dict[str, Api]  # identity name -> Api
    tenants: dict[int, object]
    tokens: dict[str, tuple[str, str]] = field(default_factory=dict)  # raw, signed


@pytest.fixture
def world(app, client, make_tenant, working_hours) -> World:
    tenants = {1: make_tenant("organisation-1", "67"), 2: make_tenant("organisation-2", "29")}
    orgs = {n: tenant.organisation for n, tenant in tenants.items()}
    staff = {
        "counsellor-1": tenants[1].counsellor,
        "counsellor-2": tenants[2].counsellor,
        "admin-1": make_counsellor(orgs[1], email="admin-1@example.org", is_admin=True),
        "admin-2": make_counsellor(orgs[2], email="admin-2@example.org", is_admin=True),
    }
    colleagues = {
        f"colleague-{n}": make_counsellor(
            orgs[n], email=f"colleague-{n}@example.org", two_step=True
        )
        for n in (1, 2)
    }
    for n in (1, 2):
        webhooks.register(orgs[n], f"https://93.184.215.14/{ORG_MARKERS[n]}", "s" * 32)
    people = {}
    for name, facts in PEOPLE.items():
        first = min(facts["orgs"])
        token = facts["last_name"]
        person = make_beneficiary(
            orgs[first],
            external_id=f"{name}-{first}",
            first_name=f"Prénom{name}",
            last_name=token,
            phone=facts["phone"],
            email=f"{token.lower()}@example.org",
        )
        for n in sorted(facts["orgs"] - {first}):
            db.session.add(
                FollowUp(organisation=orgs[n], beneficiary=person, external_id=f"{name}-{n}")
            )
        for follow_up in person.follow_ups:
            follow_up.referent_name = f"Référente de {token}"
            follow_up.referent_email = f"referente-{follow_up.organisation.slug}@example.org"
        people[name] = person
    db.session.commit()

    def slot(counsellor: str, days: float, external_id: str, **fields):
        return make_slot(
            staff[counsellor], starts_in=timedelta(days=days), external_id=external_id, **fields
        )

    things = {
        "slot-1": slot("counsellor-1", 3, "SLOT-1"),
        "slot-2": slot("counsellor-2", 3, "SLOT-2"),
        "slot-1-for-C": slot(
            "counsellor-1",
            4,
            "SLOT-1C",
            reserved_for_id=people["C"].id,
            location=f"Bureau de {PEOPLE['C']['last_name']}",
        ),
    }
    for n, bookers in ((1, ("A", "C")), (2, ("B", "C"))):
        session = slot(f"counsellor-{n}", 6, f"SESSION-{n}", capacity=5, title=f"Réunion {n}")
        for seat, person in enumerate(bookers, start=1):
            make_appointment(session, people[person], seat=seat)
        things[f"session-{n}"] = session
    for label, counsellor, person in (
        ("appointment-A", "counsellor-1", "A"),
        ("appointment-B", "counsellor-2", "B"),
        ("appointment-C1", "counsellor-1", "C"),
        ("appointment-C2", "counsellor-2", "C"),
    ):
        things[label] = make_appointment(slot(counsellor, 5, f"SLOT-{label}"), people[person])
        entry = WaitlistEntry(appointment=things[label])
        earlier = things["slot-1" if counsellor == "counsellor-1" else "slot-2"]
        things[f"waitlist-offer-{label.removeprefix('appointment-')}"] = WaitlistOffer(
            entry=entry, slot=earlier, due_at=utcnow()
        )
        db.session.add(things[f"waitlist-offer-{label.removeprefix('appointment-')}"])
    for label, n, person in (("A", 1, "A"), ("B", 2, "B"), ("C1", 1, "C"), ("C2", 2, "C")):
        token = PEOPLE[person]["last_name"]
        things[f"step-{label}"] = make_step(
            people[person], orgs[n], external_id=f"STEP-{label}", title=f"Atelier {token}"
        )
        db.session.add(
            SmsMessage(
                beneficiary_id=people[person].id,
                organisation_id=orgs[n].id,
                to=people[person].phone,
                body=f"Bonjour {token}, votre rendez-vous approche.",
                kind=SmsKind.REMINDER_48H,
            )
        )
    things["offer-1"] = offers.enter_offer(staff["counsellor-1"], offer_fields(title="Offre un"))
    things["offer-2"] = offers.enter_offer(staff["counsellor-2"], offer_fields(title="Offre deux"))
    things["pushed-offer-1"] = make_offer(orgs[1], external_id="OFFER-1", commit=False)
    things["pushed-offer-2"] = make_offer(orgs[2], external_id="OFFER-2", commit=False)
    for label, person, offer in (
        ("interest-A", "A", "offer-1"),
        ("interest-B", "B", "offer-2"),
        ("interest-C1", "C", "offer-1"),
        ("interest-C2", "C", "offer-2"),
    ):
        message = f"Message de {PEOPLE[person]['last_name']}"
        things[label] = offers.express_interest(people[person], things[offer], message).interest
    invitations = {
        "invitation-A": auth.create_invitation(people["A"], orgs[1]),
        "invitation-B": auth.create_invitation(people["B"], orgs[2]),
        "invitation-C": auth.create_invitation(people["C"], orgs[2]),
    }
    things["handover-to-1"] = Handover(
        beneficiary=people["C"],
        from_organisation=orgs[2],
        to_organisation=orgs[1],
        reason="Relais vers 1",
    )
    things["handover-to-2"] = Handover(
        beneficiary=people["C"],
        from_organisation=orgs[1],
        to_organisation=orgs[2],
        reason="Relais vers 2",
        status=HandoverStatus.REFUSED,
    )
    db.session.add_all([things["handover-to-1"], things["handover-to-2"]])
    db.session.commit()

    values = {label: str(thing.id) for label, thing in things.items()}
    values |= {f"person-{name}": str(person.id) for name, person in people.items()}
    values |= invitations
    values["stylesheet"] = "css/portal.css"
    values["cohorts-table"] = "cohorts"
    values |= {label: str(account.id) for label, account in colleagues.items()}
    for n in (1, 2):
        values[f"api-key-{n}"] = str(
            db.session.scalars(select(ApiKey.id).where(ApiKey.organisation_id == orgs[n].id)).one()
        )
        link = admin_services.issue_password_link(colleagues[f"colleague-{n}"])
        values[f"password-link-{n}"] = link.rsplit("/", 1)[1]
    db.session.commit()
    values |= {
        "api-person-A": "A-1",
        "api-person-C1": "C-1",
        "api-person-B": "B-2",
        "api-person-C2": "C-2",
        "api-step-A": "A-1/steps/STEP-A",
        "api-step-C1": "C-1/steps/STEP-C1",
        "api-step-B": "B-2/steps/STEP-B",
        "api-step-C2": "C-2/steps/STEP-C2",
        "api-step-C1-via-2": "C-2/steps/STEP-C1",
        "api-step-C2-via-1": "C-1/steps/STEP-C2",
        "api-slot-1": "SLOT-1",
        "api-slot-2": "SLOT-2",
        "api-offer-1": "OFFER-1",
        "api-offer-2": "OFFER-2",
    }
    for label in ("A", "B", "C1", "C2"):
        values[f"api-appointment-{label}"] = values[f"appointment-{label}"]
    users = {**{name: person for name, person in people.items()}, **staff}
    apis = {
        "key-1": tenants[1].api,
        "key-2": tenants[2].api,
        "no key": Api(client, None),
    }
    return World(values, users, apis, tenants)


# -- Asking -----------------------------------------------------------------------------------


def _url(cell: Cell, values: dict[str, str], missing: bool = False) -> tuple[str, dict]:
    """The cell's URL and query string; `missing` puts an id nobody has in the thing's place."""
    absent = str(MAX_ROW_ID) if cell.endpoint != "auth.invitation" else "no-such-invitation"
    query = {}
    if cell.query:
        # The page that moves: a slot this identity could book, the appointment to move.
        rule = cell.rule.replace(
            "<int:slot_id>", values["slot-2" if cell.identity.person == "B" else "slot-1"]
        )
        query[cell.query] = absent if missing else values[cell.thing.label]
        return rule, query
    if cell.thing is None:
        return cell.rule, query
    value = absent if missing else values[cell.thing.label]
    if cell.thing.kind == "api-step":
        if missing:
            value = values[cell.thing.label].rsplit("/", 1)[0] + "/NO-SUCH-STEP"
        return cell.rule.replace("<external_id>/steps/<step_external_id>", value), query
    if cell.thing.kind.startswith("api-") and missing and cell.thing.kind != "api-appointment":
        value = "NO-SUCH-ID"
    return re.sub(r"<(?:\w+:)?\w+>", value, cell.rule), query


def _client(app, sign_in, world: World, identity: Identity):
    """A fresh client for `identity`, holding a CSRF token its posts can send."""
    user = world.users.get(identity.name)
    if identity.name == "session only":
        user = world.users["counsellor-1"]
    client = sign_in(user) if user is not None else app.test_client()
    if identity.name not in world.tokens:
        page = {None: "/connexion", BENEFICIARY: "/parametres"}.get(
            identity.role, "/conseiller/creneaux"
        )
        signed = csrf_token_from(client.get(page).get_data(as_text=True))
        with client.session_transaction() as session:
            world.tokens[identity.name] = (session["csrf_token"], signed)
    else:
        raw, _signed = world.tokens[identity.name]
        with client.session_transaction() as session:
            session["csrf_token"] = raw
    return client


def _api_body(cell: Cell, world: World):
    """A valid body, so that a refusal is about the ids; a batch names the other side's."""
    others = {1: ("B-2", "C-2"), 2: ("A-1", "C-1")}.get(cell.identity.org, ())
    tenant = world.tenants[cell.identity.org or 1]
    return {
        "api.put_beneficiary": lambda: beneficiary_body(),
        "api.put_step": lambda: step_body(),
        "api.put_slot": lambda: slot_body(tenant),
        "api.put_offer": lambda: offer_body(),
        "api.set_appointment_status": lambda: {"status": "confirmed", "reason": None},
        "api.batch_beneficiaries": lambda: {
            "items": [{**beneficiary_body(), "external_id": other} for other in others]
        },
        "api.put_webhook": lambda: {"url": "https://93.184.215.14/new", "secret": "t" * 32},
    }.get(cell.endpoint, lambda: None)()


def _ask(app, sign_in, world: World, cell: Cell, missing: bool = False):
    url, query = _url(cell, world.values, missing)
    if url.startswith(API + "/"):
        if cell.identity.name == "session only":
            client = _client(app, sign_in, world, cell.identity)
            api = Api(client, None)
        else:
            api = world.apis[cell.identity.name]
        body = _api_body(cell, world)
        return api.open(cell.method, url.removeprefix(API), query_string=query, json=body)
    client = _client(app, sign_in, world, cell.identity)
    data = None
    if cell.method == "POST":
        data = {"csrf_token": world.tokens[cell.identity.name][1]}
    response = client.open(url, method=cell.method, query_string=query, data=data)
    response.get_data()  # read before closing: a file is streamed
    response.close()
    return response


def _answer(response) -> tuple[int, str]:
    return response.status_code, response.headers.get("Location", "")


def _state() -> dict:
    """What a refused request must leave as it was."""
    rows = {}
    for model, columns in (
        (Beneficiary, ("first_name", "last_name", "phone", "language", "sms_opted_out")),
        (FollowUp, ("organisation_id", "beneficiary_id", "external_id", "referent_name")),
        (Appointment, ("slot_id", "beneficiary_id", "status")),
        (Slot, ("organisation_id", "external_id", "withdrawn_at", "duration_minutes")),
        (PathwayStep, ("organisation_id", "beneficiary_id", "title", "status")),
        (Offer, ("organisation_id", "title", "withdrawn_at")),
        (OfferInterest, ("offer_id", "beneficiary_id", "acknowledged_at")),
    ):
        for row in db.session.scalars(select(model)):
            rows[(model.__name__, row.id)] = tuple(getattr(row, c) for c in columns)
    return rows


def _leaks(identity: Identity, text: str) -> list[str]:
    """The markers of people and organisations `identity` may not see, found in `text`."""
    text = html.unescape(text)
    found = []
    for name, facts in PEOPLE.items():
        if may_see_person(identity, name):
            continue
        phone = facts["phone"]
        for marker in (facts["last_name"], phone, display_phone(phone), "0" + phone[3:]):
            if marker in text:
                found.append(f"{name}: {marker}")
    for org, marker in ORG_MARKERS.items():
        if identity.org != org and marker in text:
            found.append(f"organisation {org}: {marker}")
    return found


def _sent_to_sign_in(location: str) -> bool:
    """The guard's redirect: a sign-in page with ?next= (a page's own redirect has none)."""
    path, _sep, query = location.partition("?")
    return path in SIGN_IN_PAGES and "next=" in query


def _expected_refusal(route: Route, identity: Identity) -> tuple[int, str] | None:
    """The role's answer, whatever the object: None when the role may use the route."""
    if route.roles == "twilio-signature":
        return 403, ""
    if route.roles == "api-key":
        return (401, "") if identity.org is None else None
    if route.roles is None:
        return None
    if identity.role is None:
        return 302, "sign-in"
    if identity.role not in route.roles:
        return 403, ""
    return None


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.rule}")
def test_nobody_reaches_another_sides_objects(app, sign_in, world, route):
    cells = plan(route)
    assert cells, f"{route.rule}: no matrix entry (add it to HTML_OBJECTS or API_OBJECTS)"
    # Refusals first: what an allowed post changes must not be what a refusal is judged on.
    cells.sort(key=allowed)
    missing_answers: dict[tuple, tuple[int, str]] = {}
    acted_on: set[str] = set()
    problems = []
    checked = 0
    for cell in cells:
        role_refusal = _expected_refusal(route, cell.identity)
        may = allowed(cell) and role_refusal is None
        key = (cell.identity.name, cell.query)
        if cell.thing is not None and key not in missing_answers:
            missing_answers[key] = _answer(_ask(app, sign_in, world, cell, missing=True))
        # A refusal changes nothing; a batch with the other side's ids makes new rows only.
        judged = not may or cell.endpoint == "api.batch_beneficiaries"
        before = _state() if cell.method != "GET" and judged else None
        response = _ask(app, sign_in, world, cell)
        checked += 1
        status, location = _answer(response)
        where = (
            cell.identity.name,
            cell.method,
            cell.rule,
            cell.thing and cell.thing.label,
            cell.query,
        )
        body = response.get_data(as_text=True)
        if status >= 500:
            problems.append(("server error", status, where))
            continue
        leaks = _leaks(cell.identity, body + location)
        if leaks:
            problems.append(("personal data of others", leaks, where))
        if role_refusal is not None:
            code, target = role_refusal
            if status != code or (target == "sign-in" and not _sent_to_sign_in(location)):
                problems.append(("role not refused", status, location, where))
        elif may:
            label = cell.thing.label if cell.thing else None
            if cell.thing is not None and label in acted_on and cell.method != "GET":
                pass  # spent by an allowed post before (a withdrawn offer, a used link)
            elif cell.thing is not None and (status, location) == missing_answers[key]:
                problems.append(("own object not reached", status, location, where))
            elif status in (401, 403) or _sent_to_sign_in(location):
                problems.append(("allowed identity refused", status, location, where))
            if cell.method != "GET" and label:
                acted_on.add(label)
            if cell.endpoint == "counsellor.person" and cell.thing.person:
                if PEOPLE[cell.thing.person]["last_name"] not in body:
                    problems.append(("the followed person's file is empty", where))
        else:
            problems.extend(_refusal_problems(cell, status, location, missing_answers[key], where))
        if before is not None:
            after = _state()
            changed = {k: v for k, v in before.items() if after.get(k) != v}
            if changed:
                problems.append(("a refusal changed data", changed, where))
        problems.extend(_api_list_problems(cell, response))
    assert problems == []
    assert checked == len(plan(route))


def _refusal_problems(cell: Cell, status: int, location: str, missing, where) -> list:
    """Another side's object answers exactly as an id nobody has; a PUT on /api/v1 makes
    the key's own resource when the URL is in its namespace."""
    if cell.rule.startswith(API + "/"):
        # A PUT names the resource in the key's own ids; under a person, in the person's.
        own_namespace = cell.thing.kind != "api-step" or cell.identity.org == cell.thing.namespace
        if cell.method == "PUT" and own_namespace:
            return [] if status == 201 else [("PUT did not make its own resource", status, where)]
        return [] if status == 404 else [("API object not refused", status, where)]
    if (status, location) != missing:
        return [("answers unlike a missing id", status, location, missing, where)]
    if 200 <= status < 300:
        return [("refusal with a 2xx", status, where)]
    return []


def _api_list_problems(cell: Cell, response) -> list:
    """The lists of /api/v1 name only the key's own appointments and events."""
    if cell.identity.org is None or response.status_code != 200:
        return []
    org = cell.identity.org
    if cell.endpoint == "api.list_appointments":
        seen = {item["beneficiary_external_id"] for item in response.get_json()["appointments"]}
    elif cell.endpoint == "api.list_events":
        seen = {item["beneficiary_external_id"] for item in response.get_json()["events"]}
    else:
        return []
    own = {f"{name}-{org}" for name, facts in PEOPLE.items() if org in facts["orgs"]}
    return [] if seen <= own else [("another's listed", seen - own, cell.endpoint)]

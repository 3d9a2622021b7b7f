"""`seed-demo`: a believable territory to try the portal on a laptop."""

import random
import secrets
from datetime import UTC, date, datetime, time, timedelta

import click
from flask import current_app
from sqlalchemy import select

from portal.appointments.models import (
    Appointment,
    AppointmentStatus,
    Slot,
    SlotMode,
    SlotPurpose,
)
from portal.auth.models import InvitationToken
from portal.beneficiaries.models import Beneficiary, FollowUp, HouseholdRole
from portal.core.clock import PARIS
from portal.core.hashing import token_hash
from portal.core.holidays import holiday_name
from portal.core.phones import display_phone
from portal.events.models import Event, EventRecipient
from portal.extensions import db
from portal.indicators.models import CohortFact
from portal.offers.models import OfferKind
from portal.offers.places import place_of_postal_code
from portal.offers.services import upsert_offer
from portal.organisations import services as organisations
from portal.organisations.models import Organisation
from portal.pathway.models import PathwayStep, StepKind, StepStatus
from portal.sms.models import SmsKind, SmsMessage, SmsStatus

DEMO_PASSWORD = "demo-conseil-2026"  # nosec B105 # the demo's published password, printed by seed-demo

TERRITORIES = [
    {
        "slug": "bas-rhin",
        "name": "Département du Bas-Rhin",
        "sender": "Dep. Bas-Rhin",
        "department": "67",
        # First appointments (orientation) confirmed at once; the others wait for a counsellor.
        "confirmed_at_once": ["orientation"],
        "centre": (48.5734, 7.7521),
        "city": "Strasbourg",
        "postal_codes": ["67000", "67100", "67200", "67300", "67400", "67500", "67600"],
        # Where offers are: the city, towns around it, and one farther away.
        "offer_postal_codes": ["67000", "67100", "67200", "67400", "67500", "67600", "68000"],
        "place": "Maison de l'insertion, 1 place du Quartier Blanc, 67000 Strasbourg",
        "counsellors": [
            ("claire.muller@bas-rhin.demo", "Claire Muller", True),
            ("karim.benali@bas-rhin.demo", "Karim Benali", False),
            ("sophie.weber@bas-rhin.demo", "Sophie Weber", False),
        ],
        "phone_start": 10,
    },
    {
        "slug": "finistere",
        "name": "Département du Finistère",
        "sender": "Dep. Finistere",
        "department": "29",
        "centre": (48.3904, -4.4861),
        "city": "Brest",
        "postal_codes": ["29200", "29480", "29490", "29800", "29850"],
        "offer_postal_codes": ["29200", "29480", "29490", "29800", "29850", "29000"],
        "place": "Espace insertion, 10 rue de Siam, 29200 Brest",
        "counsellors": [
            ("yann.le-goff@finistere.demo", "Yann Le Goff", True),
            ("maelle.kerouac@finistere.demo", "Maëlle Kerouac", False),
        ],
        "phone_start": 60,
    },
]

FIRST_NAMES = [
    "Amina",
    "Julien",
    "Fatou",
    "Nicolas",
    "Leïla",
    "Thomas",
    "Samira",
    "Kevin",
    "Aïcha",
    "Mathieu",
    "Nadia",
    "Dylan",
    "Inès",
    "Jérôme",
    "Myriam",
    "Loïc",
    "Sarah",
    "Mohamed",
    "Céline",
    "Youssef",
    "Marine",
    "Ibrahim",
    "Élodie",
    "Anthony",
    "Khadija",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Diallo",
    "Schmitt",
    "Haddad",
    "Le Bihan",
    "Klein",
    "Nguyen",
    "Meyer",
    "Traoré",
    "Guillou",
    "Roth",
    "Benyahia",
    "Morvan",
    "Fischer",
    "Kaya",
]

OFFERS = {
    OfferKind.IMMERSION: [
        ("Découvrir le métier de boulanger ou boulangère", "Boulangerie du Marché"),
        ("Une semaine en maraîchage bio", "Jardins de la Solidarité"),
        ("Agent d'entretien des espaces verts", "Service des parcs"),
    ],
    OfferKind.TRAINING: [
        ("Remise à niveau en français", "Greta"),
        ("Permis B : préparation au code", "Auto-école solidaire"),
        ("Titre professionnel agent de propreté", "AFPA"),
    ],
    OfferKind.VOLUNTEERING: [
        ("Accueil à l'épicerie solidaire", "Restos du Cœur"),
        ("Aide aux devoirs le mercredi", "Centre socioculturel"),
    ],
    OfferKind.JOB: [
        ("Ouvrier polyvalent en chantier d'insertion", "Envie"),
        ("Employé de tri textile", "Le Relais"),
        ("Aide à domicile, 24 h par semaine", "Association d'aide à domicile"),
    ],
}


def _next_working_days(count: int, department: str) -> list[date]:
    days, day = [], datetime.now(PARIS).date()
    while len(days) < count:
        day += timedelta(days=1)
        if day.weekday() < 5 and holiday_name(day, department) is None:
            days.append(day)
    return days


def _paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC)


# The index (modulo 10) of the demo people not oriented yet.
NOT_ORIENTED_YET = 3


@click.command("seed-demo")
@click.option("--people", default=25, show_default=True, help="Beneficiaries per organisation.")
def seed_demo(people: int) -> None:
    """Demo organisations, counsellors, beneficiaries, slots and offers; prints how to sign in."""
    if db.session.scalars(select(Organisation).where(Organisation.slug == "bas-rhin")).first():
        click.echo("Demo data is already there.")
        _print_how_to_sign_in()
        return
    rng = random.Random(2026)  # nosec B311 # the same demo data every time, no secret
    steps = len(TERRITORIES) * (people + 1)
    with click.progressbar(length=steps, label="Building the demo territory") as bar:
        for territory in TERRITORIES:
            _seed_territory(territory, people, rng, bar)
    db.session.commit()
    _print_how_to_sign_in()


def _seed_territory(territory: dict, people: int, rng: random.Random, bar) -> None:
    organisation = organisations.create_organisation(
        territory["slug"], territory["name"], territory["department"]
    )
    organisation.sms_sender_name = territory["sender"]
    organisation.purposes_confirmed_at_once = territory.get("confirmed_at_once", [])
    counsellors = [
        organisations.create_counsellor(organisation, email, name, DEMO_PASSWORD, is_admin)
        for email, name, is_admin in territory["counsellors"]
    ]
    _seed_offers(organisation, territory, rng)
    slots = _seed_slots(organisation, territory, counsellors)
    sessions = _seed_sessions(organisation, territory, counsellors[0])
    _seed_history(organisation, territory, counsellors, rng)
    bar.update(1)

    today = datetime.now(PARIS).date()
    seats_taken = 0
    for index in range(people):
        # The first two people of each territory are a couple sharing one phone.
        number = territory["phone_start"] + (0 if index < 2 else index)
        registered = today - timedelta(days=rng.randint(3, 150))
        person = Beneficiary(
            first_name=FIRST_NAMES[(index + territory["phone_start"]) % len(FIRST_NAMES)],
            last_name=LAST_NAMES[(index * 7 + territory["phone_start"]) % len(LAST_NAMES)],
            birth_date=date(1965 + rng.randint(0, 40), rng.randint(1, 12), rng.randint(1, 28)),
            phone=f"+3361234{number:04d}",
            language="ar" if index % 9 == 4 else "fr",
            language_source="backoffice",  # the demo's back office says each one's language
            caf_number=f"{rng.randint(1000000, 9999999)}",
            role=HouseholdRole.CONJOINT if index == 1 else HouseholdRole.DEMANDEUR,
            postal_code=rng.choice(territory["postal_codes"]),
            rsa_registration_date=registered,
        )
        referent = counsellors[index % len(counsellors)]
        # One in ten is not oriented yet: no référent, and first appointments to book.
        oriented = index % 10 != NOT_ORIENTED_YET
        db.session.add(person)
        db.session.add(
            FollowUp(
                organisation=organisation,
                beneficiary=person,
                external_id=f"DOS-{territory['department']}-{1000 + index}",
                referent_name=referent.name if oriented else None,
                referent_email=referent.email if oriented else None,
                referent_phone="+33388000000"
                if oriented and territory["department"] == "67"
                else None,
            )
        )
        _seed_pathway(organisation, person, registered, index, rng, oriented)
        _seed_to_do(organisation, territory, referent, person, index)
        if oriented and index < len(slots) // 4:
            slot = slots[index * 3]
            db.session.add(
                Appointment(
                    slot=slot,
                    beneficiary=person,
                    status=AppointmentStatus.CONFIRMED
                    if index % 2
                    else AppointmentStatus.REQUESTED,
                )
            )
        elif index >= len(slots) // 4 and seats_taken < SESSION_BOOKINGS:
            # A few people have a seat at the first information meeting.
            seats_taken += 1
            db.session.add(Appointment(slot=sessions[0], beneficiary=person, seat=seats_taken))
        bar.update(1)
    db.session.flush()


def _seed_to_do(
    organisation: Organisation, territory: dict, counsellor, person: Beneficiary, index: int
) -> None:
    """Something in each block of the staff home: past appointments still to record, a
    no-show nothing followed, an invitation that expired unused."""
    kind = index % 10
    if index >= 40 or kind not in (6, 7, 8):
        return
    if kind == 8:
        db.session.add(
            InvitationToken(
                beneficiary=person,
                organisation_id=organisation.id,
                token_hash=token_hash(secrets.token_urlsafe(32)),
                created_at=datetime.now(UTC) - timedelta(days=10),
                expires_at=datetime.now(UTC) - timedelta(days=3),
            )
        )
        return
    starts_at = _paris(datetime.now(PARIS).date() - timedelta(days=2 + index // 10), 10)
    slot = Slot(
        organisation=organisation,
        external_id=f"PAST-{territory['department']}-{index}",
        counsellor=counsellor,
        starts_at=starts_at,
        duration_minutes=30,
        mode=SlotMode.PHONE,
        purpose=SlotPurpose.FOLLOW_UP,
    )
    status = AppointmentStatus.CONFIRMED if kind == 6 else AppointmentStatus.NO_SHOW
    booked_at = starts_at - timedelta(days=7)
    db.session.add_all(
        [slot, Appointment(slot=slot, beneficiary=person, status=status, booked_at=booked_at)]
    )


def _seed_pathway(
    organisation: Organisation,
    person: Beneficiary,
    registered: date,
    index: int,
    rng,
    oriented: bool = True,
) -> None:
    ext = f"{organisation.slug}-{index}"
    if not oriented:
        plan = [
            (StepKind.ORIENTATION, "Orientation vers un accompagnement", StepStatus.PLANNED, 7),
            (StepKind.CONTRACT, "Contrat d'engagement", StepStatus.PLANNED, 21),
        ]
        _add_steps(organisation, person, registered, ext, plan)
        return
    plan = [
        (StepKind.ORIENTATION, "Orientation vers un accompagnement", StepStatus.DONE, 7),
        (StepKind.CONTRACT, "Contrat d'engagement signé", StepStatus.DONE, 21),
    ]
    activity = rng.choice(
        [
            (StepKind.TRAINING, "Remise à niveau en français"),
            (StepKind.IMMERSION, "Immersion en boulangerie"),
            (StepKind.VOLUNTEERING, "Bénévolat à l'épicerie solidaire"),
            (StepKind.EMPLOYMENT, "Contrat en chantier d'insertion"),
        ]
    )
    elapsed = (datetime.now(PARIS).date() - registered).days
    if elapsed > 60:
        plan.append((activity[0], activity[1], StepStatus.IN_PROGRESS, 55))
    else:
        plan.append((activity[0], activity[1], StepStatus.PLANNED, elapsed + 14))
    _add_steps(organisation, person, registered, ext, plan)


def _add_steps(
    organisation: Organisation, person: Beneficiary, registered: date, ext: str, plan: list
) -> None:
    for number, (kind, title, status, offset) in enumerate(plan):
        starts_on = registered + timedelta(days=offset)
        if status is StepStatus.DONE and starts_on > datetime.now(PARIS).date():
            status = StepStatus.IN_PROGRESS
        db.session.add(
            PathwayStep(
                organisation=organisation,
                beneficiary=person,
                external_id=f"ETAPE-{ext}-{number}",
                kind=kind,
                title=title,
                status=status,
                starts_on=starts_on,
                organisation_name=organisation.name,
            )
        )


def _seed_history(organisation: Organisation, territory: dict, counsellors, rng) -> None:
    """A year of people who have since left (anonymous cohort facts, as after an erasure),
    with their past appointments, reminders and SMS: the indicators page means something
    at once, with 90-day rates around the 70 % target."""
    today = datetime.now(PARIS).date()
    month = today.replace(day=1)
    for back in range(12):
        first = month
        for _step in range(back):
            first = (first - timedelta(days=1)).replace(day=1)
        last_day = min(today, (first + timedelta(days=31)).replace(day=1) - timedelta(days=1))
        aim = rng.uniform(0.64, 0.8)
        for number in range(rng.randint(22, 34)):
            registered = first + timedelta(days=rng.randint(0, (last_day - first).days))
            draw = rng.random()
            activity = (
                rng.randint(8, 90)
                if draw < aim
                else rng.randint(91, 200)
                if draw < aim + 0.15
                else None
            )
            if activity is not None and registered + timedelta(days=activity) > today:
                activity = None  # not started yet
            held = _seed_past_appointment(
                organisation, territory, counsellors, registered, f"{first:%Y%m}-{number}", rng
            )
            invited = rng.random() < 0.8
            signed_in = invited and rng.random() < 0.7
            db.session.add(
                CohortFact(
                    organisation_id=organisation.id,
                    registration_month=first,
                    activity_day=activity,
                    appointment_day=held,
                    is_invited=invited,
                    sign_in_after_invitation_days=round(rng.uniform(0.1, 12), 2)
                    if signed_in
                    else None,
                    is_activated=signed_in,
                )
            )
        opt_out = Event(
            type="beneficiary.sms_opted_out",
            occurred_at=_paris(first + timedelta(days=rng.randint(0, 20)), 18),
            data={},
        )
        db.session.add(opt_out)
        db.session.flush()
        db.session.add(EventRecipient(organisation_id=organisation.id, event_id=opt_out.id))
    db.session.flush()


def _seed_past_appointment(
    organisation: Organisation, territory: dict, counsellors, registered: date, serial: str, rng
) -> int | None:
    """A first appointment some days after registration, if that day has passed; returns
    the days from registration when it was held."""
    offset = rng.randint(3, 28)
    day = registered + timedelta(days=offset)
    if day >= datetime.now(PARIS).date():
        return None
    number = int(serial.rsplit("-", 1)[1])
    counsellor = counsellors[number % len(counsellors)]
    starts_at = _paris(day, 9 + number % 8)
    slot = Slot(
        organisation=organisation,
        external_id=f"HIST-{serial}",
        counsellor=counsellor,
        starts_at=starts_at,
        duration_minutes=45,
        mode=SlotMode.IN_PERSON,
        location=territory["place"],
        purpose=SlotPurpose.ORIENTATION,
    )
    # A reminder delivered before the start: fewer no-shows, as the indicators should show.
    reminded = rng.random() < 0.8
    status = rng.choices(
        [
            AppointmentStatus.ATTENDED,
            AppointmentStatus.NO_SHOW,
            AppointmentStatus.EXCUSED,
            AppointmentStatus.CANCELLED,
        ],
        [76, 9, 5, 10] if reminded else [62, 24, 5, 9],
    )[0]
    booked_at = starts_at - timedelta(days=rng.randint(6, 15))
    appointment = Appointment(
        slot=slot,
        beneficiary=None,
        status=status,
        booked_at=booked_at,
        confirmed_at=booked_at + timedelta(hours=rng.randint(2, 96)),
        cancelled_by=rng.choice(["beneficiary", "counsellor", "backoffice"])
        if status is AppointmentStatus.CANCELLED
        else None,
    )
    db.session.add_all([slot, appointment])
    db.session.flush()
    if status is not AppointmentStatus.CANCELLED:
        db.session.add(
            SmsMessage(
                organisation_id=organisation.id,
                appointment_id=appointment.id,
                to="+",
                body="",
                kind=SmsKind.REMINDER_48H,
                status=SmsStatus.DELIVERED if reminded else SmsStatus.UNDELIVERED,
                segments=rng.choice([1, 1, 1, 2]),
                created_at=booked_at,
                sent_at=starts_at - timedelta(hours=48),
            )
        )
    return offset if status is AppointmentStatus.ATTENDED else None


def _seed_slots(organisation: Organisation, territory: dict, counsellors) -> list[Slot]:
    slots = []
    for day in _next_working_days(5, territory["department"]):
        for counsellor_index, counsellor in enumerate(counsellors):
            for hour, minute in ((9, 0), (10, 0), (11, 0), (14, 0), (15, 30)):
                mode = [SlotMode.IN_PERSON, SlotMode.PHONE, SlotMode.VIDEO][
                    (hour + counsellor_index) % 3
                ]
                slot = Slot(
                    organisation=organisation,
                    external_id=f"CRENEAU-{day:%Y%m%d}-{counsellor.id}-{hour:02d}{minute:02d}",
                    counsellor=counsellor,
                    starts_at=_paris(day, hour, minute),
                    duration_minutes=45,
                    mode=mode,
                    location=territory["place"] if mode is SlotMode.IN_PERSON else None,
                    purpose=SlotPurpose.FOLLOW_UP if hour > 10 else SlotPurpose.ORIENTATION,
                )
                # Some video slots have their link, the others say the counsellor sends it.
                if mode is SlotMode.VIDEO and day.day % 2 == 0:
                    slot.video_url = f"https://visio.example.org/{slot.external_id.lower()}"
                db.session.add(slot)
                slots.append(slot)
    db.session.flush()
    return slots


SESSION_TITLE = "Réunion d'information : vos droits et devoirs"
SESSION_BOOKINGS = 4


def _seed_sessions(organisation: Organisation, territory: dict, counsellor) -> list[Slot]:
    """Two information meetings of twelve seats, after the day's one-to-one slots."""
    sessions = [
        Slot(
            organisation=organisation,
            external_id=f"REUNION-{day:%Y%m%d}",
            counsellor=counsellor,
            starts_at=_paris(day, 16, 30),
            duration_minutes=90,
            mode=SlotMode.IN_PERSON,
            location=territory["place"],
            purpose=SlotPurpose.OTHER,  # information meetings are for everyone
            capacity=12,
            title=SESSION_TITLE,
        )
        for day in _next_working_days(5, territory["department"])[1::3]
    ]
    db.session.add_all(sessions)
    db.session.flush()
    return sessions


def _seed_offers(organisation: Organisation, territory: dict, rng: random.Random) -> None:
    """Through the same service as the API, so offers are searchable and placed."""
    today = datetime.now(PARIS).date()
    number = 0
    for kind, offers in OFFERS.items():
        for title, provider in offers:
            for _copy in range(2):
                number += 1
                postal_code = rng.choice(territory["offer_postal_codes"])
                place = place_of_postal_code(postal_code)
                remote = kind is OfferKind.TRAINING and number % 4 == 0
                # Some come with their own coordinates, the others are placed by postal code.
                own = number % 3 != 0 and place is not None
                upsert_offer(
                    organisation,
                    f"OFFRE-{territory['department']}-{number}",
                    {
                        "kind": kind.value,
                        "title": title,
                        "description": f"{title}, avec {provider}.\nUn tuteur vous accompagne.",
                        "provider_name": provider,
                        "postal_code": postal_code,
                        "city": place.name if place else territory["city"],
                        "latitude": round(place.latitude + rng.uniform(-0.02, 0.02), 5)
                        if own
                        else None,
                        "longitude": round(place.longitude + rng.uniform(-0.03, 0.03), 5)
                        if own
                        else None,
                        "remote": remote,
                        "hours_per_week": rng.choice([None, 20, 24, 35]),
                        "seats": rng.choice([None, 1, 2, 5]),
                        "starts_on": rng.choice([None, today + timedelta(days=rng.randint(5, 60))]),
                    },
                )


def _print_how_to_sign_in() -> None:
    base = current_app.config["PORTAL_BASE_URL"]
    click.echo("")
    click.echo(f"Portal: {base}/")
    click.echo("Sign in as a beneficiary: 'Se connecter', then one of these mobile numbers:")
    for territory in TERRITORIES:
        number = display_phone(f"+3361234{territory['phone_start'] + 2:04d}")
        shared = display_phone(f"+3361234{territory['phone_start']:04d}")
        click.echo(f"  {number}  ({territory['city']}); {shared} is shared by a couple")
        new_comer = display_phone(f"+3361234{territory['phone_start'] + NOT_ORIENTED_YET:04d}")
        click.echo(f"  {new_comer}  is not oriented yet: first appointments to book")
    click.echo("  In Bas-Rhin a first appointment is confirmed at once; the others wait.")
    click.echo("  The 6-digit code is printed in this terminal (console SMS backend).")
    click.echo("Sign in as a counsellor at /conseiller/connexion:")
    for territory in TERRITORIES:
        email = territory["counsellors"][0][0]
        click.echo(f"  {email}  password: {DEMO_PASSWORD}")

"""A person's file, as a counsellor of an organisation that follows them sees it, and the
actions on appointments made from it."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from portal.appointments.models import Appointment, AppointmentStatus
from portal.auth import services as auth
from portal.auth.models import InvitationToken
from portal.beneficiaries.models import FollowUp
from portal.core.clock import utcnow
from portal.events.models import Event
from portal.extensions import db
from portal.offers import services as offers
from portal.sms.models import SmsKind, SmsMessage
from tests.conftest import Browser
from tests.factories import (
    make_appointment,
    make_beneficiary,
    make_counsellor,
    make_organisation,
    make_slot,
    make_step,
    offer_fields,
)

SIGN_IN_CODE = "482913"


def _sms(person, organisation, body: str, kind=SmsKind.REMINDER_48H) -> None:
    db.session.add(
        SmsMessage(
            beneficiary_id=person.id,
            organisation_id=organisation.id if organisation else None,
            to=person.phone,
            body=body,
            kind=kind,
        )
    )
    db.session.commit()


@pytest.fixture
def followed(working_hours):
    """A person followed by two organisations; ours has a counsellor and slots."""
    ours = make_organisation(department_code="29")
    theirs = make_organisation(department_code="29")
    counsellor = make_counsellor(ours, email="claire@example.org")
    person = make_beneficiary(
        ours,
        external_id="DOS-42",
        first_name="Élodie",
        last_name="Kerbrat",
        email="elodie.kerbrat@example.org",
        caf_number="7654321",
        france_travail_id="FT-998877",
        postal_code="29200",
    )
    db.session.add(
        FollowUp(
            organisation=theirs,
            beneficiary=person,
            external_id="PLIE-7",
            referent_name="Yann Le Goff",
            referent_email="yann.legoff@example.org",
            referent_phone="+33298000000",
        )
    )
    db.session.commit()
    return ours, theirs, counsellor, person


def test_the_file_shows_each_section_with_the_organisations_rows_only(sign_in, followed):
    ours, theirs, counsellor, person = followed
    past = make_appointment(
        make_slot(counsellor, starts_in=timedelta(days=-3), location="Salle Marqueur-Passé"),
        person,
        status=AppointmentStatus.ATTENDED,
    )
    cancelled = make_appointment(
        make_slot(counsellor, starts_in=timedelta(days=4)),
        person,
        status=AppointmentStatus.CANCELLED,
        cancelled_by="beneficiary",
        status_reason="Je travaille ce jour-là",
    )
    foreign = make_appointment(
        make_slot(make_counsellor(theirs, email="yann@example.org"), starts_in=timedelta(days=2)),
        person,
        status=AppointmentStatus.CONFIRMED,
    )
    make_step(person, ours, title="Atelier CV")
    _sms(person, ours, "Rappel de notre organisation")
    _sms(person, theirs, "Message de l'autre organisation")
    _sms(person, None, f"Votre code de connexion : {SIGN_IN_CODE}.", SmsKind.SIGN_IN_CODE)
    token = auth.create_invitation(person, ours)
    auth.create_invitation(person, theirs)
    expired = auth.create_invitation(person, ours)
    db.session.commit()
    row = db.session.scalars(
        select(InvitationToken).where(InvitationToken.token_hash == auth.token_hash(expired))
    ).one()
    row.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    offer = offers.enter_offer(counsellor, offer_fields(title="Immersion en boulangerie"))
    offers.express_interest(person, offer, "Je suis intéressée")
    db.session.commit()

    response = sign_in(counsellor).get(f"/conseiller/personnes/{person.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # Identity, as the back office sent it.
    for fact in ("Élodie", "Kerbrat", "elodie.kerbrat@example.org", "7654321", "FT-998877"):
        assert fact in page
    assert f'href="tel:{person.phone}"' in page
    assert "Portail pas encore activé" in page
    # Who follows the person, and our id for them.
    assert "Yann Le Goff" in page and "yann.legoff@example.org" in page
    assert "DOS-42" in page and "PLIE-7" not in page
    # Our appointments, with status, who cancelled and why; never theirs.
    assert f'id="rdv-{past.id}"' in page and f'id="rdv-{cancelled.id}"' in page
    assert f'id="rdv-{foreign.id}"' not in page
    assert "par la personne" in page and "Je travaille ce jour-là" in page
    assert f"dossier-issue-{past.id}-attended" in page  # the outcome can be corrected
    # The pathway, the interest, the invitations (states, never a token).
    assert "Atelier CV" in page and "Immersion en boulangerie" in page
    assert "Expirée sans être utilisée" in page and "Pas encore utilisée" in page
    # Our SMS and the person's own, never another organisation's, never a secret.
    assert "Rappel de notre organisation" in page
    assert "Message de l'autre organisation" not in page
    assert SIGN_IN_CODE not in page and "••••••" in page
    assert token not in page and expired not in page and "/connexion/lien/•••" in page
    # Back to the caseload, not the to-do list.
    assert 'href="/conseiller/dossiers">' in page


def test_a_person_the_organisation_does_not_follow_has_no_file(sign_in, followed):
    _ours, _theirs, _counsellor, person = followed
    stranger = make_counsellor(make_organisation())
    assert sign_in(stranger).get(f"/conseiller/personnes/{person.id}").status_code == 404


def test_actions_from_the_file_without_javascript(sign_in, followed):
    _ours, _theirs, counsellor, person = followed
    requested = make_appointment(make_slot(counsellor, starts_in=timedelta(days=3)), person)
    to_decline = make_appointment(make_slot(counsellor, starts_in=timedelta(days=5)), person)
    confirmed = make_appointment(
        make_slot(counsellor, starts_in=timedelta(days=6)),
        person,
        status=AppointmentStatus.CONFIRMED,
    )
    past = make_appointment(
        make_slot(counsellor, starts_in=timedelta(hours=-2)),
        person,
        status=AppointmentStatus.CONFIRMED,
    )
    browser = Browser(sign_in(counsellor))
    file = f"/conseiller/personnes/{person.id}"
    base = "/conseiller/rendez-vous"

    confirmed_now = browser.submit(f"{base}/{requested.id}/confirmer", {"depuis": "dossier"}, file)
    assert confirmed_now.status_code == 302
    assert confirmed_now.headers["Location"] == f"{file}#rdv-{requested.id}"
    assert "Confirmé. Un SMS prévient la personne." in browser.get(file).get_data(as_text=True)

    browser.submit(
        f"{base}/{to_decline.id}/refuser", {"depuis": "dossier", "reason": "Absente"}, file
    )
    browser.submit(f"{base}/{past.id}/issue", {"depuis": "dossier", "outcome": "no_show"}, file)

    too_long = "Je suis malade. " * 30
    refused = browser.submit(
        f"{base}/{confirmed.id}/annuler", {"depuis": "dossier", "reason": too_long}, file
    )
    assert refused.status_code == 422
    refused_page = refused.get_data(as_text=True)
    assert "300 caractères au plus." in refused_page and too_long.strip() in refused_page
    assert f'id="annulation-{confirmed.id}"' in refused_page

    cancelled = browser.submit(
        f"{base}/{confirmed.id}/annuler",
        {"depuis": "dossier", "reason": "Je suis malade, je vous rappelle"},
        file,
    )
    assert cancelled.status_code == 302
    db.session.expire_all()
    states = {a.id: a for a in db.session.scalars(select(Appointment))}
    assert states[requested.id].status is AppointmentStatus.CONFIRMED
    assert states[to_decline.id].status is AppointmentStatus.DECLINED
    assert states[past.id].status is AppointmentStatus.NO_SHOW
    assert states[confirmed.id].status is AppointmentStatus.CANCELLED
    assert states[confirmed.id].cancelled_by == "counsellor"
    # The person is told by SMS, with the reason; the back office by an event.
    notice = db.session.scalars(
        select(SmsMessage).where(
            SmsMessage.appointment_id == confirmed.id,
            SmsMessage.kind == SmsKind.APPOINTMENT_CANCELLED,
        )
    ).one()
    assert "Je suis malade, je vous rappelle" in notice.body
    events = db.session.scalars(select(Event).where(Event.type == "appointment.cancelled")).all()
    assert [(e.data["appointment_id"], e.data["by"]) for e in events] == [
        (confirmed.id, "counsellor")
    ]
    assert events[0].data["reason"] == "Je suis malade, je vous rappelle"


def test_with_htmx_the_row_alone_comes_back(sign_in, followed):
    _ours, _theirs, counsellor, person = followed
    requested = make_appointment(make_slot(counsellor, starts_in=timedelta(days=3)), person)
    past = make_appointment(
        make_slot(counsellor, starts_in=timedelta(hours=-2)),
        person,
        status=AppointmentStatus.CONFIRMED,
    )
    browser = Browser(sign_in(counsellor))
    file = f"/conseiller/personnes/{person.id}"
    htmx = {"HX-Request": "true", "HX-Target": f"rdv-{requested.id}"}
    missing = browser.submit(
        f"/conseiller/rendez-vous/{requested.id}/refuser",
        {"depuis": "dossier", "reason": " "},
        file,
        headers=htmx,
    )
    assert missing.status_code == 200  # htmx swaps only a 2xx
    row = missing.get_data(as_text=True)
    assert "<html" not in row and row.strip().startswith(f'<tr id="rdv-{requested.id}"')
    assert "Écrivez un motif" in row
    answered = browser.submit(
        f"/conseiller/rendez-vous/{requested.id}/annuler",
        {"depuis": "dossier", "reason": "Réunion imprévue"},
        file,
        headers=htmx,
    ).get_data(as_text=True)
    assert answered.strip().startswith(f'<tr id="rdv-{requested.id}"')
    assert "Annulé. Un SMS prévient la personne, avec votre motif." in answered
    assert "Réunion imprévue" in answered and "par un conseiller" in answered
    recorded = browser.submit(
        f"/conseiller/rendez-vous/{past.id}/issue",
        {"depuis": "dossier", "outcome": "excused"},
        file,
        headers=htmx,
    ).get_data(as_text=True)
    assert "Absence excusée" in recorded and "Corriger" in recorded


def test_another_organisations_appointment_is_a_404_from_the_file(sign_in, followed):
    _ours, theirs, counsellor, person = followed
    foreign = make_appointment(
        make_slot(make_counsellor(theirs), starts_in=timedelta(days=3)),
        person,
        status=AppointmentStatus.CONFIRMED,
    )
    browser = Browser(sign_in(counsellor))
    file = f"/conseiller/personnes/{person.id}"
    for action, data in (
        ("confirmer", {}),
        ("refuser", {"reason": "Non"}),
        ("annuler", {"reason": "Non"}),
        ("issue", {"outcome": "attended"}),
    ):
        response = browser.submit(
            f"/conseiller/rendez-vous/{foreign.id}/{action}", {"depuis": "dossier", **data}, file
        )
        assert response.status_code == 404, action
    db.session.expire_all()
    assert db.session.get(Appointment, foreign.id).status is AppointmentStatus.CONFIRMED
    assert db.session.scalars(select(Event)).all() == []


def _queries_for(client, url: str) -> int:
    count = 0

    def counted(*_args):
        nonlocal count
        count += 1

    engine = db.engine
    event.listen(engine, "before_cursor_execute", counted)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return count


def test_the_file_takes_as_many_queries_for_20_appointments_as_for_2(sign_in, followed):
    ours, _theirs, counsellor, person = followed
    client = sign_in(counsellor)
    url = f"/conseiller/personnes/{person.id}"
    others = [make_counsellor(ours) for _ in range(3)]

    def add(n: int) -> None:
        for i in range(n):
            slot = make_slot(others[i % 3], starts_in=timedelta(days=i - 5, hours=1))
            make_appointment(slot, person, status=AppointmentStatus.CONFIRMED)
            make_step(person, ours, title=f"Étape {i}")
            _sms(person, ours, f"Rappel {i}")

    add(2)
    few = _queries_for(client, url)
    add(18)
    many = _queries_for(client, url)
    page = client.get(url).get_data(as_text=True)
    assert len(re.findall(r'<tr id="rdv-\d+"', page)) == 20
    assert many == few


def test_the_file_says_who_leads_and_offers_a_hand_over(sign_in, followed):
    ours, theirs, counsellor, person = followed
    client = Browser(sign_in(counsellor))
    page = client.get(f"/conseiller/personnes/{person.id}").get_data(as_text=True)
    assert "Aucune organisation n'accompagne encore officiellement" in page
    assert f'href="/conseiller/personnes/{person.id}/relais"' in page
    person.lead_organisation_id = theirs.id
    db.session.commit()
    page = client.get(f"/conseiller/personnes/{person.id}").get_data(as_text=True)
    assert re.search(rf"Organisation qui accompagne aujourd(&#39;|')hui : {theirs.name}", page)

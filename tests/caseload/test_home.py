"""The staff home: each block's count and lines, for me and for my organisation."""

from datetime import timedelta

from markupsafe import escape

from portal.appointments.models import AppointmentStatus
from portal.auth.models import InvitationToken
from portal.caseload import risk, todo
from portal.core.clock import paris_midnight, paris_today, utcnow
from portal.extensions import db
from portal.offers import services as offers
from tests.caseload.conftest import person
from tests.factories import (
    make_appointment,
    make_counsellor,
    make_offer,
    make_organisation,
    make_slot,
)


def _invitation(someone, organisation, expired_days_ago: int, used: bool = False):
    db.session.add(
        InvitationToken(
            beneficiary=someone,
            organisation_id=organisation.id,
            token_hash=f"{someone.id:064d}"[-60:] + f"{expired_days_ago:04d}",
            expires_at=utcnow() - timedelta(days=expired_days_ago),
            used_at=utcnow() if used else None,
        )
    )
    db.session.commit()


def _world(organisation, me):
    colleague = make_counsellor(organisation, email="paul.martin@example.org")
    mine = person(organisation, "Mienne")
    theirs = person(organisation, "Collegue", referent="paul.martin@example.org")
    today_at_3pm = paris_midnight(paris_today()) + timedelta(hours=15)
    # Requests: one on my slot, one on a colleague's.
    make_appointment(make_slot(me, starts_in=timedelta(days=3)), mine)
    make_appointment(make_slot(colleague, starts_in=timedelta(days=3)), theirs)
    # Today: mine, confirmed.
    make_appointment(
        make_slot(me, starts_at=today_at_3pm), theirs, status=AppointmentStatus.CONFIRMED
    )
    # Outcomes to record: two on my slots, one on the colleague's, one already recorded.
    for who, status in ((me, "confirmed"), (me, "confirmed"), (colleague, "confirmed")):
        slot = make_slot(who, starts_in=timedelta(days=-2))
        make_appointment(slot, person(organisation, "Passee"), status=AppointmentStatus(status))
    make_appointment(
        make_slot(me, starts_in=timedelta(days=-2)), mine, status=AppointmentStatus.ATTENDED
    )
    # Interests: one of my people, one of the colleague's.
    offer = make_offer(organisation)
    offers.express_interest(mine, offer, None)
    offers.express_interest(theirs, offer, None)
    db.session.commit()
    # Invitations: expired unused (shown); used; expired then sent again (not shown).
    _invitation(mine, organisation, 3)
    _invitation(theirs, organisation, 5, used=True)
    again = person(organisation, "Relancee")
    _invitation(again, organisation, 5)
    _invitation(again, organisation, -2)
    # At risk: registered 70 days ago, nothing started.
    person(organisation, "Risquee", days_ago=70)
    person(organisation, "RisqueeAussi", days_ago=70, referent="paul.martin@example.org")


def _counts(blocks):
    return {key: block.count for key, block in blocks.items()}


def test_each_block_counts_for_me_and_for_the_organisation(organisation, me, working_hours):
    _world(organisation, me)
    assert _counts(todo.home(me, mine=True)) == {
        "demandes": 1,
        "aujourdhui": 1,
        "issues": 2,
        "interets": 1,
        "invitations": 1,
        "risque": 1,
        "dormants": 0,
    }
    everything = todo.home(me, mine=False)
    assert _counts(everything) == {
        "demandes": 2,
        "aujourdhui": 1,
        "issues": 3,
        "interets": 2,
        "invitations": 1,
        "risque": 2,
        "dormants": 0,
    }
    assert everything["risque"].extra == {"sans-suite": 2, "sans-activite": 2, "absence": 0}
    assert [line.beneficiary.last_name for line in everything["invitations"].lines] == ["Mienne"]


def test_another_organisation_sees_nothing_of_it(organisation, me, working_hours):
    _world(organisation, me)
    stranger = make_counsellor(make_organisation())
    assert set(_counts(todo.home(stranger, mine=False)).values()) == {0}


def test_a_block_shows_five_lines_and_links_to_the_rest(organisation, me, sign_in):
    for n in range(7):
        slot = make_slot(me, starts_in=timedelta(days=-1, minutes=n))
        make_appointment(
            slot, person(organisation, f"Passee{n}"), status=AppointmentStatus.CONFIRMED
        )
    home = todo.home(me, mine=True)
    assert (home["issues"].count, len(home["issues"].lines)) == (7, todo.SHOWN)
    client = sign_in(me)
    page = client.get("/conseiller/?qui=moi").get_data(as_text=True)
    assert "Voir les 7" in page and 'href="/conseiller/?qui=moi&amp;voir=issues"' in page
    assert page.count('href="/conseiller/personnes/') == todo.SHOWN
    alone = client.get("/conseiller/?qui=moi&voir=issues").get_data(as_text=True)
    assert alone.count('href="/conseiller/personnes/') == 7 and "bloc-demandes" not in alone
    assert 'aria-current="page">Moi<' in alone
    assert str(escape(risk.RULES[0].definition)) in alone  # the definitions are on the page
    assert client.get("/conseiller/?voir=nimporte&qui=x").status_code == 200


def test_staff_pages_carry_the_organisation_not_the_beneficiaries_title(organisation, sign_in):
    admin = make_counsellor(organisation, is_admin=True)
    page = sign_in(admin).get("/conseiller/dossiers").get_data(as_text=True)
    assert "Mon parcours" not in page
    assert organisation.name in page
    assert 'href="/conseiller/administration/conseillers"' in page
    assert 'href="/conseiller/dossiers" aria-current="page"' in page
    plain = sign_in(make_counsellor(organisation)).get("/conseiller/").get_data(as_text=True)
    assert "/conseiller/administration" not in plain

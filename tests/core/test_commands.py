"""The operations commands, as the contract lists them."""

from sqlalchemy import func, select

from portal.appointments.models import Slot
from portal.beneficiaries.models import Beneficiary
from portal.extensions import db
from portal.offers.models import Offer, OfferKind
from portal.organisations.models import ApiKey, Counsellor, CounsellorRole, Organisation
from portal.organisations.services import find_api_key
from portal.pathway.models import PathwayStep
from portal.sms.models import SmsKind, SmsMessage, SmsStatus
from portal.sms.outbox import queue_sms


def test_init_db_is_safe_to_run_twice(runner):
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "latest version" in result.output


def test_the_migrations_match_the_models(runner):
    """`flask db check`: a model change without its migration fails here."""
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_create_organisation_with_its_department(runner):
    result = runner.invoke(
        args=["create-organisation", "bas-rhin", "Département du Bas-Rhin", "--department", "67"]
    )
    assert result.exit_code == 0, result.output
    organisation = db.session.scalars(select(Organisation)).one()
    assert (organisation.slug, organisation.name, organisation.department_code) == (
        "bas-rhin",
        "Département du Bas-Rhin",
        "67",
    )
    again = runner.invoke(args=["create-organisation", "bas-rhin", "Encore"])
    assert again.exit_code != 0
    assert "already exists" in again.output


def test_create_organisation_refuses_a_bad_slug_or_department(runner):
    assert runner.invoke(args=["create-organisation", "Bas Rhin!", "X"]).exit_code != 0
    assert (
        runner.invoke(args=["create-organisation", "ok", "X", "--department", "999"]).exit_code != 0
    )
    assert db.session.scalars(select(func.count(Organisation.id))).one() == 0


def test_create_api_key_prints_the_key_once_on_the_last_line(runner):
    runner.invoke(args=["create-organisation", "finistere", "Département du Finistère"])
    result = runner.invoke(args=["create-api-key", "finistere"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("spi_") and len(key) > 40
    stored = db.session.scalars(select(ApiKey)).one()
    assert key not in (stored.key_hash, stored.prefix)
    assert find_api_key(key).organisation.slug == "finistere"
    assert find_api_key(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert find_api_key("nonsense") is None


def test_create_api_key_for_an_unknown_organisation_fails(runner):
    result = runner.invoke(args=["create-api-key", "nowhere"])
    assert result.exit_code != 0
    assert "no organisation" in result.output


def test_create_counsellor_and_admin(runner):
    runner.invoke(args=["create-organisation", "bas-rhin", "Bas-Rhin"])
    ok = runner.invoke(
        args=[
            "create-counsellor",
            "bas-rhin",
            "Claire@Example.org",
            "Claire Muller",
            "--password",
            "a-long-password",
        ]
    )
    admin = runner.invoke(
        args=[
            "create-counsellor",
            "bas-rhin",
            "boss@example.org",
            "Chef",
            "--password",
            "another-long-one",
            "--admin",
        ]
    )
    assert ok.exit_code == 0 and admin.exit_code == 0, ok.output + admin.output
    people = {c.email: c for c in db.session.scalars(select(Counsellor))}
    assert people["claire@example.org"].role is CounsellorRole.COUNSELLOR
    assert people["boss@example.org"].role is CounsellorRole.ADMIN
    assert people["boss@example.org"].password_hash.startswith("$argon2")
    short = runner.invoke(
        args=["create-counsellor", "bas-rhin", "x@example.org", "X", "--password", "short"]
    )
    assert short.exit_code != 0


def test_seed_demo_builds_a_believable_territory(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Building the demo territory" in result.output
    assert "06 12 34 00 12" in result.output  # how to sign in
    count = lambda model: db.session.scalars(select(func.count(model.id))).one()  # noqa: E731
    assert count(Organisation) == 2
    assert count(Counsellor) >= 4
    assert 45 <= count(Beneficiary) <= 60
    assert count(PathwayStep) >= 2 * count(Beneficiary)
    assert count(Slot) >= 5 * 4
    # Two information meetings a territory, a few seats of the first ones taken.
    meetings = db.session.scalars(select(Slot).where(Slot.capacity > 1)).all()
    assert len(meetings) == 4
    assert {m.title for m in meetings} == {"Réunion d'information : vos droits et devoirs"}
    assert sorted(m.appointments_count for m in meetings) == [0, 0, 4, 4]
    kinds = set(db.session.scalars(select(Offer.kind)))
    assert kinds == set(OfferKind)
    cities = set(db.session.scalars(select(Offer.city)))
    assert {"Strasbourg", "Brest"} < cities
    # Searchable and placed, as offers from the API are.
    assert db.session.scalar(select(func.count()).where(Offer.search_text == "")) == 0
    assert db.session.scalar(select(func.count()).where(Offer.latitude.is_(None))) == 0
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0
    assert count(Organisation) == 2


def test_worker_once_sends_what_is_due_and_exits(runner, fake_twilio):
    queue_sms(to="+33612345678", body="Bonjour", kind=SmsKind.APPOINTMENT_CONFIRMED)
    db.session.commit()
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert [m.to for m in fake_twilio.wait_for(1)] == ["+33612345678"]
    assert db.session.scalars(select(SmsMessage.status)).one() is SmsStatus.SENT


def test_end_sessions_signs_a_counsellor_out_everywhere(app, runner, sign_in):
    from tests.factories import make_counsellor

    counsellor = make_counsellor(email="parti@example.org")
    client = sign_in(counsellor)
    assert client.get("/conseiller/").status_code == 200
    result = runner.invoke(args=["end-sessions", "--counsellor", "PARTI@example.org"])
    assert result.exit_code == 0, result.output
    assert client.get("/conseiller/").status_code == 302


def test_end_sessions_for_a_phone_ends_everyone_using_it(app, runner, sign_in):
    from tests.factories import make_beneficiary

    couple = [make_beneficiary(phone="+33612345678") for _ in range(2)]
    clients = [sign_in(person) for person in couple]
    assert [c.get("/accueil").status_code for c in clients] == [200, 200]
    result = runner.invoke(args=["end-sessions", "--phone", "06 12 34 56 78"])
    assert result.exit_code == 0, result.output
    assert [c.get("/accueil").status_code for c in clients] == [302, 302]
    assert runner.invoke(args=["end-sessions", "--phone", "01 23"]).exit_code != 0
    assert runner.invoke(args=["end-sessions"]).exit_code != 0

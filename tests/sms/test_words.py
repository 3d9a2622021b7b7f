"""Every SMS template fits two segments with the longest names, says nothing sensitive."""

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import render_template
from flask_babel import force_locale

from portal.sms.gsm import is_gsm7, segments, to_gsm7

TEMPLATES = sorted(p.name for p in (Path(__file__).parents[2] / "templates/sms").glob("*.txt"))
# The longest commune name in France, in the longest address we imagine, and a long sender.
LONGEST_PLACE = (
    "Maison de l'insertion, 123 bis avenue du Maréchal-de-Lattre-de-Tassigny, "
    "67000 Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson"
)
SENDER = "Departement du Bas-Rhin"


def _render(name: str, language: str) -> str:
    slot = SimpleNamespace(
        starts_at=datetime(2026, 9, 30, 8, 30, tzinfo=UTC),  # a Wednesday in September
        location=LONGEST_PLACE,
        mode=SimpleNamespace(value="in_person"),
        video_url=None,
    )
    with force_locale(language):
        body = render_template(
            f"sms/{name}",
            sender=SENDER,
            link="https://rdv.bas-rhin.fr",
            slot=slot,
            code="123456",
            reason="Je suis absente ce jour-la, choisissez un autre moment.",
        ).strip()
    return to_gsm7(body)


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_french_template_fits_two_segments_in_gsm7(app, name):
    with app.test_request_context():
        body = _render(name, "fr")
    assert is_gsm7(body), body
    assert segments(body) <= 2, (len(body), body)
    assert "RSA" not in body


@pytest.mark.parametrize("name", TEMPLATES)
def test_arabic_and_english_templates_say_nothing_sensitive(app, name):
    with app.test_request_context():
        for language in ("en", "ar"):
            body = _render(name, language)
            assert "RSA" not in body
            assert "{" not in body and "%(" not in body


def test_french_accents_outside_gsm7_are_replaced_never_by_question_marks():
    text = "Fenêtre, garçon, œuvre, « rendez-vous » – déjà"
    assert to_gsm7(text) == 'Fenetre, garcon, oeuvre, " rendez-vous " - déjà'
    assert "?" not in to_gsm7(text)
    assert segments(text) == 1 and not is_gsm7(text)


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),
        ("€" * 81, 2),
        ("ê" * 70, 1),
        ("ê" * 71, 2),
        ("م" * 134, 2),
    ],
)
def test_segments_are_counted_as_carriers_count_them(text, count):
    assert segments(text) == count


def test_arabic_stays_arabic():
    assert to_gsm7("موعدك غدا") == "موعدك غدا"

"""Names in translated sentences: French elision, names isolated inside Arabic."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from flask import render_template, render_template_string
from flask_babel import force_locale, gettext, ngettext

from portal.core.sentences import FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE, elides_before

DISTANCE = '{{ _("À %(distance)s de %(place)s", distance="3 km", place=place) }}'


@pytest.mark.parametrize(
    ("word", "elides"),
    [
        ("Illkirch-Graffenstaden", True),
        ("Écully", True),
        ("œuvre", True),
        ("Amina", True),
        ("  Ostwald", True),
        ("Yves", True),
        ("Yutz", False),
        ("Haguenau", False),  # an "h": mute or not depends on the word, so left alone
        ("Strasbourg", False),
        ("8 rue", False),
        ("", False),
    ],
)
def test_which_words_french_elides_before(word, elides):
    assert elides_before(word) is elides


@pytest.mark.parametrize(
    ("place", "said"),
    [
        ("Illkirch-Graffenstaden", "À 3 km d'Illkirch-Graffenstaden"),
        ("Écully", "À 3 km d'Écully"),
        ("Strasbourg", "À 3 km de Strasbourg"),
        ("Haguenau", "À 3 km de Haguenau"),
    ],
)
def test_a_page_elides_before_a_place_that_starts_with_a_vowel(app, place, said):
    with app.test_request_context(), force_locale("fr"):
        assert render_template_string(DISTANCE, place=place) == said


def test_elision_keeps_the_name_escaped(app):
    with app.test_request_context(), force_locale("fr"):
        html = render_template_string(DISTANCE, place="Île <b>&</b> Co")
    assert html == "À 3 km d'Île &lt;b&gt;&amp;&lt;/b&gt; Co"


def test_python_messages_elide_too_but_only_in_french(app):
    message = "Le compte de %(name)s est de nouveau actif."
    with app.test_request_context():
        with force_locale("fr"):
            assert gettext(message, name="Anne") == "Le compte d'Anne est de nouveau actif."
            assert gettext(message, name="Paul") == "Le compte de Paul est de nouveau actif."
        with force_locale("en"):
            assert "d'Anne" not in gettext(message, name="Anne")
            assert "de Anne" not in gettext(message, name="Anne")


def test_plural_messages_still_count(app):
    with app.test_request_context(), force_locale("fr"):
        assert ngettext("%(num)s moment", "%(num)s moments", 3) == "3 moments"
        assert render_template_string('{{ ngettext("%(num)s moment", "%(num)s moments", 1) }}') == (
            "1 moment"
        )


def test_a_french_name_inside_arabic_is_isolated_on_a_page(app):
    with app.test_request_context(), force_locale("ar"):
        html = render_template_string(DISTANCE, place="Illkirch <b>")
    assert f"{FIRST_STRONG_ISOLATE}Illkirch &lt;b&gt;{POP_DIRECTIONAL_ISOLATE}" in html
    with app.test_request_context(), force_locale("fr"):
        assert FIRST_STRONG_ISOLATE not in render_template_string(DISTANCE, place="Illkirch")


def test_an_sms_in_arabic_carries_no_invisible_marks(app):
    slot = SimpleNamespace(
        starts_at=datetime(2026, 9, 30, 8, 30, tzinfo=UTC),
        location="Maison de l'insertion, Illkirch",
        mode=SimpleNamespace(value="in_person"),
        video_url=None,
    )
    with app.test_request_context(), force_locale("ar"):
        body = render_template(
            "sms/reminder_48h.txt", sender="CD 67", link="https://x.test", slot=slot
        )
    assert "Illkirch" in body
    assert FIRST_STRONG_ISOLATE not in body and POP_DIRECTIONAL_ISOLATE not in body

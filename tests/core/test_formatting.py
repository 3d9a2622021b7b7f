"""Dates and times as people say them (shared/design/UX.md), in Paris time and each language."""

from datetime import UTC, datetime

import pytest
import time_machine
from flask_babel import force_locale

from portal.core.formatting import datetime_human, when_relative

# Friday 4 December 2026, 13:00 in Paris.
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def friday(app):
    with time_machine.travel(NOW, tick=False), app.test_request_context():
        yield


@pytest.mark.parametrize(
    ("moment", "said"),
    [
        (datetime(2026, 12, 4, 15, 0, tzinfo=UTC), "aujourd'hui à 16 h"),
        (datetime(2026, 12, 5, 9, 30, tzinfo=UTC), "demain à 10 h 30"),
        # 23:30 UTC on the 5th is already Sunday the 6th in Paris.
        (datetime(2026, 12, 5, 23, 30, tzinfo=UTC), "dimanche 6 décembre à 0 h 30"),
        (datetime(2027, 3, 2, 9, 0, tzinfo=UTC), "mardi 2 mars à 10 h"),
        # Summer time: 08:00 UTC is 10:00 in Paris.
        (datetime(2027, 4, 6, 8, 0, tzinfo=UTC), "mardi 6 avril à 10 h"),
        (datetime(2027, 9, 7, 8, 0, tzinfo=UTC), "mardi 7 septembre 2027 à 10 h"),
    ],
)
def test_french_says_the_day_and_the_hour_as_people_do(friday, moment, said):
    assert when_relative(moment) == said


def test_an_sms_date_never_says_tomorrow(friday):
    """An SMS may be read another day: it carries the date itself."""
    assert datetime_human(datetime(2026, 12, 5, 9, 30, tzinfo=UTC)) == "samedi 5 décembre à 10 h 30"


def test_english_and_arabic_use_their_own_words_and_clock(friday):
    tomorrow = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
    with force_locale("en"):
        assert when_relative(tomorrow) == "tomorrow at 10:30\u202fAM"
        assert datetime_human(tomorrow) == "Saturday 5 December at 10:30\u202fAM"
    with force_locale("ar"):
        said = when_relative(tomorrow)
    assert said.startswith("غدًا في") and "10:30" in said.replace("١٠:٣٠", "10:30"), said

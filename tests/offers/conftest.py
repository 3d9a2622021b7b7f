"""Offers built through the service the API uses, placed at known distances, and the
helpers the offer tests share (an API key, counting SQL statements, reading a page)."""

import html
import itertools
import re

from sqlalchemy import event

from portal.extensions import db
from portal.organisations.models import Organisation
from portal.organisations.services import create_api_key
from tests.factories import Api

_numbers = itertools.count(1)


def api_of(client, organisation: Organisation) -> Api:
    """The back office of `organisation`, speaking to /api/v1 with its own key."""
    _row, key = create_api_key(organisation, "back office")
    db.session.commit()
    return Api(client, key)


def count_statements(action) -> int:
    """How many SQL statements `action` sends, whichever thread sends them."""
    counter = {"n": 0}

    def count(*_args):
        counter["n"] += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return counter["n"]


def text_of(response) -> str:
    """The page as a person reads it: entities decoded (&#39; is an apostrophe)."""
    return html.unescape(response.get_data(as_text=True))


def titles_in(response) -> list[str]:
    """The offer titles listed in a results page or fragment, in order."""
    return [
        html.unescape(title)
        for title in re.findall(
            r'<h3 class="offer-title"[^>]*><a href="[^"]*">([^<]*)</a></h3>',
            response.get_data(as_text=True),
        )
    ]


def input_value(response, name: str) -> str | None:
    """The value an <input name=…> shows, decoded; None when it has none."""
    page = response.get_data(as_text=True)
    tag = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', page)
    assert tag, f"no input named {name}"
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else None

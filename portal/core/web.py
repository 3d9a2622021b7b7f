"""Answering a page or, for htmx, only the fragment it swaps; redirects that stay home;
ids and dates read from URLs and query strings."""

import re
from datetime import date
from urllib.parse import urlsplit

from flask import Response, abort, redirect, render_template, request
from werkzeug.routing import IntegerConverter

MAX_ROW_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL
HTTPS_URL = (
    "^https://(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*"
    "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    "(?::(?:[0-5]?[0-9]{1,4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
    "(?:[/?#][!-~]*)?$"
)
"""https, a host name or IPv4 address, an optional port, then printable ASCII: what the
checks of a webhook or a video link read without fail (a webhook's host is checked for
public addresses after)."""


def is_https_url(value: str) -> bool:
    return re.fullmatch(HTTPS_URL, value) is not None


# A date further off than this in a query string is a typo or a probe, never a week to show.
FIRST_YEAR, LAST_YEAR = 2000, 2100


class RowIdConverter(IntegerConverter):
    """The app's `<int:…>`: a row id, so a number no id column holds is a 404 (as a missing
    row is) instead of a database error."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ROW_ID, signed=False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def query_id(name: str) -> int | None:
    """The row id `?name=` carries; None when absent or empty, a 404 when it is not an id
    (as an id nobody has would be)."""
    value = request.args.get(name, "")
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ROW_ID):
        abort(404)
    return int(value)


def query_page(name: str = "page") -> int:
    """A page number from the query string; anything else (missing, a word, a number too
    large to mean a page) is the first page."""
    value = request.args.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and 0 < len(value) < 7 else 1


def query_date(name: str) -> date | None:
    """The YYYY-MM-DD date `?name=` carries; None when absent, malformed or out of range."""
    try:
        day = date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def page_or_fragment(page: str, fragment: str, status: int = 200, **context) -> tuple[str, int]:
    """The whole page without JavaScript; the fragment alone when htmx asked."""
    return render_template(fragment if request.htmx else page, **context), status


def go_to(url: str) -> Response:
    """A redirect that htmx follows as a full page load (a 302 would be swapped in place)."""
    if request.htmx:
        return Response(status=200, headers={"HX-Redirect": url})
    return redirect(url)


def local_url(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default`: a `next=` or a referrer
    never sends anyone to another site (open redirect)."""
    if not target:
        return default
    target = target.replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        if parts.netloc == request.host and parts.scheme in ("http", "https"):
            return parts.path + (f"?{parts.query}" if parts.query else "")
        return default
    if target.startswith("/") and not target.startswith("//"):
        return target
    return default


def back_or(default: str) -> str:
    """The page the request came from when it is on this site, else `default`."""
    return local_url(request.referrer, default)


def download(body: str, filename: str, mimetype: str) -> Response:
    """A file the browser saves rather than shows."""
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def csv_download(body: str, filename: str) -> Response:
    """A CSV file to download, with the UTF-8 mark: Excel reads accents and Arabic only
    with it."""
    return download("\ufeff" + body, filename, "text/csv")

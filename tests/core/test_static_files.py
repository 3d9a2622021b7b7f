"""Light answers: compressed where the browser accepts it; static files under hashed
names, kept by browsers for a year; pages still never cached."""

import gzip
import hashlib
import re

import brotli
import pytest

from portal.core.static_files import _matches_the_files

HASHED_CSS = re.compile(r'href="(/static/css/portal-[0-9a-f]{32}\.css)"')
HASHED_JS = re.compile(r'src="(/static/vendor/htmx\.min-[0-9a-f]{32}\.js)"')


def test_pages_link_the_hashed_names(client):
    page = client.get("/").get_data(as_text=True)
    assert HASHED_CSS.search(page), "run ./scripts/setup: it makes the hashed files"
    assert HASHED_JS.search(page)


def test_a_hashed_file_is_kept_a_year_and_a_plain_one_is_revalidated(client):
    css = HASHED_CSS.search(client.get("/").get_data(as_text=True)).group(1)
    hashed = client.get(css)
    assert hashed.status_code == 200
    directives = {d.strip() for d in hashed.headers["Cache-Control"].split(",")}
    assert {"public", "max-age=31536000", "immutable"} <= directives
    assert "no-cache" not in directives
    plain = client.get("/static/css/portal.css")
    assert plain.status_code == 200
    assert "immutable" not in plain.headers.get("Cache-Control", "")
    assert hashed.data == plain.data


@pytest.mark.parametrize(
    ("accepted", "encoding", "decode"),
    [
        ("br, gzip, deflate", "br", brotli.decompress),
        ("gzip", "gzip", gzip.decompress),
    ],
)
def test_pages_and_static_files_travel_compressed(client, accepted, encoding, decode):
    headers = {"Accept-Encoding": accepted}
    page = client.get("/", headers=headers)
    assert page.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in page.headers["Vary"]
    assert "<html" in decode(page.data).decode()
    assert page.headers["Cache-Control"] == "no-store"  # compressed, still never cached
    css_url = HASHED_CSS.search(decode(page.data).decode()).group(1)
    css = client.get(css_url, headers=headers)
    assert css.headers["Content-Encoding"] == encoding
    plain = client.get(css_url)
    assert "Content-Encoding" not in plain.headers
    assert decode(css.data) == plain.data
    assert len(css.data) < len(plain.data) / 3


def test_nothing_is_compressed_for_a_client_that_does_not_ask(client):
    response = client.get("/", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in response.headers
    assert b"<html" in response.data


def test_hashed_names_are_trusted_only_while_they_match_the_files(tmp_path):
    (tmp_path / "a.css").write_text("body { color: red; }")
    current = {"a.css": "a-" + hashlib.md5(b"body { color: red; }").hexdigest() + ".css"}
    stale = {"a.css": "a-" + "0" * 32 + ".css"}
    assert _matches_the_files(str(tmp_path), current)
    assert not _matches_the_files(str(tmp_path), stale)
    assert not _matches_the_files(str(tmp_path), {"gone.css": "gone-" + "0" * 32 + ".css"})

"""What the beneficiary pages cost on a prepaid data plan: the bytes that really cross the
network (what the browser's developer tools call "transferred": headers and compressed
bodies), on a first visit and on the next one."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.factories import (
    make_appointment,
    make_beneficiary,
    make_counsellor,
    make_offer,
    make_organisation,
    make_slot,
    make_step,
)

FIRST_VISIT_BUDGET = 25_000  # bytes transferred for a page and everything it loads
REPEAT_VISIT_BUDGET = 5_000  # the page again: its files come from the browser's cache

PAGES = ["/accueil", "/rendez-vous/", "/rendez-vous/nouveau", "/offres/", "/parametres"]


@dataclass
class Load:
    """What crossed the network for one page, per URL: (headers, compressed body) bytes,
    as Chromium counts them through the DevTools protocol; the cache's files count 0."""

    rows: dict[str, tuple[int, int]]

    @property
    def bodies(self) -> int:
        return sum(body for _, body in self.rows.values())

    @property
    def transferred(self) -> int:
        return sum(headers + body for headers, body in self.rows.values())


def _load(page: Page, path: str) -> Load:
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    urls: dict[str, str] = {}
    headers: dict[str, int] = {}
    totals: dict[str, int] = {}

    def sent(event):
        urls[event["requestId"]] = event["request"]["url"]

    def received(event):  # the bytes so far: the status line and the headers
        headers[event["requestId"]] = event["response"]["encodedDataLength"]

    def finished(event):
        totals[event["requestId"]] = event["encodedDataLength"]

    session.on("Network.requestWillBeSent", sent)
    session.on("Network.responseReceived", received)
    session.on("Network.loadingFinished", finished)
    page.goto(path, wait_until="networkidle")
    session.detach()
    return Load(
        {
            urls[key]: (min(headers.get(key, 0), total), total - min(headers.get(key, 0), total))
            for key, total in totals.items()
            if urls.get(key, "").startswith("http")
        }
    )


@pytest.fixture
def signed_in_state(page: Page, sign_in_by_sms):
    organisation = make_organisation()
    counsellor = make_counsellor(organisation)
    person = make_beneficiary(organisation, first_name="Amina", phone="+33612345678")
    make_appointment(make_slot(counsellor, starts_in=timedelta(days=3)), person)
    make_slot(counsellor, starts_in=timedelta(days=4))
    make_step(person, organisation)
    make_offer(organisation)
    sign_in_by_sms(page, "06 12 34 56 78")
    return page.context.storage_state()


@pytest.mark.parametrize("path", PAGES)
def test_a_beneficiary_page_weighs_25_kb_at_first_and_5_kb_after(new_page, signed_in_state, path):
    # A new context has an empty cache: the first visit, with the session cookie.
    fresh = new_page("fr-FR", storage_state=signed_in_state)
    first = _load(fresh, path)
    expect(fresh.locator("h1")).to_be_visible()
    again = _load(fresh, path)
    print(f"\n{path}: first {first.bodies} B of bodies, {first.transferred} B in all {first.rows}")
    print(f"  again {again.transferred} B in all {again.rows}")
    assert len(first.rows) >= 3, first.rows  # the page, its stylesheet and its script
    # Compressed bodies: headers depend on the protocol (HTTP/2 behind the proxy packs them).
    assert first.bodies <= FIRST_VISIT_BUDGET, first.rows
    # Everything, headers included: the page alone, its files from the cache.
    assert again.transferred <= REPEAT_VISIT_BUDGET, again.rows
    assert all(body == 0 for url, (_h, body) in again.rows.items() if "/static/" in url)

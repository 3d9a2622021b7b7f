"""What the beneficiary home costs on a prepaid data plan, on a first visit."""

import gzip
from datetime import timedelta

from playwright.sync_api import Page, Response, expect

from tests.factories import (
    make_appointment,
    make_beneficiary,
    make_counsellor,
    make_organisation,
    make_slot,
    make_step,
)

BUDGET_GZIP_BYTES = 50_000


def test_the_home_page_weighs_less_than_50_kb_gzipped(
    page: Page, new_page, sign_in_by_sms, live_server
):
    organisation = make_organisation()
    counsellor = make_counsellor(organisation)
    person = make_beneficiary(organisation, first_name="Amina", phone="+33612345678")
    make_appointment(make_slot(counsellor, starts_in=timedelta(days=3)), person)
    make_step(person, organisation)

    sign_in_by_sms(page, "06 12 34 56 78")
    signed_in = page.context.storage_state()

    # A new context has an empty cache: this is the first load, with the session cookie.
    fresh = new_page("fr-FR", storage_state=signed_in)
    responses: list[Response] = []
    fresh.on("response", lambda response: responses.append(response))
    fresh.goto("/accueil", wait_until="networkidle")
    expect(fresh.get_by_role("heading", level=1)).to_have_text("Bonjour Amina")

    rows = []
    for response in responses:
        body = response.body()
        rows.append(
            (response.request.resource_type, response.url, len(body), len(gzip.compress(body)))
        )
    kinds = {kind for kind, *_ in rows}
    assert {"document", "stylesheet", "script"} <= kinds, rows
    assert all(url.startswith(live_server + "/") for _, url, *_ in rows), rows

    raw = sum(size for *_, size, _ in rows)
    packed = sum(size for *_, size in rows)
    print("\nHome page, first load:")
    for kind, url, size, gzipped in rows:
        print(f"  {kind:<10} {size:>7} B  gzip {gzipped:>6} B  {url}")
    print(f"  total      {raw:>7} B  gzip {packed:>6} B  (budget {BUDGET_GZIP_BYTES} B gzip)")
    assert packed < BUDGET_GZIP_BYTES, rows

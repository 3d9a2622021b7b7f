"""GET /events: the organisation's feed, ordered, with a cursor, side-effect free."""

from datetime import datetime, timedelta

import pytest

from portal.events.services import record_event
from portal.extensions import db
from tests.api.conftest import assert_problem
from tests.factories import book, person_of, put_beneficiary


def _confirm(tenant, appointment_id):
    response = tenant.api.post(f"/appointments/{appointment_id}/status", {"status": "confirmed"})
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.fixture
def five_events(org_a):
    """Five events about DOS-1, made through the API: appointments confirmed."""
    put_beneficiary(org_a, "DOS-1")
    for n in range(5):
        _confirm(org_a, book(org_a, "DOS-1", starts_in=timedelta(days=2 + n)).id)


def _feed(tenant, **params):
    response = tenant.api.get("/events", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_the_feed_is_ordered_with_the_contract_fields(org_a, five_events):
    feed = _feed(org_a)
    events = feed["events"]
    assert len(events) == 5
    ids = [e["id"] for e in events]
    assert all(isinstance(i, int) for i in ids)
    assert all(a < b for a, b in zip(ids, ids[1:], strict=False)), ids
    assert feed["next_after"] == ids[-1]
    for event in events:
        assert {"id", "type", "occurred_at", "beneficiary_external_id", "data"} <= set(event)
        assert event["type"] == "appointment.confirmed"
        assert event["beneficiary_external_id"] == "DOS-1"
        assert isinstance(event["data"], dict)
        assert datetime.fromisoformat(event["occurred_at"]).tzinfo is not None


def test_after_and_limit_page_through_the_feed(org_a, five_events):
    all_ids = [e["id"] for e in _feed(org_a)["events"]]
    first = _feed(org_a, limit=2)
    assert [e["id"] for e in first["events"]] == all_ids[:2]
    assert first["next_after"] == all_ids[1]
    second = _feed(org_a, after=first["next_after"], limit=2)
    assert [e["id"] for e in second["events"]] == all_ids[2:4]
    third = _feed(org_a, after=second["next_after"], limit=2)
    assert [e["id"] for e in third["events"]] == all_ids[4:]
    end = _feed(org_a, after=third["next_after"], limit=2)
    assert end["events"] == []
    # An empty page keeps the cursor where it was: nothing is ever skipped.
    assert end["next_after"] == third["next_after"]
    assert _feed(org_a, after=all_ids[0])["events"][0]["id"] == all_ids[1]
    assert [e["id"] for e in _feed(org_a, limit=1000)["events"]] == all_ids
    assert [e["id"] for e in _feed(org_a, limit=1)["events"]] == all_ids[:1]


def test_the_default_limit_is_100(org_a):
    put_beneficiary(org_a, "DOS-1")
    person = person_of(org_a, "DOS-1")
    for _ in range(101):
        record_event("beneficiary.sms_opted_out", person, {})
    db.session.commit()
    feed = _feed(org_a)
    assert len(feed["events"]) == 100
    assert len(_feed(org_a, after=feed["next_after"])["events"]) == 1


def test_reading_is_side_effect_free(org_a, five_events):
    first = _feed(org_a)
    second = _feed(org_a)
    assert first == second
    assert _feed(org_a, limit=3) == _feed(org_a, limit=3)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 1001},
        {"limit": -1},
        {"limit": "ten"},
        {"limit": "1.5"},
        {"after": -1},
        {"after": "abc"},
        {"after": "1e3"},
    ],
)
def test_bad_cursor_or_limit_is_422(org_a, params):
    assert_problem(org_a.api.get("/events", query_string=params), 422)


def test_an_empty_feed(org_a):
    assert _feed(org_a) == {"events": [], "next_after": 0}


def test_the_feed_is_scoped_to_the_organisation(org_a, org_b):
    put_beneficiary(org_a, "A-ONLY")
    put_beneficiary(org_b, "B-ONLY", phone="+33699999999")
    _confirm(org_a, book(org_a, "A-ONLY").id)
    _confirm(org_b, book(org_b, "B-ONLY").id)
    a_events = _feed(org_a)["events"]
    b_events = _feed(org_b)["events"]
    assert [e["beneficiary_external_id"] for e in a_events] == ["A-ONLY"]
    assert [e["beneficiary_external_id"] for e in b_events] == ["B-ONLY"]
    assert {e["id"] for e in a_events}.isdisjoint({e["id"] for e in b_events})


def test_events_about_a_shared_person_reach_both_under_their_own_ids(org_a, org_b):
    put_beneficiary(org_a, "A-1", caf_number="1234567")
    put_beneficiary(org_b, "B-1", caf_number="1234567")
    put_beneficiary(org_a, "A-2", phone="+33699999999")  # followed by A only
    _confirm(org_a, book(org_a, "A-1").id)
    _confirm(org_b, book(org_b, "B-1").id)
    _confirm(org_a, book(org_a, "A-2").id)

    a_events = _feed(org_a)["events"]
    b_events = _feed(org_b)["events"]
    assert [e["beneficiary_external_id"] for e in a_events] == ["A-1", "A-1", "A-2"]
    assert [e["beneficiary_external_id"] for e in b_events] == ["B-1", "B-1"]
    assert [e["id"] for e in b_events] == [e["id"] for e in a_events[:2]]
    assert [e["data"] for e in b_events] == [e["data"] for e in a_events[:2]]

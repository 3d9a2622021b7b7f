"""The events feed and the webhook that receives every event."""

from flask import Response, g

from portal.api import schemas
from portal.api.payloads import endpoint_payload
from portal.api.routing import field_problem, integer_arg, operation, query, read_body, respond
from portal.core.problems import ApiProblem
from portal.events import services as events
from portal.events import webhooks
from portal.extensions import db

MAX_EVENT_ID = 2**62  # event ids are 64-bit


@operation(
    "/events",
    "GET",
    summary="What happened on the portal, oldest first",
    responses={200: schemas.EventsOut, 422: None},
    query=[
        query(
            "after",
            {"type": "integer", "minimum": 0, "maximum": MAX_EVENT_ID},
            "the last id read (next_after)",
        ),
        query(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": events.FEED_MAX, "default": 100},
            "how many events at most",
        ),
    ],
)
def list_events():
    """Side-effect free: a consumer that crashed reads again from its last next_after."""
    after = integer_arg("after", 0, 0, MAX_EVENT_ID)
    limit = integer_arg("limit", 100, 1, events.FEED_MAX)
    items, next_after = events.feed(g.organisation, after, limit)
    return respond(schemas.EventsOut, {"events": items, "next_after": next_after})


@operation(
    "/webhook",
    "PUT",
    summary="Register the URL that receives every event",
    body=schemas.WebhookIn,
    responses={
        200: schemas.WebhookOut,
        201: schemas.WebhookOut,
        422: "Invalid: the schema, and beyond it the URL's host must resolve, to public "
        "addresses only",
    },
    links={"get_webhook": {}, "delete_webhook": {}},
)
def put_webhook():
    """https only, and never a private, loopback or link-local address (unless
    WEBHOOK_ALLOW_INSECURE=1)."""
    data = read_body(schemas.WebhookIn)
    try:
        endpoint, created = webhooks.register(g.organisation, data.url, data.secret)
    except webhooks.WebhookUrlError as error:
        raise field_problem("url", str(error)) from None
    db.session.commit()
    return respond(schemas.WebhookOut, endpoint_payload(endpoint), 201 if created else 200)


@operation(
    "/webhook",
    "GET",
    summary="Read the registered webhook",
    responses={200: schemas.WebhookOut, 404: None},
)
def get_webhook():
    endpoint = webhooks.endpoint_of(g.organisation)
    if endpoint is None:
        raise ApiProblem(404, "No webhook is registered.")
    return respond(schemas.WebhookOut, endpoint_payload(endpoint))


@operation("/webhook", "DELETE", summary="Remove the webhook", responses={204: None, 404: None})
def delete_webhook():
    if not webhooks.unregister(g.organisation):
        raise ApiProblem(404, "No webhook is registered.")
    db.session.commit()
    return Response(status=204)

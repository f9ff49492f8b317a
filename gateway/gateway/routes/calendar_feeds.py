"""`GET /api/v1/calendar-feeds/{token}/calendar.ics`: a user's calendar feed, reachable without a login
so that a phone's or a desktop's calendar app can subscribe to it (they send no bearer token).

The token in the address is the credential, and sales checks it (crm.sales.v1.CalendarFeedsService:
issued to the signed-in user at `POST /api/v1/calendar-feeds`, stored as a hash, revoked by deleting the
feed), as it checks a web form's key: the gateway forwards the token with a signed context of its own
that may only read tasks and appointments. The answer is sales' google.api.HttpBody, served raw as the
transcoded routes serve one (`text/calendar`). An unknown or revoked token is a 404.

The feed's user must still be active: sales names the feed (its `CalendarFeed`, in the HttpBody's
`extensions`), and the gateway checks that user against its identity store as it checks every caller
(the per-worker state cache, GATEWAY_IDENTITY_CACHE_SECONDS), so a deactivated user's feed, or that of a
user of a deactivated partner account, answers 404 within that time, and again 200 once reactivated.
"""

from __future__ import annotations

from typing import Any

import grpc
from flask import Blueprint, Response
from google.api import httpbody_pb2

from crm.sales.v1 import activities_pb2
from crm_platform.access import Level
from crm_platform.grpc_client import CALLER_CONTEXT_METADATA_KEY
from gateway.auth import public
from gateway.identity.caller_context import signed_gateway_context
from gateway.identity.runtime import identity
from gateway.problems import Problem, problem_type
from gateway.rpc_errors import problem_from_rpc_error
from gateway.state import state
from gateway.transcoding.responses import raw_response

bp = Blueprint("calendar_feeds", __name__)

SERVICE = "sales"
RENDER = "/crm.sales.v1.CalendarFeedsService/RenderCalendarFeed"
# What the gateway's call may do: read tasks and appointments (sales narrows it to the feed's user).
RIGHTS = {"task": {"read": Level.ALL}, "appointment": {"read": Level.ALL}}
DEADLINE_SECONDS = 10.0
MAX_TOKEN = 128
PATH = "/api/v1/calendar-feeds/{token}/calendar.ics"


@bp.get("/calendar-feeds/<token>/calendar.ics")
@public
def calendar(token: str) -> Response:
    if len(token) > MAX_TOKEN or not token.isprintable():
        raise Problem(404, "No such calendar feed.", type=problem_type("not-found"))
    call = state().clients.unary(SERVICE, RENDER, httpbody_pb2.HttpBody)
    metadata = [(CALLER_CONTEXT_METADATA_KEY, signed_gateway_context(RIGHTS))]
    try:
        body = call(
            activities_pb2.RenderCalendarFeedRequest(token=token), timeout=DEADLINE_SECONDS, metadata=metadata
        )
    except grpc.RpcError as error:
        raise problem_from_rpc_error(error, SERVICE, addressing_fields=frozenset({"token"})) from None
    if not _user_active(body):
        raise Problem(404, "No such calendar feed.", type=problem_type("not-found"))
    response = raw_response(body)
    # A feed is personal: shared caches keep none of it; calendar apps poll it themselves.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _user_active(body: httpbody_pb2.HttpBody) -> bool:
    """Whether the user the feed belongs to (named by sales with the answer) is active; an answer that
    names nobody is served to nobody."""
    feed = activities_pb2.CalendarFeed()
    named = next((item for item in body.extensions if item.Unpack(feed)), None)
    if named is None or not feed.user_id:
        return False
    user = identity().users.get(feed.user_id)
    return user is not None and user.active


def openapi_paths() -> dict[str, Any]:
    """This route in the OpenAPI document."""
    return {
        PATH: {
            "get": {
                "operationId": "readCalendarFeed",
                "summary": "Read a calendar feed (no login: the token is the credential)",
                "description": "The feed's user's appointments (from 90 days ago on) and open tasks with a "
                "due time, as iCalendar, for a calendar app's subscription. Issue a feed with "
                "`POST /api/v1/calendar-feeds` (its answer holds this address); delete it to revoke it.",
                "tags": ["sales"],
                "security": [],
                "parameters": [
                    {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "The calendar.",
                        "content": {"text/calendar": {"schema": {"type": "string", "format": "binary"}}},
                    },
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "500": {"$ref": "#/components/responses/InternalError"},
                },
            }
        }
    }

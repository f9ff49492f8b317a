"""The RPC's response message as the HTTP response: status, JSON body and headers.

- an RPC that returns google.protobuf.Empty answers 204 with no body;
- an RPC that returns google.api.HttpBody answers its `data` as the body, raw, with its `content_type`
  (a rendered document: a PDF, a calendar feed), as Envoy's transcoder and grpc-gateway do;
- a standard Create (POST, method named Create*) answers 201 with `Location`, the URL of the Get route
  for the same collection filled from the new resource's id;
- a resource with an `etag` gets an `ETag` header (quoted, RFC 9110), which `If-Match` sends back;
- a replayed idempotent call says so in `Idempotent-Replayed: true`.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

import orjson
from flask import Response
from google.protobuf.message import Message

from crm_platform import protojson
from gateway.transcoding.rules import Route

JSON = "application/json"
HTTP_BODY = "google.api.HttpBody"
OCTET_STREAM = "application/octet-stream"


def location_route(create: Route, routes: Sequence[Route]) -> Route | None:
    """The Get route of the collection a Create route adds to (`/things` -> `/things/{id}`)."""
    if create.http_method != "POST" or not create.method.name.startswith("Create") or create.verb:
        return None
    for route in routes:
        if (
            route.http_method == "GET"
            and route.segments[:-1] == create.segments
            and route.segments[-1] == ""
            and len(route.variables) == len(create.variables) + 1
            and not route.verb
            and not route.addresses_a_document  # /things/{id}.pdf renders a thing, it is not one
            and route.variables[-1].field_path[-1] in route.response.fields_by_name
        ):
            return route
    return None


def raw_response(message: Message) -> Response:
    """A google.api.HttpBody as the HTTP response: its data, raw, with its content_type (also for the
    gateway's hand-written public routes that answer a rendering, such as a calendar feed)."""
    body = message.data  # type: ignore[attr-defined]
    return Response(body, status=200, content_type=message.content_type or OCTET_STREAM)  # type: ignore[attr-defined]


def render(route: Route, message: Message, *, location: Route | None, replayed: bool) -> Response:
    if message.DESCRIPTOR.full_name == protojson.EMPTY:
        response = Response(status=204)
        del response.headers["Content-Type"]  # no content, so no type (Flask would say text/html)
    elif message.DESCRIPTOR.full_name == HTTP_BODY:
        response = raw_response(message)
    else:
        response = Response(orjson.dumps(protojson.encode(message)), status=200, mimetype=JSON)
    if location is not None:
        response.status_code = 201
        value = getattr(message, location.variables[-1].field_path[-1])
        name = location.parameter_name(location.variables[-1])
        response.headers["Location"] = location.openapi_path.replace(
            "{" + name + "}", quote(str(value), safe="")
        )
    etag = getattr(message, "etag", None) if "etag" in message.DESCRIPTOR.fields_by_name else None
    if etag:
        response.headers["ETag"] = f'"{etag}"'
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response

"""What a failed gRPC call means to the HTTP client: the one table from gRPC status (and its rich
details) to RFC 9457 problem+json.

Domain messages (not found, already exists, invalid field) are written by the services for callers and
are passed on with the field violations they carry; anything unexpected is logged and answered without
its details. Field names are relative to the request message; for an endpoint whose body is one field
of the request (PATCH /contacts/{contact.id} takes `contact`), the gateway strips that prefix so the
names match the JSON the client sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc

from crm_platform.errors import ErrorDetails, details_from
from gateway.problems import Problem, problem_type

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mapping:
    status: int
    slug: str
    title: str | None = None
    passes_message: bool = True  # the service's message is meant for callers


# (code, ErrorInfo reason or precondition type or "") -> answer; the most specific match wins.
TABLE: dict[tuple[grpc.StatusCode, str], Mapping] = {
    (grpc.StatusCode.INVALID_ARGUMENT, ""): Mapping(422, "validation-error", "Request validation failed"),
    (grpc.StatusCode.NOT_FOUND, ""): Mapping(404, "not-found"),
    # The record was merged into another (ErrorInfo MOVED, ResourceInfo naming it): 308 to that one.
    (grpc.StatusCode.NOT_FOUND, "MOVED"): Mapping(308, "moved"),
    (grpc.StatusCode.ALREADY_EXISTS, ""): Mapping(409, "conflict"),
    (grpc.StatusCode.ABORTED, ""): Mapping(409, "conflict"),
    (grpc.StatusCode.FAILED_PRECONDITION, ""): Mapping(409, "conflict"),
    (grpc.StatusCode.FAILED_PRECONDITION, "ETAG"): Mapping(412, "precondition-failed"),
    (grpc.StatusCode.FAILED_PRECONDITION, "IDEMPOTENCY_KEY_REUSED"): Mapping(422, "idempotency-key-reused"),
    # A business rule refused the request (crm_platform.errors.BusinessRuleRefused): 422 with its reason.
    (grpc.StatusCode.FAILED_PRECONDITION, "BUSINESS_RULE"): Mapping(422, "business-rule"),
    (grpc.StatusCode.PERMISSION_DENIED, ""): Mapping(403, "forbidden"),
    (grpc.StatusCode.UNAUTHENTICATED, ""): Mapping(401, "unauthorized"),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, ""): Mapping(429, "too-many-requests"),
    (grpc.StatusCode.OUT_OF_RANGE, ""): Mapping(400, "bad-request"),
    (grpc.StatusCode.UNIMPLEMENTED, ""): Mapping(501, "not-implemented", passes_message=False),
    (grpc.StatusCode.UNAVAILABLE, ""): Mapping(503, "service-unavailable", passes_message=False),
    # Our service saying a service it depends on did not answer (crm_platform.errors.Unavailable): its
    # message is written for callers ("the contacts service did not answer"), so it is passed on.
    (grpc.StatusCode.UNAVAILABLE, "UNAVAILABLE"): Mapping(503, "service-unavailable"),
    (grpc.StatusCode.DEADLINE_EXCEEDED, ""): Mapping(504, "timeout", passes_message=False),
}
UPSTREAM_ERROR = Mapping(502, "upstream-error", passes_message=False)
# Query-string and path fields address the resource; a bad one is a bad request, not bad content.
ADDRESSING_STATUS = 400

_GENERIC = {
    503: "The {service} service is unavailable; try again shortly.",
    504: "The {service} service did not answer in time.",
    501: "The {service} service does not implement this yet.",
    502: "The {service} service failed to answer.",
}


def _mapping(code: grpc.StatusCode, details: ErrorDetails) -> Mapping:
    for qualifier in (*details.precondition_types, details.reason):
        found = TABLE.get((code, qualifier))
        if found is not None:
            return found
    return TABLE.get((code, ""), UPSTREAM_ERROR)


def moved_location(path: str, details: ErrorDetails) -> str | None:
    """Where a MOVED record is now: the request's path with the segment naming the record asked for
    (ErrorInfo metadata `moved_from`) naming the record it went into (ResourceInfo), custom verb kept;
    None when the path does not name it."""
    old, new = (details.metadata or {}).get("moved_from", ""), details.resource_name
    if not old or not new:
        return None
    segments = path.split("/")
    for index, segment in enumerate(segments):
        name, colon, verb = segment.partition(":")
        if name == old:
            segments[index] = new + colon + verb
            return "/".join(segments)
    return None


def _relative(field: str, body_field: str) -> str:
    prefix = f"{body_field}."
    return field[len(prefix) :] if body_field and field.startswith(prefix) else field


def problem_from_rpc_error(
    error: grpc.RpcError,
    service: str,
    *,
    body_field: str = "",
    addressing_fields: frozenset[str] = frozenset(),
    path: str = "",
) -> Problem:
    """The problem answering a failed call; `path` is the request's (a 308 points into it)."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = (error.details() if hasattr(error, "details") else "") or ""
    details = details_from(error)
    mapping = _mapping(code, details)
    if code == grpc.StatusCode.UNAVAILABLE:
        log.warning("%s service unavailable: %s", service, message)
    elif code == grpc.StatusCode.DEADLINE_EXCEEDED:
        log.warning("%s service did not answer within the deadline", service)
    elif mapping is UPSTREAM_ERROR or code == grpc.StatusCode.UNIMPLEMENTED:
        log.error("%s service failed: %s %s", service, code, message)
    errors = [
        {"field": _relative(field, body_field), "message": text} for field, text in details.field_violations
    ]
    status, slug, title = mapping.status, mapping.slug, mapping.title
    # Addressing fields are request-relative (`contact.id`), so compare the names the service sent.
    if (
        code == grpc.StatusCode.INVALID_ARGUMENT
        and errors
        and all(field in addressing_fields for field, _ in details.field_violations)
    ):
        status, slug, title = ADDRESSING_STATUS, "bad-request", None
    detail = (
        message if mapping.passes_message and message else _GENERIC.get(status, "").format(service=service)
    )
    headers = {"Retry-After": "1"} if status in (429, 503) else {}
    if status == 308:
        location = moved_location(path, details)
        if location is None:  # nowhere to send the client: the record is simply not here
            status, slug = 404, "not-found"
        else:
            headers["Location"] = location
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="crm-gateway"'

    extra: dict[str, object] = {"reason": details.reason} if details.reason and mapping.passes_message else {}
    if code == grpc.StatusCode.ALREADY_EXISTS and details.resource_name:
        # The service attaches the holder only for a caller who may read it (never across scopes).
        extra["existing"] = {"type": details.resource_type, "id": details.resource_name}
    if status == 308 or (details.reason == "MERGED" and details.resource_name):
        # Where the record went: for a write to a merged record (409, crm_platform.errors.MergedInto)
        # too, so the client can send it to the survivor on purpose.
        extra["moved_to"] = {"type": details.resource_type, "id": details.resource_name}
    return Problem(
        status,
        detail or "The request could not be completed.",
        type=problem_type(slug),
        title=title,
        errors=errors or None,
        headers=headers,
        extra=extra,
    )

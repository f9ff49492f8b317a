"""The OpenAPI 3.1 document of the REST API.

Everything a service owns is generated from its contract (the transcoded routes, their messages, field
rules and proto comments: `_rpc_paths`, gateway/openapi_schemas.py), so the document describes exactly
what is served. Only what the gateway itself owns (login, customer-360, health, this document) is listed
by hand, with schemas from the pydantic models that validate it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from crm.contacts.v1 import consent_pb2, contacts_pb2, overview_pb2, timeline_pb2
from crm.marketing.v1 import marketing_pb2
from crm.notifications.v1 import notifications_pb2
from crm.sales.v1 import sales_pb2
from crm.support.v1 import support_pb2
from gateway import models
from gateway.identity import openapi as identity_openapi
from gateway.openapi_schemas import SchemaBuilder
from gateway.routes import calendar_feeds as calendar_feed_routes
from gateway.routes import imports as imports_routes
from gateway.routes import web_forms as web_form_routes
from gateway.transcoding.contracts import Contracts
from gateway.transcoding.requests import MAX_ETAG_LENGTH, query_fields
from gateway.transcoding.responses import HTTP_BODY
from gateway.transcoding.rules import Route
from gateway.transcoding.views import ServedRoute

TITLE = "CRM platform REST API"
VERSION = "1.0.0"
PROBLEM_JSON = "application/problem+json"

_REQUEST_MODELS: list[type[BaseModel]] = [models.TokenRequest, *identity_openapi.REQUEST_MODELS]
_RESPONSE_MODELS: list[type[BaseModel]] = [
    models.TokenResponse,
    models.Health,
    models.ProblemDetails,
    *identity_openapi.RESPONSE_MODELS,
]

_PROBLEMS = {
    "BadRequest": "The request is malformed (body not JSON, not an object, bad header).",
    "Unauthorized": "No valid credential (token missing, malformed, expired, badly signed or of a "
    "deactivated user; API key unknown, revoked or expired).",
    "Forbidden": "The caller may not do this.",
    "NotFound": "No such resource.",
    "Moved": "The record was merged into another: `Location` (and `moved_to` in the body) names the "
    "survivor, where the same request can be repeated.",
    "Conflict": "The request conflicts with the current state (e.g. duplicate email).",
    "PreconditionFailed": "`If-Match` names an etag the resource no longer has: read it again.",
    "TooManyRequests": "Too many requests; retry after `Retry-After` seconds.",
    "PayloadTooLarge": "The body is larger than the gateway accepts.",
    "UnsupportedMediaType": "The body is not application/json.",
    "ValidationFailed": "One or more fields are invalid; `errors` lists them.",
    "InternalError": "Unexpected error; it was logged under `trace_id`.",
    "NotImplemented": "The service does not implement this yet.",
    "BadGateway": "A service the request needs failed.",
    "ServiceUnavailable": "A service the request needs is unavailable; retry later.",
    "GatewayTimeout": "A service the request needs did not answer in time.",
}
_STATUS_OF = {
    "BadRequest": "400",
    "Unauthorized": "401",
    "Forbidden": "403",
    "NotFound": "404",
    "Moved": "308",
    "Conflict": "409",
    "PreconditionFailed": "412",
    "TooManyRequests": "429",
    "PayloadTooLarge": "413",
    "UnsupportedMediaType": "415",
    "ValidationFailed": "422",
    "InternalError": "500",
    "NotImplemented": "501",
    "BadGateway": "502",
    "ServiceUnavailable": "503",
    "GatewayTimeout": "504",
}


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema_name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("schemas", schema_name)}},
    }


_MOVED_HEADERS = {"Location": {"description": "URL of the surviving record", "schema": {"type": "string"}}}
# Records that merge (contacts' people and companies): reading a merged one by its id answers 308 to the
# survivor (contacts.merge.tombstones), whatever the route below it.
_MERGEABLE_PATHS = ("/api/v1/contacts/{", "/api/v1/companies/{")


def _problems(*names: str) -> dict[str, Any]:
    return {_STATUS_OF[name]: _ref("responses", name) for name in ("InternalError", *names)}


_UPSTREAM = ("BadGateway", "ServiceUnavailable", "GatewayTimeout")
_AUTHENTICATED = ("Unauthorized",)


def _paths() -> dict[str, Any]:
    public: list[dict[str, list[str]]] = []  # overrides the document-wide bearer requirement
    return {
        "/api/v1/auth/token": {
            "post": {
                "operationId": "issueToken",
                "summary": "Exchange email and password for an access token and a refresh token",
                "description": "Throttled per account and per client address (429 with Retry-After). An "
                "unknown email and a wrong password get the same 401 after the same work.",
                "tags": ["auth"],
                "security": public,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("schemas", "TokenRequest")}},
                },
                "responses": {
                    "200": _json("TokenResponse", "A fresh access token"),
                    **_problems(
                        "BadRequest",
                        "Unauthorized",
                        "PayloadTooLarge",
                        "UnsupportedMediaType",
                        "ValidationFailed",
                    ),
                    "429": identity_openapi.TOO_MANY_ATTEMPTS,
                },
            }
        },
        "/api/v1/customers/{contact_id}/360": {
            "get": {
                "operationId": "getCustomer360",
                "summary": "Everything the platform knows about a contact, composed from every service",
                "description": "Services are asked in parallel, each under its own deadline. A service that "
                "is down or slow leaves its section null and is named in `unavailable`; the rest is "
                "still returned with 200.",
                "tags": ["customers"],
                "parameters": [_ref("parameters", "ContactId")],
                "responses": {
                    "200": _json("Customer360", "The composed view (possibly partial)"),
                    **_problems(*_AUTHENTICATED, "NotFound", "BadRequest"),
                },
            }
        },
        "/api/v1/contacts/{contact_id}:exportData": {
            "get": {
                "operationId": "exportContactData",
                "summary": "Everything every service holds about a person (data-subject access)",
                "description": "Each service answers for its own records, asked in parallel; what you may "
                "not read is left out (each service reads through your scope) or named in `forbidden`. A "
                "service that cannot answer makes the whole export a 503: an export is never silently "
                "partial. Every export is recorded in the audit log (`contact.exported`).",
                "tags": ["customers"],
                "parameters": [_ref("parameters", "ContactId")],
                "responses": {
                    "200": _json("PersonalDataExport", "The assembled document"),
                    **_problems(*_AUTHENTICATED, "Forbidden", "NotFound", "BadRequest", "ServiceUnavailable"),
                },
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "getOpenApiDocument",
                "summary": "This document",
                "tags": ["meta"],
                "security": public,
                "responses": {
                    "200": {"description": "OpenAPI 3.1 document", "content": {"application/json": {}}}
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "summary": "Liveness: the process answers (checks no dependency)",
                "tags": ["meta"],
                "security": public,
                "responses": {"200": _json("Health", "Alive")},
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "summary": "Readiness: the database and every service answer",
                "description": "`scope=self` checks only the gateway's own database: what a load balancer "
                "should gate traffic on, since the gateway still serves partial answers while a service "
                "is down.",
                "tags": ["meta"],
                "security": public,
                "parameters": [
                    {
                        "name": "scope",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["all", "self"], "default": "all"},
                    }
                ],
                "responses": {
                    "200": _json("Health", "Ready"),
                    "400": {
                        "description": "Unknown scope",
                        "content": {PROBLEM_JSON: {"schema": _ref("schemas", "ProblemDetails")}},
                    },
                    "503": {
                        "description": "Something is not reachable; `unavailable` names it",
                        "content": {PROBLEM_JSON: {"schema": _ref("schemas", "ProblemDetails")}},
                    },
                },
            }
        },
    }


def _schemas() -> dict[str, Any]:
    pairs = [(m, "validation") for m in _REQUEST_MODELS] + [(m, "serialization") for m in _RESPONSE_MODELS]
    _, top = models_json_schema(pairs, ref_template="#/components/schemas/{model}")  # type: ignore[arg-type]
    schemas: dict[str, Any] = top.get("$defs", {})
    return schemas


def _parameters() -> dict[str, Any]:
    return {
        "ContactId": {
            "name": "contact_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "maxLength": 64},
        },
        "IfMatch": {
            "name": "If-Match",
            "in": "header",
            "required": False,
            "description": "The `ETag` you read: the change is made only if the resource still has it "
            "(412 otherwise).",
            "schema": {"type": "string", "maxLength": MAX_ETAG_LENGTH},
        },
        "IdempotencyKey": {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "Retrying with the same key and body replays the first response (even when the "
            "first attempt timed out after the service committed); the same key with a different body is "
            "refused with 422; concurrent requests with one key make one resource. Keys are kept for "
            "24 hours.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        },
    }


def _personal_data_export_schema() -> dict[str, Any]:
    services = ["contacts", "notifications", "sales", "marketing", "support"]
    section = {
        "anyOf": [{"type": "object"}, {"type": "null"}],
        "description": "the service's records about the person, as it describes them; null when forbidden",
    }
    return {
        "type": "object",
        "properties": {
            "contact_id": {"type": "string"},
            "exported_at": {"type": "string", "format": "date-time"},
            "services": {
                "type": "object",
                "properties": dict.fromkeys(services, section),
                "required": services,
                "additionalProperties": False,
            },
            "forbidden": {
                "type": "array",
                "items": {"type": "string", "enum": services},
                "description": "services that refused you their part (no read right on what they hold)",
            },
        },
        "required": ["contact_id", "exported_at", "services", "forbidden"],
        "additionalProperties": False,
    }


def _customer_360_schema(builder: SchemaBuilder) -> dict[str, Any]:
    def section(schema: dict[str, Any]) -> dict[str, Any]:
        return {"anyOf": [schema, {"type": "null"}]}

    notifications = {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": builder.ref(notifications_pb2.Notification.DESCRIPTOR, output=True),
            }
        },
        "required": ["items"],
        "additionalProperties": False,
    }

    def contact_part(descriptor: Any, description: str, *, many: bool = True) -> dict[str, Any]:
        schema = builder.ref(descriptor, output=True)
        part = section({"type": "array", "items": schema} if many else schema)
        return {**part, "description": f"{description}; null with `contact`"}

    return {
        "type": "object",
        "properties": {
            "contact": section(builder.ref(contacts_pb2.Contact.DESCRIPTOR, output=True)),
            "companies": contact_part(
                overview_pb2.ContactCompanyLink.DESCRIPTOR,
                "the companies the person is linked to that you may read",
            ),
            "consents": contact_part(
                consent_pb2.ConsentState.DESCRIPTOR, "the current consent of each channel and purpose"
            ),
            "timeline": contact_part(
                timeline_pb2.TimelineEntry.DESCRIPTOR, "the latest timeline entries you may see, newest first"
            ),
            "counts": contact_part(
                overview_pb2.ContactOverviewCounts.DESCRIPTOR,
                "how many interactions, timeline entries and linked companies you may see",
                many=False,
            ),
            "sales": section(builder.ref(sales_pb2.SalesSummary.DESCRIPTOR, output=True)),
            "marketing": section(builder.ref(marketing_pb2.MarketingSummary.DESCRIPTOR, output=True)),
            "support": section(builder.ref(support_pb2.SupportSummary.DESCRIPTOR, output=True)),
            "notifications": section(notifications),
            "unavailable": {
                "type": "array",
                "items": {
                    "type": "string",
                    "enum": ["contacts", "sales", "marketing", "support", "notifications"],
                },
                "description": "services whose sections are null: the service failed, did not answer in "
                "time or is known to be down (circuit open), or its section could not be rendered",
            },
            "unavailable_reasons": {
                "type": "object",
                "propertyNames": {"enum": ["contacts", "sales", "marketing", "support", "notifications"]},
                "additionalProperties": {"type": "string"},
                "description": "why each service in `unavailable` is there, e.g. "
                '"service unavailable (circuit open)"; empty when the view is complete',
            },
            "forbidden": {
                "type": "array",
                "items": {
                    "type": "string",
                    "enum": ["contacts", "sales", "marketing", "support", "notifications"],
                },
                "description": "services whose sections are null because your roles do not let you read "
                "them (a deal, campaign, ticket or notification read right of `none`)",
            },
        },
        "required": [
            "contact",
            "companies",
            "consents",
            "timeline",
            "counts",
            "sales",
            "marketing",
            "support",
            "notifications",
            "unavailable",
            "unavailable_reasons",
            "forbidden",
        ],
        "additionalProperties": False,
    }


def _has_etag(route: Route) -> bool:
    if "etag" in route.request.fields_by_name:
        return True
    body = route.body_field
    return body is not None and "etag" in body.message_type.fields_by_name


def _response_content(route: Route, builder: SchemaBuilder) -> dict[str, Any]:
    if route.response.full_name == HTTP_BODY:  # served raw (transcoding/responses.py)
        return {route.media_type: {"schema": {"type": "string", "format": "binary"}}}
    return {"application/json": {"schema": builder.ref(route.response, output=True)}}


def _rpc_operation(served: ServedRoute, builder: SchemaBuilder, comments: dict[str, str]) -> dict[str, Any]:
    route = served.route
    method = route.method
    bound = {v.name for v in route.variables}
    parameters: list[dict[str, Any]] = []
    for variable in route.variables:
        field = route.request
        descriptor = None
        for name in variable.field_path:
            descriptor = field.fields_by_name[name]
            field = descriptor.message_type if descriptor.message_type is not None else field
        assert descriptor is not None
        parameters.append(
            {
                "name": route.parameter_name(variable),
                "in": "path",
                "required": True,
                "schema": builder.field(descriptor, output=False) | {"type": "string"}
                if descriptor.type == descriptor.TYPE_STRING
                else builder.field(descriptor, output=False),
            }
        )
    if route.body != "*":
        skip = set(bound) | ({route.body} if route.body else set())
        for name, (_path, field) in query_fields(route.request, "", skip).items():
            schema = builder.field(field, output=False)
            parameter: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
            comment = comments.get(f"{field.containing_type.full_name}.{field.name}")
            if comment:
                parameter["description"] = comment
            if field.is_repeated:
                parameter["explode"] = True
            parameters.append(parameter)
    if route.http_method == "POST":
        parameters.append(_ref("parameters", "IdempotencyKey"))
    if _has_etag(route):
        parameters.append(_ref("parameters", "IfMatch"))

    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": (comments.get(method.full_name, "") or method.name).split(". ")[0].rstrip("."),
        "description": comments.get(method.full_name, ""),
        "tags": [route.service],
        "parameters": parameters,
    }
    if route.body:
        if route.body == "*":
            schema = builder.message(
                route.request, output=False, skip=frozenset(v.field_path[0] for v in route.variables)
            )
        else:
            assert route.body_field is not None
            schema = builder.message(route.body_field.message_type, output=False, skip=frozenset())
            schema.pop("required", None)  # a PATCH body names only what changes
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}

    headers: dict[str, Any] = {}
    if "etag" in route.response.fields_by_name:
        headers["ETag"] = {"description": "send it back in If-Match", "schema": {"type": "string"}}
    if route.http_method == "POST":
        headers["Idempotent-Replayed"] = {
            "description": "`true` when this is the stored answer to an earlier request with the same key",
            "schema": {"type": "string"},
        }
    if route.response.full_name == "google.protobuf.Empty":
        success: dict[str, Any] = {"204": {"description": "Done"}}
    else:
        code = "201" if served.location is not None else "200"
        answer: dict[str, Any] = {
            "description": "Created" if code == "201" else "OK",
            "content": _response_content(route, builder),
        }
        if code == "201":
            headers["Location"] = {"description": "URL of the new resource", "schema": {"type": "string"}}
        success = {code: answer}
    for answer in success.values():
        if headers:
            answer["headers"] = headers
    problems = ["BadRequest", *_AUTHENTICATED, "Forbidden", "NotFound", "Conflict", "ValidationFailed",
                "TooManyRequests", "NotImplemented", *_UPSTREAM]  # fmt: skip
    if route.body:
        problems += ["PayloadTooLarge", "UnsupportedMediaType"]
    if _has_etag(route):
        problems.append("PreconditionFailed")
    if route.openapi_path.startswith(_MERGEABLE_PATHS):
        problems.append("Moved")
    operation["responses"] = {**success, **_problems(*problems)}
    return operation


def _rpc_paths(routes: list[ServedRoute], builder: SchemaBuilder, comments: dict[str, str]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for served in routes:
        paths.setdefault(served.route.openapi_path, {})[served.route.http_method.lower()] = _rpc_operation(
            served, builder, comments
        )
    return paths


# id(routes) -> (routes, document). The routes are kept so that their id cannot be reused by another app's
# routes after this app is gone (which would serve that app this app's document).
_DOCUMENTS: dict[int, tuple[list[ServedRoute], dict[str, Any]]] = {}


def document(routes: list[ServedRoute], contracts: Contracts) -> dict[str, Any]:
    """The document for this app's routes (built once per app)."""
    cached = _DOCUMENTS.get(id(routes))
    if cached is not None and cached[0] is routes:
        return cached[1]
    builder = SchemaBuilder(contracts.comments)
    schemas = _schemas()
    schemas["Customer360"] = _customer_360_schema(builder)
    schemas["PersonalDataExport"] = _personal_data_export_schema()
    paths = {**_paths(), **identity_openapi.paths(), **_rpc_paths(routes, builder, contracts.comments)}
    for path, item in imports_routes.openapi_paths(builder).items():  # beside transcoded methods of a path
        paths.setdefault(path, {}).update(item)
    paths.update(web_form_routes.openapi_paths())
    paths.update(calendar_feed_routes.openapi_paths())
    schemas.update(builder.components)
    services = sorted({served.route.service for served in routes})
    service_tags = [{"name": s, "description": contracts.comment(_service_name(routes, s))} for s in services]
    tags = [{"name": "auth"}, *identity_openapi.TAGS, *service_tags, {"name": "customers"}, {"name": "meta"}]
    found = {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Errors are RFC 9457 problem details (application/problem+json). Every endpoint a "
            "service owns is generated from its gRPC contract.",
        },
        "servers": [{"url": "/"}],
        "security": identity_openapi.DOCUMENT_SECURITY,
        "tags": tags,
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                **identity_openapi.SECURITY_SCHEMES,
            },
            "parameters": _parameters(),
            "responses": {
                name: {
                    "description": description,
                    "content": {PROBLEM_JSON: {"schema": _ref("schemas", "ProblemDetails")}},
                    **({"headers": _MOVED_HEADERS} if name == "Moved" else {}),
                }
                for name, description in _PROBLEMS.items()
            },
        },
    }
    _DOCUMENTS[id(routes)] = (routes, found)
    return found


def _service_name(routes: list[ServedRoute], upstream: str) -> str:
    for served in routes:
        if served.route.service == upstream:
            return served.route.method.containing_service.full_name
    return ""

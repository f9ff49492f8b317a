"""The OpenAPI 3.1 document of the REST API, built from the same pydantic models that validate requests.

Paths are listed here by hand (one entry per route, checked against the Flask routes by a test);
schemas come from the models, so a field added to a model appears in the document by itself.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from gateway import models

TITLE = "CRM platform REST API"
VERSION = "1.0.0"
PROBLEM_JSON = "application/problem+json"

_REQUEST_MODELS: list[type[BaseModel]] = [models.TokenRequest, models.ContactCreate]
_RESPONSE_MODELS: list[type[BaseModel]] = [
    models.TokenResponse,
    models.Contact,
    models.ContactList,
    models.Customer360,
    models.Health,
    models.ProblemDetails,
]

_PROBLEMS = {
    "BadRequest": "The request is malformed (body not JSON, not an object, bad header).",
    "Unauthorized": "No valid bearer token (missing, malformed, expired or badly signed).",
    "NotFound": "No such resource.",
    "Conflict": "The request conflicts with the current state (e.g. duplicate email, key in use).",
    "PayloadTooLarge": "The body is larger than the gateway accepts.",
    "UnsupportedMediaType": "The body is not application/json.",
    "ValidationFailed": "One or more fields are invalid; `errors` lists them.",
    "InternalError": "Unexpected error; it was logged under `trace_id`.",
    "BadGateway": "A service the request needs failed.",
    "ServiceUnavailable": "A service the request needs is unavailable; retry later.",
    "GatewayTimeout": "A service the request needs did not answer in time.",
}
_STATUS_OF = {
    "BadRequest": "400",
    "Unauthorized": "401",
    "NotFound": "404",
    "Conflict": "409",
    "PayloadTooLarge": "413",
    "UnsupportedMediaType": "415",
    "ValidationFailed": "422",
    "InternalError": "500",
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
                "summary": "Exchange email and password for a bearer token",
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
                },
            }
        },
        "/api/v1/contacts": {
            "post": {
                "operationId": "createContact",
                "summary": "Create a contact",
                "tags": ["contacts"],
                "parameters": [_ref("parameters", "IdempotencyKey")],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("schemas", "ContactCreate")}},
                },
                "responses": {
                    "201": {
                        **_json("Contact", "The contact as stored"),
                        "headers": {
                            "Location": {
                                "description": "URL of the new contact",
                                "schema": {"type": "string"},
                            },
                            "Idempotent-Replayed": {
                                "description": "`true` when this is the stored answer to an earlier request",
                                "schema": {"type": "string"},
                            },
                        },
                    },
                    **_problems(
                        *_AUTHENTICATED,
                        "BadRequest",
                        "Conflict",
                        "PayloadTooLarge",
                        "UnsupportedMediaType",
                        "ValidationFailed",
                        *_UPSTREAM,
                    ),
                },
            },
            "get": {
                "operationId": "listContacts",
                "summary": "List contacts, oldest first, a page at a time",
                "tags": ["contacts"],
                "parameters": [_ref("parameters", "Limit"), _ref("parameters", "Cursor")],
                "responses": {
                    "200": _json("ContactList", "One page of contacts"),
                    **_problems(*_AUTHENTICATED, "ValidationFailed", *_UPSTREAM),
                },
            },
        },
        "/api/v1/contacts/{contact_id}": {
            "get": {
                "operationId": "getContact",
                "summary": "Get one contact",
                "tags": ["contacts"],
                "parameters": [_ref("parameters", "ContactId")],
                "responses": {
                    "200": _json("Contact", "The contact"),
                    **_problems(*_AUTHENTICATED, "NotFound", *_UPSTREAM),
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
                    **_problems(*_AUTHENTICATED, "NotFound"),
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
    limit = models.ListQuery.model_fields["limit"]
    return {
        "ContactId": {
            "name": "contact_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "maxLength": 64},
        },
        "Limit": {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": "page size",
            "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": limit.default},
        },
        "Cursor": {
            "name": "cursor",
            "in": "query",
            "required": False,
            "description": "`next_cursor` of the previous page; omit for the first page",
            "schema": {"type": "string", "maxLength": 512},
        },
        "IdempotencyKey": {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "Retrying with the same key and body replays the first response; the same key "
            "with a different body is refused with 422. Keys are kept for 24 hours.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        },
    }


@functools.cache
def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Errors are RFC 9457 problem details (application/problem+json).",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": n} for n in ("auth", "contacts", "customers", "meta")],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "parameters": _parameters(),
            "responses": {
                name: {
                    "description": description,
                    "content": {PROBLEM_JSON: {"schema": _ref("schemas", "ProblemDetails")}},
                }
                for name, description in _PROBLEMS.items()
            },
        },
    }

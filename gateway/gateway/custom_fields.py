"""Custom fields in the OpenAPI document: the `custom_fields` object of contacts and companies lists the
fields an admin has defined (`/api/v1/custom-fields`) as its properties, each with its JSON type.

The definitions change at run time, while the rest of the document is built once per app from the
descriptors (gateway/openapi.py). So the served document is that one with the `custom_fields` objects
filled in from the contacts service's definitions, asked for at most every REFRESH_SECONDS by each
gateway worker, as the gateway itself (a signed context with only the right to read definitions). When
the contacts service does not answer, the last definitions seen are used (none at first: the object is
then documented as holding any fields, pointing at /api/v1/custom-fields), and it is asked again after
RETRY_SECONDS: the document is never an error because a service is down.

Which schemas hold a resource's `custom_fields` is read from the routes, not listed by hand: a route
`/api/v1/<collection>...` whose request body or response message has a `custom_fields` field makes that
message's schemas (both forms) and the route's inline PATCH body those of `<collection>`, the definitions'
`resource`.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc

from crm.contacts.v1 import custom_fields_pb2
from crm_platform import protojson
from crm_platform.access import Level
from crm_platform.grpc_client import CALLER_CONTEXT_METADATA_KEY
from gateway.openapi_schemas import schema_name
from gateway.transcoding.views import ServedRoute

log = logging.getLogger(__name__)

FIELD = "custom_fields"
REFRESH_SECONDS = 5.0
RETRY_SECONDS = 5.0
CALL_SECONDS = 1.0
LIST_METHOD = "/crm.contacts.v1.CustomFieldsService/ListCustomFields"
# What the gateway's own context may do: read the definitions, nothing else.
READ_DEFINITIONS = {"custom_field": {"read": Level.ALL}}
_TYPES = protojson.enum_names(custom_fields_pb2.CustomFieldType.DESCRIPTOR)
_RESOURCES = protojson.enum_names(custom_fields_pb2.CustomFieldResource.DESCRIPTOR)
_GENERIC = (
    "Values of the custom fields defined for these records (GET /api/v1/custom-fields), keyed by the "
    "field's name. Writing it changes only the fields named; null clears one."
)

Definitions = Mapping[str, list[custom_fields_pb2.CustomField]]  # resource -> its fields


@dataclass(frozen=True)
class Place:
    """Where a resource's `custom_fields` schema is: a component schema, or an operation's inline body."""

    resource: str
    component: str = ""
    path: str = ""
    method: str = ""


def places(routes: Iterable[ServedRoute]) -> list[Place]:
    found: dict[tuple[str, str, str], Place] = {}
    # A message's collection is that of its shortest route (`/api/v1/companies`, not a route below a
    # contact that answers companies too).
    for served in sorted(routes, key=lambda served: served.route.openapi_path.count("/")):
        route = served.route
        parts = route.openapi_path.split("/")
        if len(parts) < 4 or parts[1:3] != ["api", "v1"]:
            continue
        collection = parts[3].split(":")[0].split("{")[0]
        if FIELD in route.response.fields_by_name:
            for output in (True, False):
                name = schema_name(route.response, output=output)
                found.setdefault((name, "", ""), Place(collection, component=name))
        # Request bodies are written inline in their operation (gateway/openapi.py).
        body = route.request if route.body == "*" else None
        if route.body not in ("", "*") and route.body_field is not None:
            body = route.body_field.message_type
        if body is not None and FIELD in body.fields_by_name:
            method = route.http_method.lower()
            found[("", route.openapi_path, method)] = Place(
                collection, path=route.openapi_path, method=method
            )
    return list(found.values())


def property_schema(field: custom_fields_pb2.CustomField) -> dict[str, Any]:
    """One defined field as a JSON Schema property (null allowed: no value, or clear it)."""
    kind = _TYPES.get(field.type)
    schema: dict[str, Any]
    if kind == "number":
        schema = {"type": ["number", "null"]}
    elif kind == "boolean":
        schema = {"type": ["boolean", "null"]}
    elif kind == "date":
        schema = {"type": ["string", "null"], "format": "date"}
    elif kind == "single_choice":
        schema = {"type": ["string", "null"], "enum": [*field.choices, None]}
    elif kind == "multi_choice":
        schema = {
            "type": ["array", "null"],
            "items": {"type": "string", "enum": list(field.choices)},
            "uniqueItems": True,
        }
    else:
        schema = {"type": ["string", "null"], "maxLength": 500}
    schema["title"] = field.label
    if field.description:
        schema["description"] = field.description
    if field.required:
        schema["description"] = f"{schema.get('description', '')} Required.".strip()
    return schema


def object_schema(fields: Iterable[custom_fields_pb2.CustomField], base: Mapping[str, Any]) -> dict[str, Any]:
    """`base` (the descriptor's schema of the Struct field) with the defined fields as its properties."""
    schema = {key: value for key, value in base.items() if key != "description"}
    schema["properties"] = {field.name: property_schema(field) for field in fields}
    schema["additionalProperties"] = False
    schema["description"] = _GENERIC
    return schema


def with_definitions(
    document: dict[str, Any], where: list[Place], definitions: Definitions
) -> dict[str, Any]:
    """A copy of `document` whose `custom_fields` objects list `definitions` (the original is untouched:
    it is the per-app cached document)."""
    found = copy.copy(document)
    components = found["components"] = copy.copy(document["components"])
    schemas = components["schemas"] = copy.copy(document["components"]["schemas"])
    paths = found["paths"] = copy.copy(document["paths"])
    for place in where:
        fields = definitions.get(place.resource, [])
        if place.component:
            if place.component in schemas:
                schemas[place.component] = _filled(schemas[place.component], fields)
            continue
        operation = paths.get(place.path, {}).get(place.method)
        if operation is None:
            continue
        body = copy.deepcopy(operation)
        content = body["requestBody"]["content"]["application/json"]
        content["schema"] = _filled(content["schema"], fields)
        paths[place.path] = {**paths[place.path], place.method: body}
    return found


def _filled(message_schema: Mapping[str, Any], fields: list[custom_fields_pb2.CustomField]) -> dict[str, Any]:
    schema = dict(message_schema)
    properties = schema["properties"] = dict(message_schema.get("properties", {}))
    if FIELD in properties:
        properties[FIELD] = object_schema(fields, properties[FIELD])
    return schema


class DefinitionsCache:
    """The definitions by resource, asked for again after REFRESH_SECONDS (RETRY_SECONDS after a
    failure), by one request at a time; the others meanwhile use what is known."""

    def __init__(self, fetch: Callable[[], Definitions], clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._known: Definitions = {}
        self._due = 0.0

    def current(self) -> Definitions:
        now = self._clock()
        if now < self._due or not self._lock.acquire(blocking=False):
            return self._known
        try:
            try:
                self._known = self._fetch()
                self._due = now + REFRESH_SECONDS
            except Exception as error:  # any failure: document what is known, ask again soon
                log.warning("custom field definitions unavailable for the OpenAPI document: %s", error)
                self._due = now + RETRY_SECONDS
            return self._known
        finally:
            self._lock.release()


def fetch_from(call: grpc.UnaryUnaryMultiCallable, signed_context: Callable[[], str]) -> Definitions:
    answer = call(
        custom_fields_pb2.ListCustomFieldsRequest(),
        metadata=[(CALLER_CONTEXT_METADATA_KEY, signed_context())],
        timeout=CALL_SECONDS,
    )
    by_resource: dict[str, list[custom_fields_pb2.CustomField]] = {}
    for field in answer.items:
        resource = _RESOURCES.get(field.resource)
        if resource:
            by_resource.setdefault(resource, []).append(field)
    return by_resource


class DocumentWithDefinitions:
    """The served document of one app: its descriptor-built document with the definitions filled in,
    rebuilt only when the definitions seen change."""

    def __init__(self, routes: list[ServedRoute], cache: DefinitionsCache | None) -> None:
        self.places = places(routes)
        self.cache = cache
        self._seen: tuple[Definitions | None, dict[str, Any] | None] = (None, None)

    def served(self, document: dict[str, Any]) -> dict[str, Any]:
        if self.cache is None or not self.places:
            return document
        definitions = self.cache.current()
        seen, built = self._seen
        if built is None or seen is not definitions:
            built = with_definitions(document, self.places, definitions)
            self._seen = (definitions, built)
        return built


def upstream_of(routes: Iterable[ServedRoute], method: str = LIST_METHOD) -> str:
    """The service that serves `method` (e.g. "contacts"), "" when no route does."""
    full_name = method.strip("/").replace("/", ".")
    for served in routes:
        if served.route.method.full_name == full_name:
            return served.route.service
    return ""

"""The OpenAPI document's custom fields (gateway/custom_fields.py), without servers: each type's JSON
Schema, the document filled in without touching the cached original, and the definitions cache that
keeps serving what it knows while the contacts service does not answer."""

from __future__ import annotations

import copy
from typing import Any

from crm.contacts.v1 import custom_fields_pb2
from gateway import custom_fields
from gateway.custom_fields import DefinitionsCache, Place, property_schema, with_definitions

T = custom_fields_pb2.CustomFieldType


def field(name: str, kind: int, *choices: str, **extra: Any) -> custom_fields_pb2.CustomField:
    return custom_fields_pb2.CustomField(name=name, label=name.title(), type=kind, choices=choices, **extra)


def test_each_type_has_its_json_schema() -> None:
    assert property_schema(field("n", T.CUSTOM_FIELD_TYPE_NUMBER))["type"] == ["number", "null"]
    assert property_schema(field("d", T.CUSTOM_FIELD_TYPE_DATE))["format"] == "date"
    assert property_schema(field("b", T.CUSTOM_FIELD_TYPE_BOOLEAN))["type"] == ["boolean", "null"]
    assert property_schema(field("t", T.CUSTOM_FIELD_TYPE_TEXT))["maxLength"] == 500
    single = property_schema(field("s", T.CUSTOM_FIELD_TYPE_SINGLE_CHOICE, "a", "b", required=True))
    assert single["enum"] == ["a", "b", None] and single["description"] == "Required."
    multi = property_schema(field("m", T.CUSTOM_FIELD_TYPE_MULTI_CHOICE, "x", description="Colours"))
    assert multi["items"] == {"type": "string", "enum": ["x"]} and multi["description"] == "Colours"
    assert multi["title"] == "M"


def test_the_document_is_filled_in_on_a_copy() -> None:
    document = {
        "components": {
            "schemas": {
                "contacts.v1.Contact": {"properties": {"custom_fields": {"type": ["object", "null"]}}},
                "contacts.v1.Company": {"properties": {"custom_fields": {"type": ["object", "null"]}}},
            }
        },
        "paths": {
            "/api/v1/contacts": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"properties": {"custom_fields": {"type": ["object", "null"]}}}
                            }
                        }
                    }
                }
            }
        },
    }
    original = copy.deepcopy(document)
    places = [
        Place("contacts", component="contacts.v1.Contact"),
        Place("companies", component="contacts.v1.Company"),
        Place("contacts", path="/api/v1/contacts", method="post"),
    ]
    tier = field("tier", T.CUSTOM_FIELD_TYPE_SINGLE_CHOICE, "gold")
    filled = with_definitions(document, places, {"contacts": [tier]})
    assert document == original
    contact = filled["components"]["schemas"]["contacts.v1.Contact"]["properties"]["custom_fields"]
    assert list(contact["properties"]) == ["tier"] and contact["additionalProperties"] is False
    assert contact["type"] == ["object", "null"]
    company = filled["components"]["schemas"]["contacts.v1.Company"]["properties"]["custom_fields"]
    assert company["properties"] == {}
    body = filled["paths"]["/api/v1/contacts"]["post"]["requestBody"]["content"]["application/json"]
    assert list(body["schema"]["properties"]["custom_fields"]["properties"]) == ["tier"]


def test_the_cache_keeps_what_it_knows_while_contacts_does_not_answer() -> None:
    now = [0.0]
    answers: list[Any] = [{"contacts": ["first"]}, RuntimeError("down"), {"contacts": ["second"]}]
    calls = []

    def fetch() -> Any:
        calls.append(now[0])
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    cache = DefinitionsCache(fetch, clock=lambda: now[0])
    assert cache.current() == {"contacts": ["first"]}
    now[0] = custom_fields.REFRESH_SECONDS - 0.1
    assert cache.current() == {"contacts": ["first"]} and len(calls) == 1  # not asked again yet
    now[0] = custom_fields.REFRESH_SECONDS
    assert cache.current() == {"contacts": ["first"]}  # the failed refresh: the last known
    now[0] += custom_fields.RETRY_SECONDS
    assert cache.current() == {"contacts": ["second"]} and len(calls) == 3

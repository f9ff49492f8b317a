"""An HTTP request as the RPC's request message: path variables, JSON body, query string, headers.

Mapping (as Google's HttpRule defines it): path variables fill the fields they name; with `body: "*"`
the JSON object is the request; with `body: "<field>"` it is that field, and the other fields come from
the query string; without a body every field but the path's comes from the query string (`a.b=1` for
nested ones, a repeated field by repeating its name). On top of that, the gateway's conventions:
- `If-Match` fills the request's (or the body resource's) `etag`;
- a PATCH without `update_mask` gets the fields present in the body (output-only ones left out), so only
  what the client sent changes;
- an unknown body field or query parameter is a 400 naming it; a value of the wrong type a 422 (body)
  or 400 (path and query, which address the resource rather than describe it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import request
from google.api import field_behavior_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from crm_platform import protojson
from gateway.bodies import json_object
from gateway.problems import Problem, problem_type, validation_problem
from gateway.transcoding.rules import Route

_INTEGER = re.compile(r"^-?[0-9]{1,20}$")
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
_OUTPUT_ONLY = field_behavior_pb2.OUTPUT_ONLY
MAX_ETAG_LENGTH = 200  # as documented for the If-Match parameter
_PASSED_AS_STRINGS = frozenset({protojson.TIMESTAMP, protojson.FIELD_MASK, protojson.DURATION})


def bad_parameters(errors: Mapping[str, str], detail: str) -> Problem:
    return Problem(
        400,
        detail,
        type=problem_type("bad-request"),
        errors=[{"field": f, "message": m} for f, m in errors.items()],
    )


def _from_text(text: str, field: FieldDescriptor) -> Any:
    """A query-string or path value as the JSON value the field takes (the codec checks the rest)."""
    kind = field.type
    if field.message_type is not None:
        return text
    if kind == FieldDescriptor.TYPE_BOOL:
        return {"true": True, "false": False}.get(text, text)
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return float(text) if _NUMBER.match(text) else text
    if kind not in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES, FieldDescriptor.TYPE_ENUM):
        return int(text) if _INTEGER.match(text) else text
    return text


def query_fields(
    message: Descriptor, prefix: str, skip: set[str]
) -> dict[str, tuple[tuple[str, ...], FieldDescriptor]]:
    """Every query-string name the message accepts -> (field path, field)."""
    found: dict[str, tuple[tuple[str, ...], FieldDescriptor]] = {}
    for field in message.fields:
        name = f"{prefix}{field.name}"
        if name in skip:
            continue
        if field.message_type is None or field.message_type.full_name in _PASSED_AS_STRINGS:
            found[name] = (tuple(name.split(".")), field)
        elif not field.is_repeated and not field.message_type.GetOptions().map_entry and name.count(".") < 4:
            found.update(query_fields(field.message_type, f"{name}.", skip))
    return found


def _target(message: Message, path: tuple[str, ...]) -> Message:
    for name in path[:-1]:
        message = getattr(message, name)
    return message


def _set(message: Message, path: tuple[str, ...], field: FieldDescriptor, value: Any, where: str) -> None:
    protojson.decode_field(value, _target(message, path), field, where)


def _etag_from_header() -> str | None:
    header = request.headers.get("If-Match")
    if header is None:
        return None
    value = header.strip()
    if len(value) > MAX_ETAG_LENGTH:
        raise bad_parameters(
            {"If-Match": f"must be at most {MAX_ETAG_LENGTH} characters"},
            "If-Match is not an etag we issued.",
        )
    if value == "*":
        return ""  # "any current version": no precondition
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


def _derived_mask(body: Mapping[str, Any], message: Descriptor, prefix: str = "") -> list[str]:
    """The fields present in a PATCH body, as field-mask paths; output-only fields are ignored (AIP-203)."""
    paths: list[str] = []
    for key, value in body.items():
        field = message.fields_by_name.get(key)
        if field is None or key == "etag":
            continue
        if _OUTPUT_ONLY in field.GetOptions().Extensions[field_behavior_pb2.field_behavior]:
            continue
        nested = field.message_type
        if (
            isinstance(value, dict)
            and value
            and nested is not None
            and not field.is_repeated
            and not nested.GetOptions().map_entry
            and nested.full_name not in protojson.STRUCT_TYPES
        ):
            paths.extend(_derived_mask(value, nested, f"{prefix}{key}."))
        else:
            paths.append(f"{prefix}{key}")
    return paths


def build_request(route: Route, message_class: type[Message], path_values: Mapping[str, str]) -> Message:
    message = message_class()
    bound = {variable.name for variable in route.variables}
    body_data: dict[str, Any] | None = None

    if route.body:
        body_data = json_object()
        target = message if route.body == "*" else getattr(message, route.body)
        try:
            protojson.decode_into(body_data, target)
        except protojson.DecodeError as error:
            if error.unknown:
                raise bad_parameters(
                    error.unknown,
                    "The body has fields this endpoint does not know: " + ", ".join(error.unknown),
                ) from None
            raise validation_problem(error.invalid, "Some fields of the body are not valid.") from None
        if route.body != "*":
            getattr(message, route.body).SetInParent()  # an empty body still names the resource

    if route.body == "*":
        if request.args:
            raise bad_parameters(
                {name: "is not a parameter of this endpoint" for name in request.args},
                "This endpoint takes its input in the body, not the query string.",
            )
    else:
        skip = set(bound) | ({route.body} if route.body else set())
        accepted = query_fields(route.request, "", skip)
        errors: dict[str, str] = {}
        for name in request.args:
            if name not in accepted:
                errors[name] = "is not a parameter of this endpoint"
                continue
            field_path, field = accepted[name]
            values = request.args.getlist(name)
            if not field.is_repeated and len(values) > 1:
                errors[name] = "must be given once"
                continue
            raw = (
                [_from_text(v, field) for v in values] if field.is_repeated else _from_text(values[0], field)
            )
            try:
                _set(message, field_path, field, raw, name)
            except protojson.DecodeError as error:
                errors.update(error.invalid)
        if errors:
            raise bad_parameters(errors, "Some query parameters are not valid.")

    errors = {}
    for index, variable in enumerate(route.variables):
        text = path_values[f"v{index}"]
        target = _target(message, variable.field_path)
        field = target.DESCRIPTOR.fields_by_name[variable.field_path[-1]]
        in_body = body_data is not None and route.body == "*" and variable.field_path[0] in body_data
        if in_body and str(body_data[variable.field_path[0]]) != text:  # type: ignore[index]
            errors[variable.name] = "differs between the path and the body"
            continue
        try:
            protojson.decode_field(_from_text(text, field), target, field, variable.name)
        except protojson.DecodeError as error:
            errors.update(error.invalid)
    if errors:
        raise bad_parameters(errors, "The path does not name a valid resource.")

    etag = _etag_from_header()
    if etag is not None:
        _apply_etag(message, route, etag)

    if route.http_method == "PATCH" and body_data is not None:
        _apply_derived_mask(message, route, body_data)
    return message


def _apply_etag(message: Message, route: Route, etag: str) -> None:
    if "etag" in message.DESCRIPTOR.fields_by_name:
        message.etag = etag  # type: ignore[attr-defined]
        return
    body_field = route.body_field
    if body_field is not None and "etag" in body_field.message_type.fields_by_name:
        getattr(message, body_field.name).etag = etag
        return
    raise Problem(400, "This endpoint does not take If-Match.", type=problem_type("bad-request"))


def _apply_derived_mask(message: Message, route: Route, body: Mapping[str, Any]) -> None:
    mask_field = message.DESCRIPTOR.fields_by_name.get("update_mask")
    if mask_field is None or mask_field.message_type is None:
        return
    if message.HasField("update_mask") or "update_mask" in request.args:
        return
    body_field = route.body_field
    resource = body_field.message_type if body_field is not None else message.DESCRIPTOR
    paths = _derived_mask(body, resource)
    if not paths:
        raise validation_problem({"(body)": "names no field to change"}, "The body changes nothing.")
    message.update_mask.paths.extend(paths)  # type: ignore[attr-defined]

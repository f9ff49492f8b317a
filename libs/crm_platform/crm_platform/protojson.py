"""Protobuf messages as the JSON a web developer expects, and back: the one JSON mapping of the platform.

Used by the gateway (REST bodies, query strings, responses) and by event payloads, so a field looks the
same wherever it is read. It differs from protobuf's canonical JSON mapping on purpose:
- field names stay lower_snake (the proto names), never lowerCamel;
- enums are short lower-case names (`CONTACT_KIND_PERSON` -> `"person"`); the zero `*_UNSPECIFIED` value
  is `null`;
- 64-bit integers are JSON numbers, not strings: money is `{"amount_minor": 129900, "currency": "EUR"}`;
- every field is present in output: an unset message field, an unset `optional` scalar, an empty
  string and an unspecified enum are `null` (proto3 cannot tell an empty string from an unset one, so
  both are "no value"); on input, absent and null mean the same: "no value";
- timestamps are RFC 3339 in UTC with a `Z`; field masks are comma-separated names; Struct / Value are
  plain JSON; bytes are base64.
Decoding is strict: an unknown field, a wrong JSON type or an out-of-range number is an error naming the
field (dotted path), never a silent drop or coercion.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

Json = Any
Encoder = Callable[[Any], Json]

TIMESTAMP = "google.protobuf.Timestamp"
DURATION = "google.protobuf.Duration"
FIELD_MASK = "google.protobuf.FieldMask"
STRUCT_TYPES = frozenset({"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"})
WRAPPERS = frozenset(
    f"google.protobuf.{name}Value"
    for name in ("Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes")
)
EMPTY = "google.protobuf.Empty"

_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
_INTEGER_KEY = re.compile(r"^-?[0-9]{1,20}$")
_FLOATS = frozenset({FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT})


class DecodeError(Exception):
    """The JSON does not fit the message. `unknown` names fields the message does not have; `invalid`
    names fields whose value has the wrong type or range."""

    def __init__(self, unknown: Mapping[str, str], invalid: Mapping[str, str]) -> None:
        self.unknown = dict(unknown)
        self.invalid = dict(invalid)
        super().__init__("; ".join(f"{k}: {v}" for k, v in {**self.unknown, **self.invalid}.items()))


# --- enums ------------------------------------------------------------------------------------------


def _upper_snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if (
            ch.isupper()
            and i
            and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower()))
        ):
            out.append("_")
        out.append(ch.upper())
    return "".join(out)


@cache
def enum_names(enum: EnumDescriptor) -> dict[int, str | None]:
    """Number -> the short lower-case JSON name (None for the zero UNSPECIFIED value)."""
    prefix = _upper_snake(enum.name) + "_"
    names: dict[int, str | None] = {}
    for value in enum.values:
        if value.number in names:
            continue  # an alias: the first name of a number is its JSON name
        name = value.name.removeprefix(prefix)
        names[value.number] = None if value.number == 0 and name == "UNSPECIFIED" else name.lower()
    return names


@cache
def enum_numbers(enum: EnumDescriptor) -> dict[str, int]:
    return {name: number for number, name in enum_names(enum).items() if name is not None}


# --- encoding ---------------------------------------------------------------------------------------


_EPOCH = datetime(1970, 1, 1)  # naive: the arithmetic below is UTC throughout


def format_timestamp(seconds: int, nanos: int) -> str:
    # Epoch + timedelta rather than fromtimestamp(seconds, UTC): the same text for every valid Timestamp
    # (years 1 to 9999), without the time zone conversion, on every timestamp of every response.
    stamp = (_EPOCH + timedelta(seconds=seconds)).isoformat()
    if nanos:
        stamp += f".{nanos:09d}".rstrip("0")
    return stamp + "Z"


def _scalar_encoder(field: FieldDescriptor) -> Encoder:
    if field.type == FieldDescriptor.TYPE_ENUM:
        names = enum_names(field.enum_type)
        return lambda number: names.get(number, number)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return lambda value: base64.b64encode(value).decode()
    if field.type in _FLOATS:
        return lambda value: value if math.isfinite(value) else None
    return lambda value: value


def _empty_string_is_null(value: str) -> str | None:
    return value or None


def _message_encoder(descriptor: Descriptor) -> Encoder:
    name = descriptor.full_name
    if name == TIMESTAMP:
        return lambda m: format_timestamp(m.seconds, m.nanos)
    if name == DURATION:
        return lambda m: json_format.MessageToJson(m).strip('"')
    if name == FIELD_MASK:
        return lambda m: ",".join(m.paths)
    if name in STRUCT_TYPES:
        return json_format.MessageToDict
    if name in WRAPPERS:
        inner = _scalar_encoder(descriptor.fields_by_name["value"])
        return lambda m: inner(m.value)
    return lambda m: encode(m)


@cache
def _plan(descriptor: Descriptor) -> tuple[tuple[str, bool, Encoder, str], ...]:
    """Per field: name, whether an unset value is null, how to encode one value, and its kind."""
    plan = []
    for field in descriptor.fields:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            inner = (
                _message_encoder(value_field.message_type)
                if value_field.message_type is not None
                else _scalar_encoder(value_field)
            )
            plan.append((field.name, False, inner, "map"))
        elif field.message_type is not None:
            kind = "repeated" if field.is_repeated else "message"
            plan.append((field.name, not field.is_repeated, _message_encoder(field.message_type), kind))
        elif field.is_repeated:
            plan.append((field.name, False, _scalar_encoder(field), "repeated"))
        elif field.type == FieldDescriptor.TYPE_STRING and not field.has_presence:
            # proto3 cannot tell "" from unset for such a field: both are "no value", i.e. null.
            plan.append((field.name, False, _empty_string_is_null, "scalar"))
        else:
            plan.append((field.name, field.has_presence, _scalar_encoder(field), "scalar"))
    return tuple(plan)


def encode(message: Message) -> dict[str, Json]:
    """The JSON object for a message: every field present, unset ones null (see the module docstring)."""
    result: dict[str, Json] = {}
    for name, nullable, encoder, kind in _plan(message.DESCRIPTOR):
        value = getattr(message, name)
        if kind == "repeated":
            result[name] = [encoder(item) for item in value]
        elif kind == "map":
            result[name] = {str(k): encoder(v) for k, v in value.items()}
        elif nullable and not message.HasField(name):
            result[name] = None
        else:
            result[name] = encoder(value)
    return result


def encode_any(message: Message) -> Json:
    """Like `encode`, but well-known types (a bare Timestamp, Struct, Empty...) take their JSON form."""
    if message.DESCRIPTOR.full_name == EMPTY:
        return {}
    return _message_encoder(message.DESCRIPTOR)(message)


# --- decoding ---------------------------------------------------------------------------------------


def parse_timestamp(text: str) -> datetime:
    """An RFC 3339 timestamp with its offset (`Z` or +hh:mm), as an aware UTC datetime."""
    if len(text) > 40 or "T" not in text.upper():
        raise ValueError(text)
    value = datetime.fromisoformat(text.replace("z", "Z"))
    if value.tzinfo is None:
        raise ValueError("an RFC 3339 timestamp needs its offset, e.g. Z")
    return value.astimezone(UTC)


class _Decoder:
    def __init__(self) -> None:
        self.unknown: dict[str, str] = {}
        self.invalid: dict[str, str] = {}

    def message(self, data: Json, target: Message, path: str) -> None:
        if not isinstance(data, dict):
            self.invalid[path or "(body)"] = "must be a JSON object"
            return
        fields = target.DESCRIPTOR.fields_by_name
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            field = fields.get(key)
            if field is None:
                self.unknown[where] = "is not a field of this request"
                continue
            if value is None:
                continue  # null = no value: the field keeps its default
            self.field(value, target, field, where)

    def field(self, value: Json, target: Message, field: FieldDescriptor, where: str) -> None:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            self.map(value, target, field, where)
        elif field.is_repeated:
            if not isinstance(value, list):
                self.invalid[where] = "must be a JSON array"
                return
            container = getattr(target, field.name)
            for index, item in enumerate(value):
                item_where = f"{where}[{index}]"
                if field.message_type is not None:
                    if item is None:
                        self.invalid[item_where] = "must not be null"
                        continue
                    self.well_known_or_message(item, container.add(), item_where)
                else:
                    converted = self.scalar(item, field, item_where)
                    if converted is not _INVALID:
                        container.append(converted)
        elif field.message_type is not None:
            self.well_known_or_message(value, getattr(target, field.name), where)
            if not target.HasField(field.name) and where not in self.invalid and where not in self.unknown:
                getattr(target, field.name).SetInParent()  # `{}` for a message still means "present"
        else:
            converted = self.scalar(value, field, where)
            if converted is not _INVALID:
                setattr(target, field.name, converted)

    def map(self, value: Json, target: Message, field: FieldDescriptor, where: str) -> None:
        if not isinstance(value, dict):
            self.invalid[where] = "must be a JSON object"
            return
        key_field = field.message_type.fields_by_name["key"]
        value_field = field.message_type.fields_by_name["value"]
        container = getattr(target, field.name)
        for raw_key, item in value.items():
            item_where = f"{where}.{raw_key}"
            key = self._map_key(raw_key, key_field)
            if key is _INVALID:
                self.invalid[item_where] = "is not a valid key"
                continue
            if value_field.message_type is not None:
                self.well_known_or_message(item, container[key], item_where)
            else:
                converted = self.scalar(item, value_field, item_where)
                if converted is not _INVALID:
                    container[key] = converted

    def well_known_or_message(self, value: Json, target: Message, where: str) -> None:
        name = target.DESCRIPTOR.full_name
        if name == TIMESTAMP:
            if not isinstance(value, str):
                self.invalid[where] = "must be an RFC 3339 timestamp string"
                return
            try:
                target.FromDatetime(parse_timestamp(value))
            except (ValueError, OverflowError):
                self.invalid[where] = "must be an RFC 3339 timestamp, e.g. 2026-01-31T09:30:00Z"
        elif name == FIELD_MASK:
            paths = value.split(",") if isinstance(value, str) else value
            if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
                self.invalid[where] = "must be comma-separated field names"
                return
            target.paths.extend(p.strip() for p in paths if p.strip())
        elif name in STRUCT_TYPES or name in WRAPPERS or name == DURATION:
            try:
                json_format.ParseDict(value, target)
            except (json_format.ParseError, TypeError, ValueError):
                self.invalid[where] = f"is not a valid {target.DESCRIPTOR.name}"
        else:
            self.message(value, target, where)

    def scalar(self, value: Json, field: FieldDescriptor, where: str) -> Any:
        kind = field.type
        if kind == FieldDescriptor.TYPE_STRING:
            if not isinstance(value, str):
                self.invalid[where] = "must be a string"
                return _INVALID
            if "\x00" in value:
                self.invalid[where] = "must not contain NUL characters"
                return _INVALID
            return value
        if kind == FieldDescriptor.TYPE_BOOL:
            if not isinstance(value, bool):
                self.invalid[where] = "must be true or false"
                return _INVALID
            return value
        if kind in _INT_RANGES:
            low, high = _INT_RANGES[kind]
            if isinstance(value, bool) or not isinstance(value, int):
                self.invalid[where] = "must be an integer"
                return _INVALID
            if not low <= value <= high:
                self.invalid[where] = f"must be between {low} and {high}"
                return _INVALID
            return value
        if kind in _FLOATS:
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            try:
                number = float(value) if numeric else None
            except OverflowError:  # a JSON integer too large for a double
                number = None
            if number is None or not math.isfinite(number):
                self.invalid[where] = "must be a number"
                return _INVALID
            return number
        if kind == FieldDescriptor.TYPE_ENUM:
            numbers = enum_numbers(field.enum_type)
            if not isinstance(value, str) or value not in numbers:
                self.invalid[where] = "must be one of: " + ", ".join(sorted(numbers))
                return _INVALID
            return numbers[value]
        if kind == FieldDescriptor.TYPE_BYTES:
            try:
                return base64.b64decode(value, validate=True) if isinstance(value, str) else _bad_bytes()
            except (binascii.Error, ValueError):
                self.invalid[where] = "must be base64"
                return _INVALID
        self.invalid[where] = "has an unsupported type"
        return _INVALID

    def _map_key(self, raw: str, field: FieldDescriptor) -> Any:
        """A JSON object key as the map's key type: checked like any value of that type."""
        if field.type == FieldDescriptor.TYPE_STRING:
            return raw if "\x00" not in raw else _INVALID
        if field.type == FieldDescriptor.TYPE_BOOL:
            return {"true": True, "false": False}.get(raw, _INVALID)
        if not _INTEGER_KEY.match(raw):  # int() would take "1_0" and " 2"
            return _INVALID
        number = int(raw)
        low, high = _INT_RANGES.get(field.type, (0, -1))
        return number if low <= number <= high else _INVALID


_INVALID = object()


def _bad_bytes() -> bytes:
    raise ValueError("not a string")


def decode_into(data: Json, target: Message, *, path: str = "") -> None:
    """Fills `target` from JSON; raises DecodeError naming every field that does not fit."""
    decoder = _Decoder()
    decoder.well_known_or_message(data, target, path)
    if decoder.unknown or decoder.invalid:
        raise DecodeError(decoder.unknown, decoder.invalid)


def decode_field(value: Json, target: Message, field: FieldDescriptor, where: str) -> None:
    """Sets one field of `target` from a JSON value (query strings and path variables use it)."""
    decoder = _Decoder()
    if value is not None:
        decoder.field(value, target, field, where)
    if decoder.unknown or decoder.invalid:
        raise DecodeError(decoder.unknown, decoder.invalid)

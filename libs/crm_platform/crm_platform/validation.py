"""Request checks every servicer shares: the contract's field rules, and a few helpers.

Field rules are declared once, in the `.proto` contracts, as `buf.validate` options; protovalidate
(compiled, about 1.7 µs for a valid contact, see bench/RESULTS.md) enforces them on every request the
gRPC server receives, so gRPC callers meet exactly the rules REST callers meet and the OpenAPI document
shows. Business rules that need the database stay in each service's domain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import protovalidate
from google.protobuf.message import Message

from crm_platform.errors import InvalidArgument

_validator = protovalidate.Validator()

F = TypeVar("F", bound=Callable[..., Any])

# Set on a servicer method that checks the contract's field rules of its request itself.
CHECKS_OWN_CONTRACT = "crm_checks_own_contract"


def checks_own_contract(method: F) -> F:
    """Marks a servicer method that checks its request against the contract's field rules itself
    (`contract_violations`, first thing), so that it can answer them in one INVALID_ARGUMENT together
    with what its own checks find (a create whose built-in and custom fields are both wrong names both);
    the server interceptor leaves such a request to it (crm_platform.grpc_server)."""
    setattr(method, CHECKS_OWN_CONTRACT, True)
    return method


class FieldViolations:
    """Field violations gathered from several checks, answered as one INVALID_ARGUMENT; a field keeps
    what the first check to name it said."""

    def __init__(self, fields: Mapping[str, str] | None = None) -> None:
        self.fields: dict[str, str] = dict(fields or {})

    def __bool__(self) -> bool:
        return bool(self.fields)

    @contextmanager
    def collecting(self) -> Iterator[None]:
        """Runs a check, keeping the fields its InvalidArgument names (one naming none is raised)."""
        try:
            yield
        except InvalidArgument as error:
            if not error.fields:
                raise
            for name, text in error.fields.items():
                self.fields.setdefault(name, text)

    def raise_any(self, message: str) -> None:
        if self.fields:
            raise InvalidArgument(message, self.fields)


def _path(violation: protovalidate.Violation) -> str:
    parts: list[str] = []
    for element in violation.proto.field.elements:
        subscript = element.subscript  # protovalidate's own runtime: a Oneof(field, value) or None
        parts.append(element.field_name if subscript is None else f"{element.field_name}[{subscript.value}]")
    return ".".join(parts)


def contract_violations(message: Message) -> dict[str, str]:
    """Each field that breaks the contract's rules, with what is wrong; {} for a valid message."""
    violations: dict[str, str] = {}
    for violation in _validator.collect_violations(message):
        violations.setdefault(_path(violation) or "(message)", violation.proto.message)
    return violations


NUL = "must not contain NUL characters"  # as the gateway's JSON decoding says it
_STRUCTS = {"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"}


def nul_violations(message: Message) -> dict[str, str]:
    """Each text field of `message` (at any depth: repeated, maps, a Struct's keys and strings) holding the
    NUL character, which no field means and PostgreSQL cannot store (a query with one fails); {} for none."""
    # A NUL in a text is a zero byte on the wire; most requests have no zero byte at all (zeros come
    # from numbers and empty strings), so serialising once (~1 us) spares nearly every one the walk.
    if b"\x00" not in message.SerializeToString():
        return {}
    found: dict[str, str] = {}
    _find_nul(message, "", found)
    return found


def _joined(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _find_nul(message: Message, path: str, found: dict[str, str]) -> None:
    kind = message.DESCRIPTOR.full_name
    if kind in _STRUCTS:
        _find_nul_json(message, path, found)
        return
    for field, value in message.ListFields():
        name = _joined(path, field.name)
        if field.type == field.TYPE_STRING:
            if any("\x00" in text for text in (value if field.is_repeated else (value,))):
                found[name] = NUL
        elif field.message_type is None:
            continue
        elif field.message_type.GetOptions().map_entry:
            for key, item in value.items():
                if isinstance(key, str) and "\x00" in key:
                    found[name] = NUL
                if isinstance(item, str):
                    if "\x00" in item:
                        found[f"{name}[{key}]"] = NUL
                elif isinstance(item, Message):
                    _find_nul(item, f"{name}[{key}]", found)
        elif field.is_repeated:
            for index, item in enumerate(value):
                _find_nul(item, f"{name}[{index}]", found)
        else:
            _find_nul(value, name, found)


def _find_nul_json(message: Any, path: str, found: dict[str, str]) -> None:
    """A Struct, Value or ListValue: named by their keys (`custom_fields.nickname`), as errors name them."""
    kind = message.DESCRIPTOR.full_name
    if kind == "google.protobuf.Struct":
        for key, item in message.fields.items():
            if "\x00" in key:
                found[path or "(message)"] = NUL
            _find_nul_json(item, _joined(path, key), found)
    elif kind == "google.protobuf.ListValue":
        for index, item in enumerate(message.values):
            _find_nul_json(item, f"{path}[{index}]", found)
    else:
        which = message.WhichOneof("kind")
        if which == "string_value" and "\x00" in message.string_value:
            found[path or "(message)"] = NUL
        elif which in ("struct_value", "list_value"):
            _find_nul_json(getattr(message, which), path, found)


def validate_request(message: Message) -> None:
    """INVALID_ARGUMENT naming every field that breaks the contract's rules."""
    violations = contract_violations(message)
    if violations:
        raise InvalidArgument("the request breaks the contract's field rules", violations)


def required(value: str, field: str) -> str:
    """The stripped value, or INVALID_ARGUMENT naming the field."""
    stripped = value.strip()
    if not stripped:
        raise InvalidArgument(f"{field} is required", {field: "is required"})
    return stripped

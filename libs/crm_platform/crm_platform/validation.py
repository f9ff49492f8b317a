"""Request checks every servicer shares: the contract's field rules, and a few helpers.

Field rules are declared once, in the `.proto` contracts, as `buf.validate` options; protovalidate
(compiled, about 1.7 µs for a valid contact, see bench/RESULTS.md) enforces them on every request the
gRPC server receives, so gRPC callers meet exactly the rules REST callers meet and the OpenAPI document
shows. Business rules that need the database stay in each service's domain.
"""

from __future__ import annotations

import protovalidate
from google.protobuf.message import Message

from crm_platform.errors import InvalidArgument

_validator = protovalidate.Validator()


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

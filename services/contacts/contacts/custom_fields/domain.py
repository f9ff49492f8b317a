"""The rules of custom fields: what a valid definition is, and what a valid value of each type is.
Plain Python, no I/O.

Values are JSON values (a record's `custom_fields` object, read from its google.protobuf.Struct): text
and single choice a string, number a number, date "YYYY-MM-DD", boolean true/false, multi choice a list
of distinct strings. Each error names `custom_fields.<name>`, the way the record's own fields are named.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from crm_platform.errors import InvalidArgument

RESOURCES = ("contacts", "companies")
TEXT, NUMBER, DATE, BOOLEAN = "text", "number", "date", "boolean"
SINGLE_CHOICE, MULTI_CHOICE = "single_choice", "multi_choice"
TYPES = (TEXT, NUMBER, DATE, BOOLEAN, SINGLE_CHOICE, MULTI_CHOICE)
CHOICE_TYPES = frozenset({SINGLE_CHOICE, MULTI_CHOICE})
MAX_TEXT_LENGTH = 500  # a text value is indexed for filters: long documents belong in notes
MAX_FIELDS_PER_RESOURCE = 200
PREFIX = "custom_fields"

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Definition:
    """One custom field, as values are checked against it."""

    resource: str
    name: str
    type: str
    choices: tuple[str, ...] = ()
    required: bool = False

    @property
    def path(self) -> str:
        """How errors and filters name the field."""
        return f"{PREFIX}.{self.name}"


def check_choices(field_type: str, choices: Sequence[str], where: str = "choices") -> tuple[str, ...]:
    """The choices of a field of `field_type`: required and distinct for the choice types, none for the
    others (InvalidArgument naming `where`)."""
    cleaned = tuple(choice.strip() for choice in choices)
    problem = ""
    if field_type not in CHOICE_TYPES:
        problem = f"only choice fields have choices, not {field_type}" if cleaned else ""
    elif not cleaned:
        problem = f"a {field_type} field needs at least one choice"
    elif any(not choice for choice in cleaned):
        problem = "a choice cannot be blank"
    elif len(set(cleaned)) != len(cleaned):
        problem = "each choice may be listed once"
    if problem:
        raise InvalidArgument("invalid custom field", {where: problem})
    return cleaned


def clean_values(
    values: Mapping[str, Any], definitions: Mapping[str, Definition], resource: str
) -> dict[str, Any]:
    """`values` checked against the resource's `definitions` and normalised (text trimmed, numbers as
    floats, multi choice deduplicated); a null drops the key (no value). A required field without a
    value is an error too. One InvalidArgument naming every bad `custom_fields.<name>`."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        definition = definitions.get(name)
        if definition is None:
            errors[f"{PREFIX}.{name}"] = f"is not a custom field of {resource} (see /api/v1/custom-fields)"
            continue
        if value is None:
            continue
        try:
            typed = typed_value(definition, value)
        except ValueError as error:
            errors[definition.path] = str(error)
            continue
        if typed is not None:
            cleaned[name] = typed
    for definition in definitions.values():
        if definition.required and definition.name not in cleaned and definition.path not in errors:
            errors[definition.path] = "is required"
    if errors:
        raise InvalidArgument(f"invalid custom field values of {resource}", errors)
    return cleaned


def typed_value(definition: Definition, value: Any) -> Any:
    """`value` as the field's type holds it (None: no value), or ValueError saying what it should be."""
    kind = definition.type
    if kind == TEXT:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        text = value.strip()
        if len(text) > MAX_TEXT_LENGTH:
            raise ValueError(f"must be at most {MAX_TEXT_LENGTH} characters")
        if "\x00" in text:
            raise ValueError("cannot contain the NUL character")
        return text or None
    if kind == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError("must be a number")
        return float(value)
    if kind == DATE:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise ValueError('must be a date written "YYYY-MM-DD"')
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValueError(f"is not a real date: {value}") from None
    if kind == BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if kind == SINGLE_CHOICE:
        if not isinstance(value, str) or value not in definition.choices:
            raise ValueError(f"must be one of {_listed(definition.choices)}")
        return value
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("must be a list of strings")
    unknown = [item for item in value if item not in definition.choices]
    if unknown:
        raise ValueError(f"{_listed(unknown)} not among the choices {_listed(definition.choices)}")
    return list(dict.fromkeys(value)) or None


def _listed(items: Sequence[str]) -> str:
    return ", ".join(f'"{item}"' for item in items)

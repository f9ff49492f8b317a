"""From file columns to contract fields, generically from the descriptors: whatever fields a resource's
Create request has are importable (CreateContactRequest, CreateCompanyRequest), the fields of a single
nested message by their dotted path too (a company's `address.city`), and a cell is decoded as the REST
API decodes a JSON value."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from crm_platform.protojson import DecodeError, decode_field

# Header spellings that do not normalise to a field's name; used only for fields the resource has (a
# contact's `company` column; a company's name, which the same header spells).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "external_id": ("externalid", "extid", "externalreference", "sourceid", "legacyid", "recordid"),
    "name": ("company", "companyname", "organization", "organisation", "account", "accountname"),
    "domain": ("domainname", "emaildomain", "companydomain"),
    "address.street": ("street", "streetaddress", "address1", "addressline1"),
    "address.city": ("city", "town"),
    "address.region": ("region", "state", "province", "county"),
    "address.postal_code": ("postalcode", "postcode", "zip", "zipcode"),
    "address.country": ("country", "countrycode"),
    "first_name": ("first", "firstname", "givenname", "forename", "prenom", "vorname"),
    "last_name": ("last", "lastname", "surname", "familyname", "name_last", "nachname"),
    "email": ("emailaddress", "mail", "e_mail", "emailadress", "courriel"),
    "phone": ("phonenumber", "telephone", "tel", "mobile", "mobilephone", "cell", "cellphone"),
    "company": ("companyname", "organization", "organisation", "org", "employer", "account"),
    "owner_id": ("owner",),
    "team_id": ("team",),
    "partner_account_id": ("partner", "partneraccount"),
}
_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off", ""}


def squash(text: str) -> str:
    """Case, spaces and separators do not matter when matching a header to a field."""
    return re.sub(r"[\s_\-./]+", "", text.strip().lower())


def _is_single_message(field: FieldDescriptor) -> bool:
    """A singular field holding one of the contract's own messages (an address), not a list, map, or
    well-known type."""
    return _is_structured(field) and not field.is_repeated


def importable_fields(descriptor: Descriptor) -> list[str]:
    """The request's fields, and for a single nested message each of its fields as `parent.child`."""
    names = []
    for field in descriptor.fields:
        names.append(field.name)
        if _is_single_message(field):
            names.extend(f"{field.name}.{child.name}" for child in field.message_type.fields)
    return names


def suggest_mapping(columns: Iterable[str], fields: Iterable[str]) -> dict[str, str]:
    """Column -> field for each column whose name (or a common synonym) matches a field; each field once."""
    by_name: dict[str, str] = {}
    for field in fields:
        by_name.setdefault(squash(field), field)
    for field, words in SYNONYMS.items():
        if field in by_name.values():
            for word in words:
                by_name.setdefault(squash(word), field)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        field = by_name.get(squash(column))
        if field is not None and field not in taken:
            mapping[column] = field
            taken.add(field)
    return mapping


def check_mapping(
    mapping: Mapping[str, str], columns: Iterable[str], fields: Iterable[str]
) -> dict[str, str]:
    """What is wrong with a mapping, by `mapping.<column>`; {} when it is usable."""
    problems: dict[str, str] = {}
    known, present, seen = set(fields), set(columns), {}
    for column, field in mapping.items():
        if column not in present:
            problems[f"mapping.{column}"] = "is not a column of the file"
        elif field not in known:
            problems[f"mapping.{column}"] = f"{field!r} is not a field; one of: {', '.join(sorted(known))}"
        elif field in seen:
            problems[f"mapping.{column}"] = f"{field} is already mapped from {seen[field]!r}"
        else:
            seen[field] = column
    return problems


def _is_structured(field: FieldDescriptor) -> bool:
    """A message field the REST API takes as a JSON object (not a timestamp, wrapper or map)."""
    message = field.message_type
    return (
        message is not None
        and not message.GetOptions().map_entry
        and not message.full_name.startswith("google.protobuf.")
    )


# Well-known messages whose REST form is free JSON (custom_fields is a Struct): a cell holds that JSON.
_JSON_MESSAGES = frozenset({"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"})


def _takes_json(field: FieldDescriptor) -> bool:
    """A cell for this field is JSON: one of the contract's messages, a map, or free JSON."""
    message = field.message_type
    return message is not None and (
        _is_structured(field) or message.GetOptions().map_entry or message.full_name in _JSON_MESSAGES
    )


def _structured(field: FieldDescriptor, text: str) -> object:
    """A cell holding JSON: an object for a message field; a list of objects (or one object) for a
    repeated one, as the export writes them."""
    try:
        value = json.loads(text)
    except ValueError:
        shape = '[{"...": ...}]' if field.is_repeated else '{"...": ...}'
        raise ValueError(f"must be JSON, e.g. {shape}") from None
    is_map = field.message_type is not None and field.message_type.GetOptions().map_entry
    if field.is_repeated and not is_map and isinstance(value, dict):
        return [value]
    return value


def _json_value(field: FieldDescriptor, text: str) -> object:
    """A cell (text) as the JSON value the REST API would take for this field."""
    if field.type == FieldDescriptor.TYPE_BOOL:
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError("is not a yes/no value")
    if field.cpp_type in (
        FieldDescriptor.CPPTYPE_INT32,
        FieldDescriptor.CPPTYPE_INT64,
        FieldDescriptor.CPPTYPE_UINT32,
        FieldDescriptor.CPPTYPE_UINT64,
    ):
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError("is not a whole number") from None
    if field.cpp_type in (FieldDescriptor.CPPTYPE_FLOAT, FieldDescriptor.CPPTYPE_DOUBLE):
        try:
            return float(text.strip())
        except ValueError:
            raise ValueError("is not a number") from None
    return text


def fill(target: Message, values: Mapping[str, str]) -> dict[str, str]:
    """Set `target`'s fields from field -> cell text (repeated scalars: `;`-separated; messages and
    lists of them: JSON); returns the fields that could not be decoded, with why."""
    problems: dict[str, str] = {}
    for name, text in values.items():
        if "\x00" not in text and _is_plain_text(target.DESCRIPTOR, name):
            try:
                setattr(target, name, text)  # what decode_field does with a JSON string
            except ValueError as error:
                problems[name] = str(error)
            continue
        holder, field = _leaf(target, name)
        try:
            if _takes_json(field):
                value: object = _structured(field, text)
            elif field.is_repeated:
                value = [_json_value(field, part.strip()) for part in text.split(";") if part.strip()]
            else:
                value = _json_value(field, text)
            decode_field(value, holder, field, name)
        except ValueError as error:
            problems[name] = str(error)
        except DecodeError as error:
            problems[name] = _decode_message(error, name)
    return problems


@functools.cache
def _is_plain_text(descriptor: Descriptor, name: str) -> bool:
    """`name` is a singular text field of the message itself: a cell is its value as it is (most of a
    row's cells; told once per field, not per cell)."""
    field = descriptor.fields_by_name.get(name)
    return field is not None and field.type == FieldDescriptor.TYPE_STRING and not field.is_repeated


def _leaf(target: Message, name: str) -> tuple[Message, FieldDescriptor]:
    """The message holding field `name` (dotted: a field of a nested message) and that field."""
    holder = target
    *parents, leaf = name.split(".")
    for parent in parents:
        holder = getattr(holder, parent)
    return holder, holder.DESCRIPTOR.fields_by_name[leaf]


def _decode_message(error: DecodeError, name: str) -> str:
    invalid = getattr(error, "invalid", None)
    if isinstance(invalid, Mapping) and invalid:
        return "; ".join(str(v) for v in invalid.values())
    if isinstance(invalid, (list, tuple)) and invalid:
        return "; ".join(str(v) for v in invalid)
    return f"is not a valid {name}"

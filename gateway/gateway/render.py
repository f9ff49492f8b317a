"""Protobuf messages as REST JSON.

Unlike protobuf's own JSON mapping, 64-bit integers stay numbers (money is integer minor units and must
not turn into strings) and every field is present, defaults included, so clients see a fixed shape.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from crm.contacts.v1 import contacts_pb2
from crm_platform.protobuf import to_datetime


def iso_utc(stamp: Timestamp) -> str:
    return to_datetime(stamp).astimezone(UTC).isoformat().replace("+00:00", "Z")


def _value(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return message_json(value)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return (
            field.enum_type.values_by_number[value].name
            if value in field.enum_type.values_by_number
            else value
        )
    if field.type == FieldDescriptor.TYPE_BYTES:
        return value.hex()
    return value


def message_json(message: Message) -> Any:
    if isinstance(message, Timestamp):
        return iso_utc(message) if message.ByteSize() else None
    result: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            result[field.name] = {str(k): _value(value_field, v) for k, v in value.items()}
        elif field.is_repeated:
            result[field.name] = [_value(field, item) for item in value]
        elif field.type == FieldDescriptor.TYPE_MESSAGE and not message.HasField(field.name):
            result[field.name] = None
        else:
            result[field.name] = _value(field, value)
    return result


def contact_json(contact: contacts_pb2.Contact) -> dict[str, Any]:
    data: dict[str, Any] = message_json(contact)
    # The service says "empty when unknown"; REST says null.
    for name in ("phone", "company"):
        data[name] = data[name] or None
    return data

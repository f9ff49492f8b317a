"""Conversions between protobuf well-known types / messages and Python values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp


def timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value.astimezone(UTC))
    return stamp


def to_datetime(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def as_event_payload(message: Message) -> dict[str, Any]:
    """The JSON form of an event message as it goes on the wire: proto field names, defaults included,
    so consumers in any language (nameko included) see every field."""
    return MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)

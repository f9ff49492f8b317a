"""Conversions between protobuf well-known types / messages and Python values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from crm_platform import protojson


def timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value.astimezone(UTC))
    return stamp


def to_datetime(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def as_event_payload(message: Message) -> dict[str, Any]:
    """The JSON form of an event message as it goes on the wire: the platform's one JSON mapping (proto
    field names, every field present, 64-bit integers as numbers, short enum names), so consumers in any
    language (nameko included) read events exactly as REST clients read resources."""
    return protojson.encode(message)

"""Conversions between protobuf well-known types / messages and Python values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from crm_platform import protojson
from crm_platform.errors import InvalidArgument


def timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value.astimezone(UTC))
    return stamp


def to_datetime(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def client_datetime(stamp: Timestamp, field: str) -> datetime:
    """`to_datetime` of a timestamp a client sent: INVALID_ARGUMENT naming `field` for one that is no
    time at all (seconds outside 0001-01-01..9999-12-31, nanos outside a second), which a gRPC client
    can send and a datetime cannot hold."""
    try:
        return to_datetime(stamp)
    except (ValueError, OverflowError):
        raise InvalidArgument(
            f"{field} is not a valid time", {field: "must be a time from 0001-01-01 to 9999-12-31 (UTC)"}
        ) from None


def as_event_payload(message: Message) -> dict[str, Any]:
    """The JSON form of an event message as it goes on the wire: the platform's one JSON mapping (proto
    field names, every field present, 64-bit integers as numbers, short enum names), so consumers in any
    language (nameko included) read events exactly as REST clients read resources."""
    return protojson.encode(message)

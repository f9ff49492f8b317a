"""The wire format of our events: nameko's conventions plus CloudEvents and W3C trace headers.

nameko's `@event_handler("contacts", "contact_created")` binds a queue to the topic exchange
`contacts.events` with routing key `contact_created` and decodes the body by its content type, so a
plain nameko service receives what we publish. The CloudEvents attributes travel as AMQP headers
(the CloudEvents AMQP binding in "binary mode" with our `ce-` prefix) so the body stays the bare payload.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
CONTENT_ENCODING = "utf-8"
PERSISTENT = 2

AGGREGATE_TYPE_HEADER = "ce-aggregatetype"
AGGREGATE_ID_HEADER = "ce-aggregateid"
SEQUENCE_HEADER = "ce-sequence"

_DATASCHEMA = re.compile(r"^urn:crm:events:(?P<type>[^:]+):v(?P<version>\d+)$")


class MalformedEvent(ValueError):
    """A message that cannot be read as one of our events; retrying will not help."""


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    source: str
    time: datetime | None
    version: int
    data: dict[str, Any]
    headers: dict[str, Any] = field(default_factory=dict)
    # None for events from publishers that do not number them (a plain nameko service).
    aggregate_type: str | None = None
    aggregate_id: str | None = None
    sequence: int | None = None


def exchange_name(service: str) -> str:
    return f"{service}.events"


def source_uri(service: str) -> str:
    return f"crm/{service}"


def dataschema(event_type: str, version: int) -> str:
    return f"urn:crm:events:{event_type}:v{version}"


def declare_exchange(channel: BlockingChannel, exchange: str) -> None:
    # Exactly nameko's declaration: any difference makes whichever side declares second fail with
    # PRECONDITION_FAILED.
    channel.exchange_declare(exchange, exchange_type="topic", durable=True, auto_delete=False)


def cloudevent_headers(
    *,
    event_id: str,
    event_type: str,
    service: str,
    time: datetime,
    version: int,
    aggregate_type: str,
    aggregate_id: str,
    sequence: int,
) -> dict[str, str]:
    """The CloudEvents attributes as headers. The aggregate an event is about travels as `ce-subject`
    (`contact/<id>`) and as the extension attributes `ce-aggregatetype`, `ce-aggregateid` and
    `ce-sequence` (the CloudEvents sequence extension: 1, 2, 3, ... per aggregate, as a string)."""
    return {
        "ce-id": event_id,
        "ce-type": event_type,
        "ce-source": source_uri(service),
        "ce-subject": f"{aggregate_type}/{aggregate_id}",
        "ce-time": time.astimezone(UTC).isoformat(),
        "ce-specversion": SPEC_VERSION,
        "ce-dataschema": dataschema(event_type, version),
        AGGREGATE_TYPE_HEADER: aggregate_type,
        AGGREGATE_ID_HEADER: aggregate_id,
        SEQUENCE_HEADER: str(sequence),
    }


def encode_payload(payload: dict[str, Any]) -> str:
    """JSON text of a payload; raises TypeError early (at record time) for what JSON cannot carry."""
    if not isinstance(payload, dict):
        raise TypeError(f"an event payload must be a dict, not {type(payload).__name__}")
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def message_properties(event_id: str, headers: dict[str, Any]) -> pika.BasicProperties:
    return pika.BasicProperties(
        content_type=CONTENT_TYPE,
        content_encoding=CONTENT_ENCODING,
        delivery_mode=PERSISTENT,
        message_id=event_id,
        headers=headers,
    )


def header_text(headers: dict[str, Any], name: str) -> str | None:
    """A header as text; pika hands back bytes for values that are not valid UTF-8 long strings."""
    value = headers.get(name)
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return None if value is None else str(value)


def decode_event(properties: pika.BasicProperties, body: bytes) -> Event:
    """Read an incoming message as an Event, or raise MalformedEvent saying what is wrong with it."""
    headers = dict(properties.headers or {})
    try:
        data = json.loads(body.decode(properties.content_encoding or CONTENT_ENCODING))
    except (UnicodeDecodeError, LookupError, json.JSONDecodeError) as exc:
        raise MalformedEvent(f"body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedEvent(f"body is JSON {type(data).__name__}, not an object")
    event_id = header_text(headers, "ce-id")
    event_type = header_text(headers, "ce-type")
    if not event_id or not event_type:
        raise MalformedEvent("ce-id and ce-type headers are required")
    return Event(
        id=event_id,
        type=event_type,
        source=header_text(headers, "ce-source") or "",
        time=_parse_time(header_text(headers, "ce-time")),
        version=_parse_version(header_text(headers, "ce-dataschema")),
        data=data,
        headers=headers,
        **_aggregate(headers),
    )


def _aggregate(headers: dict[str, Any]) -> dict[str, Any]:
    aggregate_type = header_text(headers, AGGREGATE_TYPE_HEADER)
    aggregate_id = header_text(headers, AGGREGATE_ID_HEADER)
    raw_sequence = header_text(headers, SEQUENCE_HEADER)
    if aggregate_type is None and aggregate_id is None and raw_sequence is None:
        return {}
    if not aggregate_type or not aggregate_id or not raw_sequence:
        raise MalformedEvent(
            f"{AGGREGATE_TYPE_HEADER}, {AGGREGATE_ID_HEADER} and {SEQUENCE_HEADER} go together"
        )
    if not raw_sequence.isdigit() or int(raw_sequence) < 1:
        raise MalformedEvent(f"{SEQUENCE_HEADER} {raw_sequence!r} is not a positive integer")
    return {"aggregate_type": aggregate_type, "aggregate_id": aggregate_id, "sequence": int(raw_sequence)}


def _parse_time(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise MalformedEvent(f"ce-time {raw!r} is not ISO 8601") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse_version(raw: str | None) -> int:
    match = _DATASCHEMA.match(raw or "")
    return int(match["version"]) if match else 1

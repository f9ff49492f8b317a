"""The wire format of our events: nameko's conventions plus CloudEvents and W3C trace headers.

nameko's `@event_handler("contacts", "contact_created")` binds a queue to the topic exchange
`contacts.events` with routing key `contact_created` and decodes the body by its content type, so a
plain nameko service receives what we publish. The CloudEvents attributes travel as AMQP headers
(the CloudEvents AMQP binding in "binary mode" with our `ce-` prefix) so the body stays the bare payload.

A batch event (`outbox.record_batch_event`) announces many new aggregates at once: besides its own
aggregate and sequence it names the items' aggregate type in `ce-itemaggregatetype`, and its payload is
`{"items": [{"id", "aggregate_id", "sequence", "data"}, ...]}`: each item is what a single event about
that aggregate would carry (`data`), with the sequence it has on its aggregate and an id of its own
(`item_event` makes it the event a handler of the single event takes).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
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
ITEM_AGGREGATE_TYPE_HEADER = "ce-itemaggregatetype"

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


@dataclass(frozen=True)
class BatchItem:
    """One new aggregate a batch event announces: its id, the sequence this announcement has on it,
    what a single event about it would carry, and the item's own id (unique, like an event id)."""

    id: str
    aggregate_type: str
    aggregate_id: str
    sequence: int
    data: dict[str, Any]

    def as_payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "aggregate_id": self.aggregate_id,
            "sequence": self.sequence,
            "data": self.data,
        }


def batch_items(event: Event) -> list[BatchItem] | None:
    """The items of a batch event, in the order recorded; None for an event that is not one. Raises
    MalformedEvent for a batch whose items are not as `BatchItem.as_payload` writes them."""
    item_type = header_text(event.headers, ITEM_AGGREGATE_TYPE_HEADER)
    if item_type is None:
        return None
    raw = event.data.get("items")
    if not item_type or not isinstance(raw, list):
        raise MalformedEvent(f"a batch event needs {ITEM_AGGREGATE_TYPE_HEADER} and a list of items")
    items = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise MalformedEvent("a batch event's item must be an object")
        item_id, aggregate_id, sequence, data = (
            entry.get(k) for k in ("id", "aggregate_id", "sequence", "data")
        )
        if (
            not isinstance(item_id, str)
            or not item_id
            or not isinstance(aggregate_id, str)
            or not aggregate_id
        ):
            raise MalformedEvent("a batch event's item needs an id and an aggregate_id")
        if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
            raise MalformedEvent(f"item {aggregate_id}: sequence {sequence!r} is not a positive integer")
        if not isinstance(data, dict):
            raise MalformedEvent(f"item {aggregate_id}: data must be an object")
        items.append(BatchItem(item_id, item_type, aggregate_id, sequence, data))
    if len({item.aggregate_id for item in items}) != len(items):
        raise MalformedEvent("a batch event names an aggregate twice")
    return items


def with_items(event: Event, items: Sequence[BatchItem]) -> Event:
    """The batch event carrying only `items` (what a consumer hands its handler: the fresh ones)."""
    return dataclasses.replace(event, data={**event.data, "items": [item.as_payload() for item in items]})


def item_event(batch: Event, item: BatchItem) -> Event:
    """One item of `batch` as an event of its own (id, aggregate and sequence the item's, its data the
    payload; type, source, time, version and headers the batch's), for a handler written for the
    single event."""
    return dataclasses.replace(
        batch,
        id=item.id,
        data=item.data,
        aggregate_type=item.aggregate_type,
        aggregate_id=item.aggregate_id,
        sequence=item.sequence,
    )


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

"""Transactional outbox: record events with the business change; `relay.py` publishes them afterwards.

`record_event` only inserts a row in the caller's transaction, so an event exists exactly when the change
it announces was committed. `OutboxRelay` (in `relay.py`, re-exported here) publishes committed rows and
marks them only once the broker confirmed them: delivery is at least once (a crash between confirm and
mark republishes), and consumers dedupe by aggregate sequence or event id.
"""

from __future__ import annotations

import contextvars
import json
import logging
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, NamedTuple

from opentelemetry import propagate
from sqlalchemy import Table, insert
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crm_platform.events import doorbell, wire
from crm_platform.events.relay import OutboxRelay
from crm_platform.events.schema import MessagingTables

__all__ = [
    "NewEvent",
    "OutboxRelay",
    "RecordedBatch",
    "event_headers",
    "install_wakeup",
    "next_sequence",
    "next_sequences",
    "record_batch_event",
    "record_event",
    "record_events",
]

log = logging.getLogger(__name__)

# session.info key: set by record_event, consumed by the after_commit hook install_wakeup adds.
_RECORDED = "crm_platform.events.recorded"

# Extra headers (CloudEvents extension attributes) for the events recorded in the current context.
_extra_headers: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "crm_event_headers", default=None
)


@contextmanager
def event_headers(headers: Mapping[str, str]) -> Iterator[None]:
    """Every event recorded in the block carries these headers too (e.g. `ce-crmorigin: import` from a
    bulk import, so a subscriber can tell it apart without a payload field)."""
    token = _extra_headers.set({**(_extra_headers.get() or {}), **headers})
    try:
        yield
    finally:
        _extra_headers.reset(token)


def record_event(
    session: Session,
    tables: MessagingTables,
    *,
    source: str,
    event_type: str,
    aggregate_type: str,
    aggregate_id: str,
    payload: dict[str, Any],
    version: int = 1,
) -> str:
    """Add an event to the outbox in `session`'s transaction and return its id.

    The event is about one aggregate (`aggregate_type` `contact`, `aggregate_id` its id) and gets that
    aggregate's next `sequence` number. Allocating it locks the aggregate's sequence row until commit, so
    two transactions about the same aggregate number their events in the order they commit.

    `source` is the publishing service's name (`contacts`): it names the exchange (`contacts.events`)
    and the CloudEvents source (`crm/contacts`). The current trace context is stored with the row so the
    relay's publish span, and everything downstream, joins the trace of the request that caused it.

    `version` only labels the payload schema (`ce-dataschema`); subscribers bind by event type alone.
    A breaking v2 published beside v1 therefore needs its own type (`contact_created_v2`), or every v1
    subscriber would receive both.
    """
    event = NewEvent(event_type, aggregate_type, aggregate_id, payload, version)
    body = wire.encode_payload(payload)
    sequence = next_sequence(session, tables.sequences, aggregate_type, aggregate_id)
    now = datetime.now(UTC)  # after the sequence lock, so created_at follows sequence order
    trace: dict[str, str] = {}
    propagate.inject(trace)
    row = _outbox_row(source, event, body, sequence, now, {**(_extra_headers.get() or {}), **trace})
    session.execute(insert(tables.outbox).values(**row))
    session.info[_RECORDED] = True
    doorbell.notify_in_transaction(session)
    log.debug("event recorded", extra={"event_id": row["id"], "event_type": event_type})
    return str(row["id"])


class NewEvent(NamedTuple):
    """One event of `record_events`: what `record_event` takes, but the source."""

    event_type: str
    aggregate_type: str
    aggregate_id: str
    payload: dict[str, Any]
    version: int = 1


def record_events(
    session: Session, tables: MessagingTables, *, source: str, events: Sequence[NewEvent]
) -> list[str]:
    """`record_event` for many events in one go (a batch import): the aggregates' sequences allocated
    by one statement and the outbox rows inserted by one batched insert, in `events`' order (so several
    events of one aggregate get consecutive sequences in that order). Returns the event ids."""
    if not events:
        return []
    bodies = [wire.encode_payload(event.payload) for event in events]
    sequences = next_sequences(
        session, tables.sequences, [(event.aggregate_type, event.aggregate_id) for event in events]
    )
    now = datetime.now(UTC)
    trace: dict[str, str] = {}
    propagate.inject(trace)  # one trace context for the batch: it is one transaction
    extra = {**(_extra_headers.get() or {}), **trace}
    rows = [
        _outbox_row(source, event, body, sequence, now, extra)
        for event, body, sequence in zip(events, bodies, sequences, strict=True)
    ]
    session.execute(insert(tables.outbox), rows)
    session.info[_RECORDED] = True
    doorbell.notify_in_transaction(session)
    log.debug("events recorded", extra={"count": len(rows)})
    return [str(row["id"]) for row in rows]


class RecordedBatch(NamedTuple):
    """What `record_batch_event` recorded: the event's id, its own aggregate and sequence, and its
    items, numbered."""

    event_id: str
    aggregate_type: str
    aggregate_id: str
    sequence: int
    items: list[wire.BatchItem]


def record_batch_event(
    session: Session,
    tables: MessagingTables,
    *,
    source: str,
    event_type: str,
    aggregate_type: str,
    aggregate_id: str,
    item_aggregate_type: str,
    items: Sequence[tuple[str, dict[str, Any]]],
    version: int = 1,
) -> RecordedBatch:
    """Add one event to the outbox that announces many aggregates (`items`: each one's id and the
    payload a single event about it would carry), in `session`'s transaction.

    The event is sequenced on its own aggregate (`aggregate_type`/`aggregate_id`) like any event; each
    item takes its aggregate's next sequence (all of them and the event's in one statement) and travels
    in the payload as `{"items": [{"id", "aggregate_id", "sequence", "data"}]}`, the items' aggregate
    type in the `ce-itemaggregatetype` header (wire.py). A consumer moves each item's position with the
    event's, so the item's next event is applied at once; the handler of the type gets the items it has
    not applied yet. Each aggregate may be named once."""
    if len({aggregate_id for aggregate_id, _data in items}) != len(items):
        raise ValueError("a batch event names each aggregate once")
    numbered = next_sequences(
        session,
        tables.sequences,
        [(aggregate_type, aggregate_id), *((item_aggregate_type, item_id) for item_id, _data in items)],
    )
    sequence, item_sequences = numbered[0], numbered[1:]
    recorded = [
        wire.BatchItem(str(uuid.uuid4()), item_aggregate_type, item_id, item_sequence, data)
        for (item_id, data), item_sequence in zip(items, item_sequences, strict=True)
    ]
    payload = {"items": [item.as_payload() for item in recorded]}
    event = NewEvent(event_type, aggregate_type, aggregate_id, payload, version)
    body = wire.encode_payload(payload)
    now = datetime.now(UTC)  # after the sequence locks, so created_at follows sequence order
    trace: dict[str, str] = {}
    propagate.inject(trace)
    extra = {**(_extra_headers.get() or {}), **trace, wire.ITEM_AGGREGATE_TYPE_HEADER: item_aggregate_type}
    row = _outbox_row(source, event, body, sequence, now, extra)
    session.execute(insert(tables.outbox).values(**row))
    session.info[_RECORDED] = True
    doorbell.notify_in_transaction(session)
    log.debug(
        "batch event recorded", extra={"event_id": row["id"], "event_type": event_type, "items": len(items)}
    )
    return RecordedBatch(str(row["id"]), aggregate_type, aggregate_id, sequence, recorded)


def _outbox_row(
    source: str, event: NewEvent, body: str, sequence: int, now: datetime, extra: Mapping[str, str]
) -> dict[str, Any]:
    """The outbox row of one event; `extra`: headers beyond the CloudEvents ones (event_headers, the
    trace context)."""
    event_id = str(uuid.uuid4())
    headers: dict[str, str] = wire.cloudevent_headers(
        event_id=event_id,
        event_type=event.event_type,
        service=source,
        time=now,
        version=event.version,
        aggregate_type=event.aggregate_type,
        aggregate_id=event.aggregate_id,
        sequence=sequence,
    )
    headers.update(extra)
    return {
        "id": event_id,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "sequence": sequence,
        "exchange": wire.exchange_name(source),
        "routing_key": event.event_type,
        "payload": body,
        "headers": json.dumps(headers),
        "created_at": now,
        "attempts": 0,
    }


def next_sequence(session: Session, sequences: Table, aggregate_type: str, aggregate_id: str) -> int:
    """Allocate the aggregate's next event sequence number (1 for its first event) in `session`'s
    transaction; the upsert holds the row lock until commit."""
    dialect = session.get_bind().dialect.name
    upsert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect](sequences)
    statement = (
        upsert.values(aggregate_type=aggregate_type, aggregate_id=aggregate_id, last_sequence=1)
        .on_conflict_do_update(
            index_elements=[sequences.c.aggregate_type, sequences.c.aggregate_id],
            set_={"last_sequence": sequences.c.last_sequence + 1},
        )
        .returning(sequences.c.last_sequence)
    )
    return int(session.execute(statement).scalar_one())


def next_sequences(session: Session, sequences: Table, aggregates: Sequence[tuple[str, str]]) -> list[int]:
    """`next_sequence` for each (aggregate type, id) of `aggregates`, in one statement: an aggregate
    named n times gets its next n numbers, in order. Rows are locked in key order, so two batches
    touching the same aggregates cannot deadlock."""
    wanted = Counter(aggregates)
    keys = sorted(wanted)
    dialect = session.get_bind().dialect.name
    upsert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect](sequences)
    statement = upsert.on_conflict_do_update(
        index_elements=[sequences.c.aggregate_type, sequences.c.aggregate_id],
        set_={"last_sequence": sequences.c.last_sequence + upsert.excluded.last_sequence},
    ).returning(sequences.c.aggregate_type, sequences.c.aggregate_id, sequences.c.last_sequence)
    found = session.execute(
        statement,
        [{"aggregate_type": t, "aggregate_id": i, "last_sequence": wanted[(t, i)]} for t, i in keys],
    ).all()
    # The first number each aggregate hands out in this batch, then counted up per occurrence.
    following = {(row[0], row[1]): int(row[2]) - wanted[(row[0], row[1])] + 1 for row in found}
    numbers = []
    for key in aggregates:
        numbers.append(following[key])
        following[key] += 1
    return numbers


def install_wakeup(target: Any, relay: OutboxRelay) -> None:
    """Wake `relay` right after a commit of a session (from `target`, a sessionmaker or Session class)
    that recorded events, so they leave at once instead of at the relay's next poll.

    Only reaches a relay in this process, and helps only if that relay holds the lease; the holder in
    another process hears the commit through the doorbell (`doorbell.py`, installed here too).
    """
    doorbell.install(target)

    def after_commit(session: Session) -> None:
        if session.info.pop(_RECORDED, False):
            relay.wake()

    def after_rollback(session: Session) -> None:
        session.info.pop(_RECORDED, None)

    sa_event.listen(target, "after_commit", after_commit)
    sa_event.listen(target, "after_rollback", after_rollback)

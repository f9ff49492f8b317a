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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from opentelemetry import propagate
from sqlalchemy import Table, insert
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crm_platform.events import wire
from crm_platform.events.relay import OutboxRelay
from crm_platform.events.schema import MessagingTables

__all__ = ["OutboxRelay", "event_headers", "install_wakeup", "next_sequence", "record_event"]

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
    event_id = str(uuid.uuid4())
    body = wire.encode_payload(payload)
    sequence = next_sequence(session, tables.sequences, aggregate_type, aggregate_id)
    now = datetime.now(UTC)  # after the sequence lock, so created_at follows sequence order
    headers: dict[str, str] = wire.cloudevent_headers(
        event_id=event_id,
        event_type=event_type,
        service=source,
        time=now,
        version=version,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        sequence=sequence,
    )
    headers.update(_extra_headers.get() or {})
    propagate.inject(headers)
    session.execute(
        insert(tables.outbox).values(
            id=event_id,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            sequence=sequence,
            exchange=wire.exchange_name(source),
            routing_key=event_type,
            payload=body,
            headers=json.dumps(headers),
            created_at=now,
            attempts=0,
        )
    )
    session.info[_RECORDED] = True
    log.debug("event recorded", extra={"event_id": event_id, "event_type": event_type})
    return event_id


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


def install_wakeup(target: Any, relay: OutboxRelay) -> None:
    """Wake `relay` right after a commit of a session (from `target`, a sessionmaker or Session class)
    that recorded events, so they leave at once instead of at the relay's next poll.

    Only reaches a relay in this process, and helps only if that relay holds the lease; the holder in
    another process finds the rows at its next poll (`CRM_RELAY_POLL_INTERVAL`, 10 ms).
    """

    def after_commit(session: Session) -> None:
        if session.info.pop(_RECORDED, False):
            relay.wake()

    def after_rollback(session: Session) -> None:
        session.info.pop(_RECORDED, None)

    sa_event.listen(target, "after_commit", after_commit)
    sa_event.listen(target, "after_rollback", after_rollback)

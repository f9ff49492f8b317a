"""Consumer positions: the last sequence a consumer applied per aggregate, and what that says about
the next event of the aggregate (apply, skip as a duplicate, or wait for the ones missing before it).

Everything here runs inside the handler's transaction, so the position moves if and only if the
handler's effects commit. Moving it is a compare-and-set (`UPDATE ... WHERE last_sequence = <read>`,
or an INSERT that the primary key makes unique): of two replicas racing on the same event, one commits
and the other fails and looks again, to find it a duplicate.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_platform.events.wire import Event


class Verdict(enum.Enum):
    APPLY = "apply"
    DUPLICATE = "duplicate"
    GAP = "gap"


@dataclass(frozen=True)
class Position:
    verdict: Verdict
    last: int | None  # the last sequence applied; None if the consumer never saw the aggregate

    def missing(self, sequence: int) -> str:
        """The sequences missing before `sequence`, for logs and the DLQ reason."""
        first = (self.last or 0) + 1
        last = sequence - 1
        return str(first) if first == last else f"{first}..{last}"


class PositionConflict(Exception):
    """Another consumer moved the position between our read and our write; look again."""


def judge(session: Session, positions: Table, consumer: str, event: Event) -> Position:
    """Where `event` stands against the consumer's position for its aggregate (sequenced events only)."""
    last = session.execute(
        select(positions.c.last_sequence).where(*_key(positions, consumer, event))
    ).scalar_one_or_none()
    sequence = _sequence(event)
    if last is None:
        return Position(Verdict.APPLY if sequence == 1 else Verdict.GAP, None)
    if sequence <= last:
        return Position(Verdict.DUPLICATE, last)
    return Position(Verdict.APPLY if sequence == last + 1 else Verdict.GAP, last)


def advance(session: Session, positions: Table, consumer: str, event: Event, last: int | None) -> None:
    """Set the aggregate's position to the event's sequence, provided it is still `last`; raise
    PositionConflict otherwise (the caller rolls back and judges again)."""
    now = datetime.now(UTC)
    sequence = _sequence(event)
    if last is None:
        try:
            with session.begin_nested():
                session.execute(
                    insert(positions).values(
                        consumer=consumer,
                        aggregate_type=event.aggregate_type,
                        aggregate_id=event.aggregate_id,
                        last_sequence=sequence,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            raise PositionConflict from None
        return
    moved = session.execute(
        update(positions)
        .where(*_key(positions, consumer, event), positions.c.last_sequence == last)
        .values(last_sequence=sequence, updated_at=now)
    ).rowcount
    if moved != 1:
        raise PositionConflict


def mark_applied(
    session: Session, positions: Table, consumer: str, aggregates: Sequence[tuple[str, str, int]]
) -> None:
    """Record, in `session`'s transaction, that `consumer` has applied each (aggregate type, id,
    sequence): for a service that applies its own new aggregates' first events in the transaction that
    records them (contacts' batch import and its timeline), so that its consumer of those events takes
    them for the duplicates they are. Only for aggregates the consumer has no position for yet (created
    in this transaction): one batched insert, which a position already there refuses (IntegrityError)."""
    if not aggregates:
        return
    now = datetime.now(UTC)
    session.execute(
        insert(positions),
        [
            {
                "consumer": consumer,
                "aggregate_type": aggregate_type,
                "aggregate_id": aggregate_id,
                "last_sequence": sequence,
                "updated_at": now,
            }
            for aggregate_type, aggregate_id, sequence in aggregates
        ],
    )


def hold_place(session: Session, positions: Table, consumer: str, event: Event) -> None:
    """Before an event is set aside (retry queue or DLQ) for an aggregate the consumer has no position
    for: record `sequence - 1`, so the aggregate's later events wait for it instead of overtaking it."""
    exists = session.execute(
        select(positions.c.last_sequence).where(*_key(positions, consumer, event))
    ).scalar_one_or_none()
    if exists is not None:
        return
    try:
        with session.begin_nested():
            session.execute(
                insert(positions).values(
                    consumer=consumer,
                    aggregate_type=event.aggregate_type,
                    aggregate_id=event.aggregate_id,
                    last_sequence=_sequence(event) - 1,
                    updated_at=datetime.now(UTC),
                )
            )
    except IntegrityError:
        pass  # someone recorded a position meanwhile: it already holds the place


def is_sequenced(event: Event) -> bool:
    return event.aggregate_type is not None and event.aggregate_id is not None and event.sequence is not None


def _sequence(event: Event) -> int:
    if event.sequence is None:
        raise ValueError(f"event {event.id} has no sequence")
    return event.sequence


def _key(positions: Table, consumer: str, event: Event) -> tuple[object, ...]:
    return (
        positions.c.consumer == consumer,
        positions.c.aggregate_type == event.aggregate_type,
        positions.c.aggregate_id == event.aggregate_id,
    )

"""Consumer positions: the last sequence a consumer applied per aggregate, and what that says about
the next event of the aggregate (apply, skip as a duplicate, or wait for the ones missing before it).

Everything here runs inside the handler's transaction, so the position moves if and only if the
handler's effects commit. Moving it is a compare-and-set (`UPDATE ... WHERE last_sequence = <read>`,
or an INSERT that the primary key makes unique): of two replicas racing on the same event, one commits
and the other fails and looks again, to find it a duplicate.

A batch event (wire.batch_items) is judged on its own aggregate like any event, and its items on theirs,
all in one query (`judge_items`); the items applied move on in one batched insert (`advance_items`;
an item that already had a position, after a place-holder, by its own compare-and-set update), and a
batch set aside holds its items' places as `hold_place` does its own (`hold_item_places`).
"""

from __future__ import annotations

import enum
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_platform.bulk import insert_rows
from crm_platform.events.wire import BatchItem, Event


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
    return _verdict(_sequence(event), last)


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


def judge_items(
    session: Session, positions: Table, consumer: str, items: Sequence[BatchItem]
) -> list[tuple[BatchItem, Position]]:
    """`judge` for each item of a batch event (all of one aggregate type), in one query."""
    if not items:
        return []
    found = _item_positions(session, positions, consumer, items)
    return [(item, _verdict(item.sequence, found.get(item.aggregate_id))) for item in items]


def _item_positions(
    session: Session, positions: Table, consumer: str, items: Sequence[BatchItem]
) -> dict[str, int]:
    """The consumer's position of each item's aggregate that has one, by aggregate id (one query)."""
    rows = session.execute(
        select(positions.c.aggregate_id, positions.c.last_sequence).where(
            positions.c.consumer == consumer,
            positions.c.aggregate_type == items[0].aggregate_type,
            positions.c.aggregate_id.in_([item.aggregate_id for item in items]),
        )
    ).all()
    return {aggregate_id: last for aggregate_id, last in rows}


def _verdict(sequence: int, last: int | None) -> Position:
    if last is None:
        return Position(Verdict.APPLY if sequence == 1 else Verdict.GAP, None)
    if sequence <= last:
        return Position(Verdict.DUPLICATE, last)
    return Position(Verdict.APPLY if sequence == last + 1 else Verdict.GAP, last)


def advance_items(
    session: Session, positions: Table, consumer: str, applied: Sequence[tuple[BatchItem, int | None]]
) -> None:
    """`advance` for the items of a batch event applied (each with the position it was judged at):
    those without a position in one batched insert, those with one by compare-and-set. Raises
    PositionConflict when another consumer moved any of them meanwhile."""
    now = datetime.now(UTC)
    first = [_position_row(consumer, item, item.sequence, now) for item, last in applied if last is None]
    if first:
        try:
            with session.begin_nested():
                insert_rows(session, positions, POSITION_COLUMNS, first)
        except IntegrityError:
            raise PositionConflict from None
    for item, last in applied:
        # Rare: an item with a position already (a place-holder left when the batch was set aside).
        if last is not None:
            moved = session.execute(
                update(positions)
                .where(
                    positions.c.consumer == consumer,
                    positions.c.aggregate_type == item.aggregate_type,
                    positions.c.aggregate_id == item.aggregate_id,
                    positions.c.last_sequence == last,
                )
                .values(last_sequence=item.sequence, updated_at=now)
            ).rowcount
            if moved != 1:
                raise PositionConflict


class _AppliedHere:
    """Positions this process committed through `mark_applied`, remembered (at most MAX, the oldest
    forgotten first) so that its own consumer can tell those events for duplicates without a
    transaction: a position only moves forward, so what was committed stays a duplicate. Told by the
    code that committed them (`remember_committed`); whatever is not here (another process, forgotten)
    is judged by the database as before."""

    MAX = 200_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: OrderedDict[tuple[str, str, str], int] = OrderedDict()

    def add(self, consumer: str, aggregates: Sequence[tuple[str, str, int]]) -> None:
        with self._lock:
            for aggregate_type, aggregate_id, sequence in aggregates:
                self._seen[(consumer, aggregate_type, aggregate_id)] = sequence
            while len(self._seen) > self.MAX:
                self._seen.popitem(last=False)

    def covers(self, consumer: str, event: Event) -> bool:
        with self._lock:
            last = self._seen.get((consumer, event.aggregate_type or "", event.aggregate_id or ""))
        return last is not None and _sequence(event) <= last


APPLIED_HERE = _AppliedHere()


def applied_here(consumer: str, event: Event) -> bool:
    """True when this process committed the consumer's position at or past this (sequenced) event, so
    it is a duplicate without asking the database."""
    return APPLIED_HERE.covers(consumer, event)


def mark_applied(
    session: Session, positions: Table, consumer: str, aggregates: Sequence[tuple[str, str, int]]
) -> None:
    """Record, in `session`'s transaction, that `consumer` has applied each (aggregate type, id,
    sequence): for a service that applies its own new aggregates' first events in the transaction that
    records them (contacts' batch import and its timeline), so that its consumer of those events takes
    them for the duplicates they are. Only for aggregates the consumer has no position for yet (created
    in this transaction): one batched insert, which a position already there refuses (IntegrityError).
    The marks also wait in the session (`session.info`) for `remember_committed`, which the code that
    commits calls after the commit, so that this process's consumer needs no transaction for them; a
    savepoint rolled back takes its marks back with `forget_marks`."""
    if not aggregates:
        return
    marked = list(aggregates)
    session.info.setdefault(_PENDING_MARKS, []).append((consumer, marked))
    now = datetime.now(UTC)
    insert_rows(
        session,
        positions,
        POSITION_COLUMNS,
        [(consumer, kind, aggregate_id, sequence, now) for kind, aggregate_id, sequence in marked],
    )


_PENDING_MARKS = "crm_events_applied_marks"


def marks_made(session: Session) -> int:
    """How many `mark_applied` calls of this session wait for `remember_committed` (a savepoint's
    starting point for `forget_marks`)."""
    return len(session.info.get(_PENDING_MARKS, ()))


def forget_marks(session: Session, keep: int) -> None:
    """A savepoint was rolled back: its marks (those after the first `keep`) were never applied."""
    del session.info.get(_PENDING_MARKS, [])[keep:]


def remember_committed(session: Session) -> None:
    """After `session`'s transaction committed: its `mark_applied` positions are known to this
    process's consumers (`applied_here`)."""
    for consumer, marked in session.info.pop(_PENDING_MARKS, []):
        APPLIED_HERE.add(consumer, marked)


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


def hold_item_places(session: Session, positions: Table, consumer: str, items: Sequence[BatchItem]) -> None:
    """`hold_place` for the items of a batch event set aside: each item without a position gets
    `sequence - 1`, so its later events wait for the batch."""
    if not items:
        return
    held = _item_positions(session, positions, consumer, items)
    now = datetime.now(UTC)
    missing = [
        _position_row(consumer, item, item.sequence - 1, now)
        for item in items
        if item.aggregate_id not in held
    ]
    if not missing:
        return
    try:
        with session.begin_nested():
            insert_rows(session, positions, POSITION_COLUMNS, missing)
    except IntegrityError:
        pass  # someone recorded a position meanwhile: the batch's redelivery judges each item again


# A batch's item positions go in through bulk.insert_rows: an import chunk announces 500 new contacts,
# and SQLAlchemy's per-row parameter handling was a third of what every subscribing worker spent on one.
POSITION_COLUMNS = ("consumer", "aggregate_type", "aggregate_id", "last_sequence", "updated_at")


def _position_row(consumer: str, item: BatchItem, last_sequence: int, now: datetime) -> tuple[object, ...]:
    return (consumer, item.aggregate_type, item.aggregate_id, last_sequence, now)


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

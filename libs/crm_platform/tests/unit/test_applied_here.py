"""Positions a process committed through `mark_applied`, known to its own consumers without a database
read (`applied_here`): only once the code that committed says so, never those of a savepoint rolled
back, and only at or below the sequence marked. SQLite in memory: one table, no service."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import MetaData, create_engine
from sqlalchemy.orm import Session

from crm_platform.events import ordering
from crm_platform.events.schema import messaging_tables
from crm_platform.events.wire import Event


def _event(aggregate_id: str, sequence: int) -> Event:
    return Event(
        id=str(uuid.uuid4()),
        type="thing_created",
        source="things",
        time=datetime.now(UTC),
        data={},
        version=1,
        aggregate_type="thing",
        aggregate_id=aggregate_id,
        sequence=sequence,
    )


def test_marks_are_known_after_the_commit_and_forgotten_with_their_savepoint() -> None:
    metadata = MetaData()
    positions = messaging_tables(metadata).positions
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    kept, undone = f"kept-{uuid.uuid4()}", f"undone-{uuid.uuid4()}"
    with Session(engine) as session, session.begin():
        ordering.mark_applied(session, positions, "me.things", [("thing", kept, 1)])
        before = ordering.marks_made(session)
        with session.begin_nested() as savepoint:
            ordering.mark_applied(session, positions, "me.things", [("thing", undone, 1)])
            savepoint.rollback()
        ordering.forget_marks(session, before)
        assert not ordering.applied_here("me.things", _event(kept, 1))  # not committed yet
    ordering.remember_committed(session)
    assert ordering.applied_here("me.things", _event(kept, 1))
    assert not ordering.applied_here("me.things", _event(kept, 2))  # a later event is not a duplicate
    assert not ordering.applied_here("other.things", _event(kept, 1))  # another consumer's position
    assert not ordering.applied_here("me.things", _event(undone, 1))
    with engine.connect() as conn:
        assert [row.aggregate_id for row in conn.execute(positions.select())] == [kept]

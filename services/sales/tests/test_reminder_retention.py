"""The reminder queue is pruned (SQLite and PostgreSQL): the sales worker's periodic job deletes reminders
sent longer ago than SALES_REMINDER_RETENTION_DAYS, a batch at a time, and never a pending one; the
retention may not be shorter than the longest reminder offset."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from crm_platform import migrations
from crm_platform.config import ConfigError
from crm_platform.db import make_engine, make_session_factory, utcnow
from sales.activities import retention
from sales.activities.store import ReminderRow
from sales.main import DEFINITION


def _rows(sessions: Any, how_many: int, sent_days_ago: float | None, due_days_ago: float) -> set[str]:
    now = utcnow()
    ids = {str(uuid.uuid4()) for _ in range(how_many)}
    with sessions.begin() as session:
        session.execute(
            insert(ReminderRow),
            [
                {
                    "id": reminder_id,
                    "activity_type": "task",
                    "activity_id": str(uuid.uuid4()),
                    "minutes_before": 60,
                    "due_at": now - timedelta(days=due_days_ago),
                    "sent_at": None if sent_days_ago is None else now - timedelta(days=sent_days_ago),
                }
                for reminder_id in ids
            ],
        )
    return ids


def test_sent_reminders_past_the_retention_are_pruned_in_batches_and_pending_ones_stay(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALES_REMINDER_RETENTION_DAYS", "30")
    engine = make_engine(database_url)
    migrations.upgrade(engine, DEFINITION.migrations_dir)
    sessions = make_session_factory(engine)
    try:
        old = _rows(sessions, 5, sent_days_ago=40, due_days_ago=40)
        recent = _rows(sessions, 3, sent_days_ago=10, due_days_ago=10)
        pending = _rows(sessions, 4, sent_days_ago=None, due_days_ago=60)  # never sent: never pruned
        done = [retention.prune_sent(sessions, batch=2) for _ in range(4)]
        assert done == [2, 2, 1, 0]
        with engine.connect() as conn:
            left = set(conn.execute(select(ReminderRow.id)).scalars())
        assert left == recent | pending and not left & old
        # Later, the recent ones are past the retention too.
        assert retention.prune_sent(sessions, now=utcnow() + timedelta(days=25)) == 3
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(ReminderRow)).scalar() == 4
    finally:
        engine.dispose()


def test_the_workers_periodic_job_prunes(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """run_pruning is one of the sales worker's background jobs, and running it prunes at once."""
    assert retention.run_pruning in DEFINITION.background
    monkeypatch.setenv("SALES_REMINDER_PRUNE_SECONDS", "60")
    engine = make_engine(database_url)
    migrations.upgrade(engine, DEFINITION.migrations_dir)
    sessions = make_session_factory(engine)
    try:
        _rows(sessions, 3, sent_days_ago=45, due_days_ago=45)
        stopping = threading.Event()
        runtime = type("Runtime", (), {"sessions": sessions})()
        job = threading.Thread(target=retention.run_pruning, args=(runtime, stopping), daemon=True)
        job.start()
        try:
            for _ in range(100):
                with engine.connect() as conn:
                    if conn.execute(select(func.count()).select_from(ReminderRow)).scalar() == 0:
                        break
                stopping.wait(0.05)
            else:
                pytest.fail("the periodic job pruned nothing")
        finally:
            stopping.set()
            job.join(10)
    finally:
        engine.dispose()


def test_the_retention_is_at_least_the_longest_reminder_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALES_REMINDER_RETENTION_DAYS", "27")
    with pytest.raises(ConfigError):
        retention.RETENTION_DAYS.get()
    monkeypatch.setenv("SALES_REMINDER_RETENTION_DAYS", "28")
    assert retention.RETENTION_DAYS.get() == 28

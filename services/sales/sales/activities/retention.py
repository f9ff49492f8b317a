"""Sent reminders do not stay forever: the sales worker deletes rows of the reminder queue that were
claimed (sent) more than SALES_REMINDER_RETENTION_DAYS ago, a batch at a time, every
SALES_REMINDER_PRUNE_SECONDS (a crm_platform.periodic job, like the claims).

A sent row is what keeps a reschedule that keeps a reminder's time and offset from sending it again
(reminders.schedule), and that only matters while the record's time is ahead. A row was claimed at or
after its due time, which is at most the longest offset (40,320 minutes: four weeks) before the record's
time; so once it was sent longer ago than that, its record's time has passed, nothing would queue that
reminder again, and the row may go. The retention may therefore not be shorter than four weeks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from crm_platform import config
from crm_platform.db import transaction, utcnow
from crm_platform.periodic import periodic
from sales.activities.store import ReminderRow

LONGEST_OFFSET = timedelta(minutes=40_320)  # the contract's largest reminder_minutes_before
PRUNE_BATCH = 1000


def _retention_days(raw: str) -> int:
    days = int(raw)
    if timedelta(days=days) < LONGEST_OFFSET:
        raise ValueError(f"must be at least {LONGEST_OFFSET.days} days (the longest reminder offset)")
    return days


RETENTION_DAYS = config.Setting(
    "SALES_REMINDER_RETENTION_DAYS",
    _retention_days,
    "30",
    "How long a sent reminder is kept (days, at least 28) before the worker deletes it.",
)
PRUNE_SECONDS = config.Setting(
    "SALES_REMINDER_PRUNE_SECONDS",
    config.as_float,
    "3600",
    "How often each sales worker deletes sent reminders older than SALES_REMINDER_RETENTION_DAYS (seconds).",
)


def prune_sent(sessions: sessionmaker[Session], now: datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Deletes up to `batch` reminders sent before the retention; how many. Pending rows (sent_at NULL)
    are never touched. Workers pruning at once delete disjoint or already-gone rows: both are fine."""
    cutoff = (now or utcnow()) - timedelta(days=RETENTION_DAYS.get())
    with transaction(sessions) as session:
        # The range `sent_at < cutoff` on ix_activity_reminders_pending (sent_at, due_at) excludes NULLs.
        old = select(ReminderRow.id).where(ReminderRow.sent_at < cutoff).limit(batch)
        ids = list(session.scalars(old))
        if not ids:
            return 0
        gone = session.execute(
            delete(ReminderRow)
            .where(ReminderRow.id.in_(ids), ReminderRow.sent_at < cutoff)
            .execution_options(synchronize_session=False)
        )
        return int(gone.rowcount or 0)  # type: ignore[attr-defined]


# The worker's background job: prune every PRUNE_SECONDS (a full batch: again at once).
run_pruning = periodic(prune_sent, every=PRUNE_SECONDS.get, batch=PRUNE_BATCH)

"""Expiry: a sent quote whose last day (`valid_until`, UTC) has passed becomes expired, with its history
entry and `quote_expired`, once, however many workers sweep at the same time.

Each sweep claims a batch of candidates (sent, last day before today) and moves each with a
compare-and-set on its version, so a quote accepted or rejected meanwhile, or moved by another sweeper,
is left alone. On PostgreSQL the candidates are read `FOR UPDATE SKIP LOCKED`, so workers take different
quotes; on SQLite writers take turns (BEGIN IMMEDIATE). Accepting checks the day itself, so a quote is
never accepted late while it waits for the sweep.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_platform.db import transaction, utcnow
from crm_platform.periodic import periodic
from crm_platform.resources import Action, Change, FieldChange, compare_and_set, record_change
from sales.quotes import events
from sales.quotes.domain import EXPIRED, SENT
from sales.quotes.store import Quote, quotes

SWEEP_INTERVAL_SECONDS = 60.0
BATCH = 200
SYSTEM = ""  # the actor of what the platform does by itself


def sweep(sessions: sessionmaker[Session], now: datetime | None = None, batch: int = BATCH) -> int:
    """Expires up to `batch` sent quotes past their last day (publishing quote_expired); how many."""
    now = now or utcnow()
    today = now.astimezone(UTC).date()
    expired = 0
    with transaction(sessions) as session:
        candidates = (
            select(Quote)
            .where(Quote.status == SENT, Quote.valid_until < today.isoformat())
            .order_by(Quote.valid_until, Quote.id)
            .limit(batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        for row in session.scalars(candidates).all():
            values = {"status": EXPIRED, "updated_at": now}
            version = compare_and_set(session, Quote, row.id, row.version, values)
            changes = [FieldChange("status", SENT, EXPIRED)]
            record_change(
                session, quotes.resource_type, row.id, Action.UPDATED, SYSTEM, changes, occurred_at=now
            )
            session.refresh(row)
            events.record_quote_event(session, events.QUOTE_EXPIRED, Change(row, SYSTEM, version, changes))
            expired += 1
    return expired


run_sweeps = periodic(sweep, every=SWEEP_INTERVAL_SECONDS, batch=BATCH)

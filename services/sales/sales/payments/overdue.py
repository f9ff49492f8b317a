"""Overdue detection: an order still not fully paid after its due date is marked overdue and publishes
`payment_overdue`, once, however many workers sweep at the same time.

Each sweep claims a batch of candidates (unpaid, due, not yet overdue, not cancelled) and marks each with
a conditional UPDATE (`... WHERE overdue_at IS NULL`); only the update that changed the row records the
event, in the same transaction. On PostgreSQL the candidates are read `FOR UPDATE SKIP LOCKED`, so two
workers take different orders instead of queueing on the same ones (and the condition still holds if
they met); on SQLite writers take turns (BEGIN IMMEDIATE) and the second finds the rows already marked.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from crm_platform.db import transaction, utcnow
from crm_platform.periodic import periodic
from sales.orders.store import CANCELLED, Order
from sales.payments.events import record_payment_overdue

SWEEP_INTERVAL_SECONDS = 30.0
BATCH = 200


def sweep(sessions: sessionmaker[Session], now: datetime | None = None, batch: int = BATCH) -> int:
    """Marks up to `batch` due, unpaid orders overdue (publishing payment_overdue for each); how many."""
    now = now or utcnow()
    marked = 0
    with transaction(sessions) as session:
        candidates = (
            select(Order.id)
            .where(
                Order.overdue_at.is_(None),
                Order.due_at < now,
                Order.status != CANCELLED,
                Order.paid_minor < Order.total_minor,
            )
            .order_by(Order.due_at, Order.id)
            .limit(batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        for order_id in session.scalars(candidates).all():
            claimed = session.execute(
                update(Order)
                .where(Order.id == order_id, Order.overdue_at.is_(None))
                .values(overdue_at=now)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                continue
            order = session.execute(select(Order.__table__).where(Order.id == order_id)).one()
            record_payment_overdue(session, order)
            marked += 1
    return marked


# The worker's overdue loop: a sweep every SWEEP_INTERVAL_SECONDS (a full batch: again at once).
run_sweeps = periodic(sweep, every=SWEEP_INTERVAL_SECONDS, batch=BATCH)

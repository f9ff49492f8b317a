"""The reminder queue: each reminder offset of a task or an appointment is a row of `activity_reminders`
with the time it is due; the sales worker claims due rows and publishes `reminder_due` for each, once.

Scheduling runs in the transaction of the change that asks for it: creating a record queues its
reminders, a new time or new offsets replace its pending ones (`schedule`), completing or archiving it
deletes them (`cancel`). A row already sent stays, so a reschedule that keeps a sent reminder's time and
offset does not send it twice.

Claiming (`claim_due`, every REMINDER_POLL_SECONDS in each worker): one transaction reads a batch of due,
pending rows, marks them sent with a conditional UPDATE (`... WHERE sent_at IS NULL`) and records one
`reminder_due` per row it changed in the outbox, so marking and publishing commit or roll back together.
On PostgreSQL the batch is read `FOR UPDATE SKIP LOCKED`, so concurrent workers take different rows
instead of queueing behind each other; on SQLite writers take turns (BEGIN IMMEDIATE) and a second worker
finds the rows already marked. Either way a reminder is recorded exactly once, and the outbox relay
publishes it (publisher confirms; at least once across a relay crash, deduplicated by event id).

Lateness: a reminder is published within REMINDER_POLL_SECONDS (1 s) plus one claim and the relay's
hand-off after its time while the workers keep up; see docs/architecture.md for the measured tolerance.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from crm.sales.v1 import activities_pb2
from crm_platform import config
from crm_platform.db import transaction, utcnow
from crm_platform.events import NewEvent, record_events
from crm_platform.periodic import periodic
from crm_platform.protobuf import as_event_payload, timestamp
from sales.activities import domain
from sales.activities.store import APPOINTMENT, TASK, AppointmentRow, ReminderRow, TaskRow
from sales.events import SOURCE
from sales.store import messaging

REMINDER_DUE = "reminder_due"
BATCH = 200
REMINDER_POLL_SECONDS = config.Setting(
    "SALES_REMINDER_POLL_SECONDS",
    float,
    "1.0",
    "How often each sales worker looks for due reminders (seconds): the main part of how late one can be.",
)
_MODELS: dict[str, Any] = {TASK: TaskRow, APPOINTMENT: AppointmentRow}


def schedule(
    session: Session,
    activity_type: str,
    activity_id: str,
    at: datetime | None,
    minutes_before: Sequence[int],
    now: datetime | None = None,
) -> int:
    """Replaces the record's pending reminders by those of its time `at` (None: no time, none queued);
    how many are queued."""
    now = now or utcnow()
    cancel(session, activity_id)
    sent = session.execute(
        select(ReminderRow.minutes_before, ReminderRow.due_at).where(
            ReminderRow.activity_id == activity_id, ReminderRow.sent_at.is_not(None)
        )
    ).all()
    queued = domain.reminders_for(at, minutes_before, now, [(m, d) for m, d in sent])
    for reminder in queued:
        session.add(
            ReminderRow(
                id=str(uuid.uuid4()),
                activity_type=activity_type,
                activity_id=activity_id,
                minutes_before=reminder.minutes_before,
                due_at=reminder.due_at,
            )
        )
    session.flush()
    return len(queued)


def cancel(session: Session, activity_id: str) -> None:
    """Deletes the record's pending reminders (a completed task, an archived record, a reschedule)."""
    session.execute(
        delete(ReminderRow)
        .where(ReminderRow.activity_id == activity_id, ReminderRow.sent_at.is_(None))
        .execution_options(synchronize_session=False)
    )


def claim_due(sessions: sessionmaker[Session], now: datetime | None = None, batch: int = BATCH) -> int:
    """Marks up to `batch` due reminders sent and records `reminder_due` for each, in one transaction;
    how many."""
    now = now or utcnow()
    with transaction(sessions) as session:
        due = (
            select(ReminderRow.id)
            .where(ReminderRow.sent_at.is_(None), ReminderRow.due_at <= now)
            .order_by(ReminderRow.due_at, ReminderRow.id)
            .limit(batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list(session.scalars(due))
        if not ids:
            return 0
        claimed = session.execute(
            update(ReminderRow)
            .where(ReminderRow.id.in_(ids), ReminderRow.sent_at.is_(None))
            .values(sent_at=now)
            .returning(ReminderRow.id, ReminderRow.activity_type, ReminderRow.activity_id)
            .execution_options(synchronize_session=False)
        ).all()
        events = _announcements(session, claimed, now)
        record_events(session, messaging, source=SOURCE, events=events)
        return len(claimed)


def _announcements(session: Session, claimed: Sequence[Any], now: datetime) -> list[NewEvent]:
    """One reminder_due per claimed reminder, with its record's title, time, links and owner."""
    reminders = {
        r.id: r
        for r in session.execute(
            select(ReminderRow.__table__).where(ReminderRow.id.in_([c.id for c in claimed]))
        )
    }
    records: dict[str, Any] = {}
    for kind, model in _MODELS.items():
        wanted = [c.activity_id for c in claimed if c.activity_type == kind]
        if wanted:
            rows = session.execute(select(model.__table__).where(model.id.in_(wanted)))
            records.update({row.id: row for row in rows})
    events = []
    for item in sorted(claimed, key=lambda c: (reminders[c.id].due_at, c.id)):
        record = records.get(item.activity_id)
        if record is None:  # the record is gone (nothing deletes one today): nothing to remind of
            continue
        payload = _payload(reminders[item.id], record, now)
        events.append(NewEvent(REMINDER_DUE, item.activity_type, item.activity_id, as_event_payload(payload)))
    return events


def _payload(reminder: Any, record: Any, now: datetime) -> activities_pb2.ReminderDue:
    # The record's time as it is now (a reschedule replaced the pending rows, so they agree).
    at = (record.due_at if reminder.activity_type == TASK else record.start_at) or reminder.due_at
    return activities_pb2.ReminderDue(
        reminder_id=reminder.id,
        activity_type=reminder.activity_type,
        activity_id=record.id,
        title=record.title,
        at=timestamp(at),
        minutes_before=reminder.minutes_before,
        due_at=timestamp(reminder.due_at),
        sent_at=timestamp(now),
        contact_id=record.contact_id or "",
        deal_id=record.deal_id or "",
        lead_id=record.lead_id or "",
        owner_id=record.owner_id or "",
        team_id=record.team_id or "",
        partner_account_id=record.partner_account_id or "",
    )


# The worker's background job: claim due reminders every REMINDER_POLL_SECONDS (a full batch: at once).
run_claims = periodic(claim_due, every=REMINDER_POLL_SECONDS.get, batch=BATCH)

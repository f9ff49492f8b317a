"""Events about tasks and appointments, written to the outbox in the change's transaction (aggregates
`task` and `appointment`, so one record's events, its reminders' included, are consumed in order).

Tasks: task_created, task_updated, task_completed, task_reopened, task_archived.
Appointments: appointment_scheduled, appointment_updated, appointment_rescheduled (its time moved),
appointment_cancelled. Each carries the actor, the version, the changed fields (old -> new), the
record's links (its contact: the timeline) and its ownership. reminder_due: reminders.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crm.sales.v1 import activities_pb2
from crm_platform.protobuf import timestamp
from crm_platform.resources import Change
from crm_platform.resources.history import field_changes
from sales.activities.store import APPOINTMENT, TASK, appointment_message, task_message
from sales.events import record

TASK_CREATED = "task_created"
TASK_UPDATED = "task_updated"
TASK_COMPLETED = "task_completed"
TASK_REOPENED = "task_reopened"
TASK_ARCHIVED = "task_archived"
APPOINTMENT_SCHEDULED = "appointment_scheduled"
APPOINTMENT_UPDATED = "appointment_updated"
APPOINTMENT_RESCHEDULED = "appointment_rescheduled"
APPOINTMENT_CANCELLED = "appointment_cancelled"
# The fields whose change moves an appointment in time.
TIME_FIELDS = ("start_at", "end_at")


def _about(row: Any, change: Change[Any], at: datetime) -> dict[str, Any]:
    return {
        "title": row.title,
        "contact_id": row.contact_id or "",
        "deal_id": row.deal_id or "",
        "lead_id": row.lead_id or "",
        "owner_id": row.owner_id or "",
        "team_id": row.team_id or "",
        "partner_account_id": row.partner_account_id or "",
        "actor_id": change.actor_id,
        "version": change.version,
        "changed_fields": change.changed_fields,
        "changes": field_changes(change.changes),
        "changed_at": timestamp(at),
    }


def record_task(session: Session, event_type: str, change: Change[Any]) -> str:
    row = change.row
    payload = activities_pb2.TaskChanged(
        task_id=row.id, task=task_message(row), **_about(row, change, row.updated_at)
    )
    return record(session, event_type, TASK, row.id, payload)


def record_appointment(session: Session, event_type: str, change: Change[Any]) -> str:
    row = change.row
    payload = activities_pb2.AppointmentChanged(
        appointment_id=row.id,
        appointment=appointment_message(row),
        **_about(row, change, row.updated_at),
    )
    return record(session, event_type, APPOINTMENT, row.id, payload)


def task_created(session: Session, change: Change[Any]) -> str:
    return record_task(session, TASK_CREATED, change)


def task_updated(session: Session, change: Change[Any]) -> str:
    return record_task(session, TASK_UPDATED, change)


def task_archived(session: Session, change: Change[Any]) -> str:
    return record_task(session, TASK_ARCHIVED, change)


def appointment_scheduled(session: Session, change: Change[Any]) -> str:
    return record_appointment(session, APPOINTMENT_SCHEDULED, change)


def appointment_updated(session: Session, change: Change[Any]) -> str:
    """appointment_rescheduled when its time moved, appointment_updated otherwise."""
    moved = any(name in TIME_FIELDS for name in change.changed_fields)
    return record_appointment(session, APPOINTMENT_RESCHEDULED if moved else APPOINTMENT_UPDATED, change)


def appointment_cancelled(session: Session, change: Change[Any]) -> str:
    return record_appointment(session, APPOINTMENT_CANCELLED, change)

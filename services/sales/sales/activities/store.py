"""Tasks, appointments, their reminder queue and calendar feeds: tables, their mapping to the contract
and the list allow-lists. Tables live in the sales database (sales.store.Base).

- `tasks` and `appointments`: standard resources (crm_platform.resources.Repository: etag, field mask,
  history, record-level scope by owner, team and partner account).
- `activity_reminders`: the due-time queue, one row per reminder offset of a task or an appointment;
  `sent_at` is set, once, by the worker that publishes it (reminders.py).
- `calendar_feeds`: a user's secret feed addresses, the token kept only as its SHA-256.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, Select, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from crm.sales.v1 import activities_pb2
from crm_platform import protojson
from crm_platform.db import UtcDateTime
from crm_platform.listing import ENUM, STRING, TIMESTAMP, Field, ListSpec
from crm_platform.protobuf import timestamp, to_datetime
from crm_platform.resources import Repository, etag_of
from sales.store import Base

TASK = "task"
APPOINTMENT = "appointment"
OPEN = "open"
DONE = "done"
PRIORITIES = protojson.enum_names(activities_pb2.TaskPriority.DESCRIPTOR)
PRIORITY_NUMBERS = protojson.enum_numbers(activities_pb2.TaskPriority.DESCRIPTOR)
STATUS_NUMBERS = protojson.enum_numbers(activities_pb2.TaskStatus.DESCRIPTOR)
NORMAL = "normal"


class _Activity:
    """The columns tasks and appointments share: what they are about, reminders, ownership."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    contact_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    deal_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lead_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Minutes before the task's due time or the appointment's start, as given (a JSON list of ints).
    reminder_minutes_before: Mapped[list[int]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    owner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    partner_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


def _indexes(table: str, when: str) -> tuple[Index, ...]:
    return (
        # The default list order, and the owner's calendar (the feed): one index range each.
        Index(f"ix_{table}_{when}", when, "id"),
        Index(f"ix_{table}_owner_{when}", "owner_id", when),
        *(Index(f"ix_{table}_{name}", name) for name in ("team_id", "partner_account_id")),
        *(Index(f"ix_{table}_{name}", name) for name in ("contact_id", "deal_id", "lead_id")),
    )


class TaskRow(_Activity, Base):
    __tablename__ = "tasks"

    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    priority: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8))
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = _indexes("tasks", "due_at")


class AppointmentRow(_Activity, Base):
    __tablename__ = "appointments"

    start_at: Mapped[datetime] = mapped_column(UtcDateTime)
    end_at: Mapped[datetime] = mapped_column(UtcDateTime)
    location: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # [{"name", "email", "contact_id", "user_id"}] in the contract's JSON form.
    attendees: Mapped[list[Any]] = mapped_column(JSON)

    __table_args__ = _indexes("appointments", "start_at")


class ReminderRow(Base):
    __tablename__ = "activity_reminders"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    activity_type: Mapped[str] = mapped_column(String(16))  # task | appointment
    activity_id: Mapped[str] = mapped_column(String(36))
    minutes_before: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set by the worker that published reminder_due; NULL while pending.
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        # The claim: pending rows (sent_at IS NULL) by due time, one index range.
        Index("ix_activity_reminders_pending", "sent_at", "due_at"),
        Index("ix_activity_reminders_activity", "activity_id"),
    )


class CalendarFeedRow(Base):
    __tablename__ = "calendar_feeds"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # SHA-256 (hex) of the token: the token is 256 random bits, so a plain hash cannot be reversed or
    # guessed, and the lookup is one unique index probe.
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_read_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        Index("ux_calendar_feeds_token_hash", "token_hash", unique=True),
        Index("ix_calendar_feeds_user", "user_id", "created_at"),
    )


# --- the contract ---------------------------------------------------------------------------------


def _optional_time(message: Any, field: str, value: datetime | None) -> None:
    if value is not None:
        getattr(message, field).CopyFrom(timestamp(value))


def _common(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "notes": row.notes or "",
        "contact_id": row.contact_id or "",
        "deal_id": row.deal_id or "",
        "lead_id": row.lead_id or "",
        "reminder_minutes_before": list(row.reminder_minutes_before or []),
        "owner_id": row.owner_id or "",
        "team_id": row.team_id or "",
        "partner_account_id": row.partner_account_id or "",
        "created_at": timestamp(row.created_at),
        "updated_at": timestamp(row.updated_at),
        "etag": etag_of(row.id, row.version),
    }


def task_message(row: Any) -> activities_pb2.Task:
    """`row` is an ORM row or a Core row (attribute access by column name)."""
    message = activities_pb2.Task(
        priority=PRIORITY_NUMBERS.get(row.priority, 0),  # type: ignore[arg-type]
        status=STATUS_NUMBERS.get(row.status, 0),  # type: ignore[arg-type]
        **_common(row),
    )
    _optional_time(message, "due_at", row.due_at)
    _optional_time(message, "completed_at", row.completed_at)
    _optional_time(message, "archived_at", row.archived_at)
    return message


def appointment_message(row: Any) -> activities_pb2.Appointment:
    message = activities_pb2.Appointment(
        start_at=timestamp(row.start_at),
        end_at=timestamp(row.end_at),
        location=row.location or "",
        **_common(row),
    )
    for data in row.attendees or []:
        protojson.decode_into(data, message.attendees.add())
    _optional_time(message, "archived_at", row.archived_at)
    return message


def _common_columns(message: Any) -> dict[str, Any]:
    return {
        "title": message.title,
        "notes": message.notes or None,
        "contact_id": message.contact_id or None,
        "deal_id": message.deal_id or None,
        "lead_id": message.lead_id or None,
        "reminder_minutes_before": sorted(message.reminder_minutes_before),
        "owner_id": message.owner_id or None,
        "team_id": message.team_id or None,
        "partner_account_id": message.partner_account_id or None,
    }


def task_columns(message: activities_pb2.Task) -> dict[str, Any]:
    """The columns an update writes (the done state changes through :complete and :reopen)."""
    return {
        **_common_columns(message),
        "due_at": to_datetime(message.due_at) if message.HasField("due_at") else None,
        "priority": PRIORITIES.get(message.priority) or NORMAL,
    }


def appointment_columns(message: activities_pb2.Appointment) -> dict[str, Any]:
    return {
        **_common_columns(message),
        "start_at": to_datetime(message.start_at),
        "end_at": to_datetime(message.end_at),
        "location": message.location or None,
        "attendees": [protojson.encode(a) for a in message.attendees],
    }


tasks = Repository(TaskRow, TASK, to_message=task_message, to_columns=task_columns, request_field="task")
appointments = Repository(
    AppointmentRow,
    APPOINTMENT,
    to_message=appointment_message,
    to_columns=appointment_columns,
    request_field="appointment",
)


def _link_fields(model: Any) -> dict[str, Field]:
    return {
        name: Field(getattr(model, name), STRING)
        for name in ("contact_id", "deal_id", "lead_id", "owner_id", "team_id", "partner_account_id")
    }


TASKS_LIST = ListSpec(
    name="tasks",
    fields={
        **_link_fields(TaskRow),
        "status": Field(TaskRow.status, ENUM, enum_values=(OPEN, DONE)),
        "priority": Field(TaskRow.priority, ENUM, enum_values=tuple(n for n in PRIORITIES.values() if n)),
        "due_at": Field(TaskRow.due_at, TIMESTAMP),
        "completed_at": Field(TaskRow.completed_at, TIMESTAMP),
        "created_at": Field(TaskRow.created_at, TIMESTAMP),
    },
    orderable={"due_at", "created_at"},
    default_order="due_at",
    tie_breaker=TaskRow.id,
)

APPOINTMENTS_LIST = ListSpec(
    name="appointments",
    fields={
        **_link_fields(AppointmentRow),
        "start_at": Field(AppointmentRow.start_at, TIMESTAMP),
        "end_at": Field(AppointmentRow.end_at, TIMESTAMP),
        "created_at": Field(AppointmentRow.created_at, TIMESTAMP),
    },
    orderable={"start_at", "end_at", "created_at"},
    default_order="start_at",
    tie_breaker=AppointmentRow.id,
)


def active_tasks() -> Select[tuple[TaskRow]]:
    return select(TaskRow).where(TaskRow.archived_at.is_(None))


def active_appointments() -> Select[tuple[AppointmentRow]]:
    return select(AppointmentRow).where(AppointmentRow.archived_at.is_(None))


def feed_message(row: CalendarFeedRow, *, token: str = "", url: str = "") -> activities_pb2.CalendarFeed:
    message = activities_pb2.CalendarFeed(
        id=row.id, name=row.name or "", user_id=row.user_id, token=token, url=url
    )
    message.created_at.CopyFrom(timestamp(row.created_at))
    _optional_time(message, "last_read_at", row.last_read_at)
    return message

"""TasksService and AppointmentsService: the chassis' standard methods (idempotency, etags, history,
scope, outbox events) plus what is particular to activities: a record is linked to something the caller
may read, its reminders are queued, moved and cancelled in the change's transaction, and a task is
completed or reopened by custom methods on the same scope (update rights on the task).

Ownership: the caller and their primary team unless the request names others (checked against the
caller's create level); a partner user's tasks and appointments always belong to their own account.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import grpc
from google.protobuf import empty_pb2
from sqlalchemy.orm import Session

from crm.common.v1 import history_pb2
from crm.sales.v1 import activities_pb2, activities_pb2_grpc
from crm_platform.access import Ownership
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import utcnow
from crm_platform.errors import FailedPrecondition
from crm_platform.protobuf import to_datetime
from crm_platform.resources import (
    Action,
    Change,
    FieldChange,
    ResourceEvents,
    StandardMethods,
    actor_of,
    check_etag,
    compare_and_set,
    idempotent_write,
    record_change,
)
from crm_platform.resources.history import jsonable
from sales.activities import domain, events, reminders, store
from sales.activities.store import DONE, OPEN, TASK, AppointmentRow, TaskRow
from sales.deals.store import deals
from sales.leads.store import leads
from sales.links import linked_record

# The fields whose change moves a record's reminders.
TASK_TIMING = frozenset({"due_at", "reminder_minutes_before"})
APPOINTMENT_TIMING = frozenset({"start_at", "reminder_minutes_before"})


def check_linked_records(
    session: Session, deal_id: str | None, lead_id: str | None, prefix: str = ""
) -> None:
    """A linked deal or lead must be one the caller may read (sales.links)."""
    for field, repository, record_id in (("deal_id", deals, deal_id), ("lead_id", leads, lead_id)):
        if record_id:
            linked_record(session, repository, record_id, f"{prefix}{field}")


def _owned(row: Any, ownership: Ownership | None, request: Any) -> None:
    if ownership is None:  # trusted internal code: the request's ownership as given
        ownership = Ownership(
            request.owner_id or None, request.team_id or None, request.partner_account_id or None
        )
    row.owner_id, row.team_id = ownership.owner_id, ownership.team_id
    row.partner_account_id = ownership.partner_account_id


def _archiving(announce: Callable[[Session, Change[Any]], str]) -> Callable[[Session, Change[Any]], str]:
    """What archiving a record does besides its history: its pending reminders go, then the event."""

    def archived(session: Session, change: Change[Any]) -> str:
        reminders.cancel(session, change.row.id)
        return announce(session, change)

    return archived


def _activity_fields(request: Any) -> dict[str, Any]:
    """The columns a new task or appointment takes from its Create request alike."""
    return {
        "id": str(uuid.uuid4()),
        "title": request.title.strip(),
        "notes": request.notes or None,
        "contact_id": request.contact_id or None,
        "deal_id": request.deal_id or None,
        "lead_id": request.lead_id or None,
        "reminder_minutes_before": sorted(request.reminder_minutes_before),
    }


def _add(
    session: Session,
    repository: Any,
    row: Any,
    at: datetime | None,
    actor_id: str,
    ownership: Ownership | None,
    request: Any,
) -> Change[Any]:
    """Inserts a new task or appointment (its links checked, its ownership set) and queues its
    reminders for its time `at`."""
    check_linked_records(session, row.deal_id, row.lead_id)
    _owned(row, ownership, request)
    change = repository.create(session, row, actor_id)
    reminders.schedule(session, repository.resource_type, row.id, at, row.reminder_minutes_before)
    return change


def _updating(repository: Any, timing: frozenset[str], at_of: Callable[[Any], datetime | None]) -> Any:
    """StandardMethods.update's `apply` for a task or an appointment: the repository's update, then the
    links checked again if they changed, and the reminders moved if the time or the offsets did (while
    `at_of(row)` says it has a time worth reminding of)."""

    def apply(session: Session, *args: Any, **kwargs: Any) -> Change[Any]:
        change = repository.update(session, *args, **kwargs)
        row = change.row
        changed = set(change.changed_fields)
        if changed & {"deal_id", "lead_id"}:
            check_linked_records(session, row.deal_id, row.lead_id, prefix=f"{repository.request_field}.")
        if changed & timing and row.archived_at is None:
            reminders.schedule(
                session, repository.resource_type, row.id, at_of(row), row.reminder_minutes_before
            )
        return change

    return apply


def _task_time(row: Any) -> datetime | None:
    # A done task reminds of nothing: rescheduling it queues nothing until it is reopened.
    return row.due_at if row.status == OPEN else None


class TasksServicer(activities_pb2_grpc.TasksServiceServicer):
    def __init__(self, sessions: Any) -> None:
        self.sessions = sessions
        self.methods = StandardMethods(
            sessions,
            store.tasks,
            activities_pb2.Task,
            list_spec=store.TASKS_LIST,
            listed=store.active_tasks,
            events=ResourceEvents(
                created=events.task_created,
                updated=events.task_updated,
                archived=_archiving(events.task_archived),
            ),
        )

    def CreateTask(
        self, request: activities_pb2.CreateTaskRequest, context: grpc.ServicerContext
    ) -> activities_pb2.Task:
        domain.check_links(request.contact_id, request.deal_id, request.lead_id)
        due_at = to_datetime(request.due_at) if request.HasField("due_at") else None

        def add(session: Session, actor_id: str, ownership: Ownership | None) -> Change[Any]:
            row = TaskRow(
                **_activity_fields(request),
                due_at=due_at,
                priority=store.PRIORITIES.get(request.priority) or store.NORMAL,
                status=OPEN,
            )
            return _add(session, store.tasks, row, due_at, actor_id, ownership, request)

        return self.methods.create(context, request, add=add)

    def GetTask(
        self, request: activities_pb2.GetTaskRequest, context: grpc.ServicerContext
    ) -> activities_pb2.Task:
        return self.methods.get(request.id)

    def ListTasks(
        self, request: activities_pb2.ListTasksRequest, context: grpc.ServicerContext
    ) -> activities_pb2.ListTasksResponse:
        return activities_pb2.ListTasksResponse(**self.methods.list(request))

    def UpdateTask(
        self, request: activities_pb2.UpdateTaskRequest, context: grpc.ServicerContext
    ) -> activities_pb2.Task:
        apply = _updating(store.tasks, TASK_TIMING, _task_time)
        return self.methods.update(context, request, request.task, apply=apply, prepare=_prepare_task)

    def DeleteTask(
        self, request: activities_pb2.DeleteTaskRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        return self.methods.delete(context, request)

    def ListTaskHistory(
        self, request: activities_pb2.ListTaskHistoryRequest, context: grpc.ServicerContext
    ) -> history_pb2.ListHistoryResponse:
        return self.methods.history(
            history_pb2.ListHistoryRequest(id=request.id, limit=request.limit, cursor=request.cursor)
        )

    def CompleteTask(
        self, request: activities_pb2.CompleteTaskRequest, context: grpc.ServicerContext
    ) -> activities_pb2.Task:
        return self._set_status(context, request, DONE)

    def ReopenTask(
        self, request: activities_pb2.ReopenTaskRequest, context: grpc.ServicerContext
    ) -> activities_pb2.Task:
        return self._set_status(context, request, OPEN)

    def _set_status(self, context: grpc.ServicerContext, request: Any, target: str) -> activities_pb2.Task:
        """Done or open again: update rights on the task (404 out of scope, 403 beyond the caller's
        level); the same state asked again answers the task as it is. Done cancels the pending
        reminders; open queues those still ahead."""
        caller = current_caller_or_none()
        with idempotent_write(self.sessions, context, request, activities_pb2.Task) as write:
            if write.replay is not None:
                return write.replay
            session = write.session
            row = store.tasks.get(session, request.id, for_update=True, caller=caller, action="update")
            if row.status == target:
                return write.respond(store.task_message(row))
            if row.archived_at is not None:
                raise FailedPrecondition(f"task {row.id} is archived")
            check_etag(row.id, row.version, request.etag)
            now = utcnow()
            completed_at = now if target == DONE else None
            changes = [
                FieldChange("status", row.status, target),
                FieldChange("completed_at", jsonable(row.completed_at), jsonable(completed_at)),
            ]
            actor = actor_of(context)
            values = {"status": target, "completed_at": completed_at, "updated_at": now}
            version = compare_and_set(session, TaskRow, row.id, row.version, values)
            record_change(session, TASK, row.id, Action.UPDATED, actor, changes, occurred_at=now)
            if target == DONE:
                reminders.cancel(session, row.id)
            else:
                reminders.schedule(session, TASK, row.id, row.due_at, row.reminder_minutes_before, now)
            change = Change(row, actor, version, changes)
            events.record_task(
                session, events.TASK_COMPLETED if target == DONE else events.TASK_REOPENED, change
            )
            return write.respond(store.task_message(row))


def _prepare_task(task: activities_pb2.Task) -> None:
    """The domain's rules on an updated task (as Create checks them)."""
    task.title = task.title.strip()
    domain.check_links(task.contact_id, task.deal_id, task.lead_id)


def _prepare_appointment(appointment: activities_pb2.Appointment) -> None:
    appointment.title = appointment.title.strip()
    domain.check_links(appointment.contact_id, appointment.deal_id, appointment.lead_id)
    domain.check_window(to_datetime(appointment.start_at), to_datetime(appointment.end_at))


class AppointmentsServicer(activities_pb2_grpc.AppointmentsServiceServicer):
    def __init__(self, sessions: Any) -> None:
        self.sessions = sessions
        self.methods = StandardMethods(
            sessions,
            store.appointments,
            activities_pb2.Appointment,
            list_spec=store.APPOINTMENTS_LIST,
            listed=store.active_appointments,
            events=ResourceEvents(
                created=events.appointment_scheduled,
                updated=events.appointment_updated,
                archived=_archiving(events.appointment_cancelled),
            ),
        )

    def CreateAppointment(
        self, request: activities_pb2.CreateAppointmentRequest, context: grpc.ServicerContext
    ) -> activities_pb2.Appointment:
        domain.check_links(request.contact_id, request.deal_id, request.lead_id)
        start_at, end_at = to_datetime(request.start_at), to_datetime(request.end_at)
        domain.check_window(start_at, end_at)
        # The attendees as stored: their contract JSON (the message checked them already).
        attendees = store.appointment_columns(activities_pb2.Appointment(attendees=request.attendees))[
            "attendees"
        ]

        def add(session: Session, actor_id: str, ownership: Ownership | None) -> Change[Any]:
            row = AppointmentRow(
                **_activity_fields(request),
                start_at=start_at,
                end_at=end_at,
                location=request.location or None,
                attendees=attendees,
            )
            return _add(session, store.appointments, row, start_at, actor_id, ownership, request)

        return self.methods.create(context, request, add=add)

    def GetAppointment(
        self, request: activities_pb2.GetAppointmentRequest, context: grpc.ServicerContext
    ) -> activities_pb2.Appointment:
        return self.methods.get(request.id)

    def ListAppointments(
        self, request: activities_pb2.ListAppointmentsRequest, context: grpc.ServicerContext
    ) -> activities_pb2.ListAppointmentsResponse:
        return activities_pb2.ListAppointmentsResponse(**self.methods.list(request))

    def UpdateAppointment(
        self, request: activities_pb2.UpdateAppointmentRequest, context: grpc.ServicerContext
    ) -> activities_pb2.Appointment:
        apply = _updating(store.appointments, APPOINTMENT_TIMING, lambda row: row.start_at)
        return self.methods.update(
            context, request, request.appointment, apply=apply, prepare=_prepare_appointment
        )

    def DeleteAppointment(
        self, request: activities_pb2.DeleteAppointmentRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        return self.methods.delete(context, request)

    def ListAppointmentHistory(
        self, request: activities_pb2.ListAppointmentHistoryRequest, context: grpc.ServicerContext
    ) -> history_pb2.ListHistoryResponse:
        return self.methods.history(
            history_pb2.ListHistoryRequest(id=request.id, limit=request.limit, cursor=request.cursor)
        )

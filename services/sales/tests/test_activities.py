"""Tasks and appointments through a real sales gRPC server on SQLite and PostgreSQL: standard methods
with history, etags and events; links to records the caller may read; reminders queued, moved by a
reschedule and cancelled by completion or archiving; scope for another team's rep and another partner."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import grpc
import icalendar
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select

from crm.common.v1 import history_pb2
from crm.sales.v1 import activities_pb2, activities_pb2_grpc, deals_pb2
from crm_platform.access import API_KEY, CallerContext, builtin_rights
from crm_platform.db import utcnow
from crm_platform.grpc_client import CALLER_CONTEXT_METADATA_KEY
from crm_platform.testing.callers import caller_metadata, signed_context
from sales.activities.store import ReminderRow

ADMIN = caller_metadata("admin-1", "admin")
REP = caller_metadata("rep-1", "sales_rep", team_ids=("team-a",))
OTHER_TEAM_REP = caller_metadata("rep-2", "sales_rep", team_ids=("team-b",))
MANAGER_A = caller_metadata("manager-a", "manager", team_ids=("team-a",))
UPDATED = history_pb2.CHANGE_ACTION_UPDATED


def partner(account: str) -> Any:
    return caller_metadata(f"user-of-{account}", "partner", partner_account_id=account)


@pytest.fixture
def sales(shared_sales: Any) -> Any:
    """One server per database kind for the module: each test makes its own records and reads only them."""
    return shared_sales


def _at(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _tasks(sales: Any) -> activities_pb2_grpc.TasksServiceStub:
    return activities_pb2_grpc.TasksServiceStub(sales.channel)


def _appointments(sales: Any) -> activities_pb2_grpc.AppointmentsServiceStub:
    return activities_pb2_grpc.AppointmentsServiceStub(sales.channel)


def _pending(sales: Any, activity_id: str) -> list[tuple[int, datetime]]:
    with sales.runtime.sessions() as session:
        rows = session.execute(
            select(ReminderRow.minutes_before, ReminderRow.due_at)
            .where(ReminderRow.activity_id == activity_id, ReminderRow.sent_at.is_(None))
            .order_by(ReminderRow.minutes_before)
        ).all()
    return [(m, d) for m, d in rows]


def _events(sales: Any, event_type: str, key: str, record_id: str) -> list[dict[str, Any]]:
    return [e for e in sales.outbox(event_type) if e[key] == record_id]


def _code(call: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as refused:
        call()
    return refused.value.code()


def test_a_task_is_created_rescheduled_completed_and_reopened_with_its_reminders(sales: Any) -> None:
    tasks = _tasks(sales)
    due = (utcnow() + timedelta(hours=3)).replace(microsecond=0)
    task = tasks.CreateTask(
        activities_pb2.CreateTaskRequest(
            title="  Call back about the renewal ",
            contact_id="contact-1",
            due_at=_at(due),
            priority=activities_pb2.TASK_PRIORITY_HIGH,
            reminder_minutes_before=[60, 15],
        ),
        metadata=REP,
    )
    assert (task.title, task.status, task.owner_id, task.team_id) == (
        "Call back about the renewal",
        activities_pb2.TASK_STATUS_OPEN,
        "rep-1",
        "team-a",
    )
    assert list(task.reminder_minutes_before) == [15, 60]
    assert _pending(sales, task.id) == [(15, due - timedelta(minutes=15)), (60, due - timedelta(minutes=60))]
    created = _events(sales, "task_created", "task_id", task.id)
    assert [(e["actor_id"], e["contact_id"], e["owner_id"]) for e in created] == [
        ("rep-1", "contact-1", "rep-1")
    ]
    assert "due_at" in created[0]["changed_fields"]

    # Rescheduling moves the pending reminders to the new time.
    later = due + timedelta(days=1)
    update = activities_pb2.UpdateTaskRequest(task=activities_pb2.Task(id=task.id, due_at=_at(later)))
    update.update_mask.paths.append("due_at")
    moved = tasks.UpdateTask(update, metadata=REP)
    assert _pending(sales, task.id) == [
        (15, later - timedelta(minutes=15)),
        (60, later - timedelta(minutes=60)),
    ]
    updated = _events(sales, "task_updated", "task_id", task.id)
    assert [e["changed_fields"] for e in updated] == [["due_at"]]
    stale = activities_pb2.CompleteTaskRequest(id=task.id, etag=task.etag)
    assert _code(lambda: tasks.CompleteTask(stale, metadata=REP)) == grpc.StatusCode.FAILED_PRECONDITION

    # Completing cancels them; completing again answers the task as it is; reopening queues them again.
    done = tasks.CompleteTask(activities_pb2.CompleteTaskRequest(id=task.id, etag=moved.etag), metadata=REP)
    assert (done.status, done.HasField("completed_at")) == (activities_pb2.TASK_STATUS_DONE, True)
    assert _pending(sales, task.id) == []
    again = tasks.CompleteTask(activities_pb2.CompleteTaskRequest(id=task.id), metadata=REP)
    assert again.etag == done.etag
    completed = _events(sales, "task_completed", "task_id", task.id)
    assert [(e["actor_id"], e["changed_fields"]) for e in completed] == [
        ("rep-1", ["status", "completed_at"])
    ]
    reopened = tasks.ReopenTask(activities_pb2.ReopenTaskRequest(id=task.id), metadata=REP)
    assert reopened.status == activities_pb2.TASK_STATUS_OPEN
    assert len(_pending(sales, task.id)) == 2
    history = tasks.ListTaskHistory(activities_pb2.ListTaskHistoryRequest(id=task.id), metadata=REP)
    # Newest first: open again, done, the due time, created.
    assert [e.action for e in history.items] == [UPDATED, UPDATED, UPDATED, history_pb2.CHANGE_ACTION_CREATED]

    # Archiving cancels the pending reminders and leaves the list.
    tasks.DeleteTask(activities_pb2.DeleteTaskRequest(id=task.id), metadata=REP)
    assert _pending(sales, task.id) == []
    listed = tasks.ListTasks(activities_pb2.ListTasksRequest(filter='owner_id = "rep-1"'), metadata=REP)
    assert task.id not in [t.id for t in listed.items]
    assert _events(sales, "task_archived", "task_id", task.id)[0]["actor_id"] == "rep-1"


def test_a_task_is_about_something_the_caller_may_read(sales: Any) -> None:
    tasks = _tasks(sales)
    assert (
        _code(lambda: tasks.CreateTask(activities_pb2.CreateTaskRequest(title="Orphan"), metadata=REP))
        == grpc.StatusCode.INVALID_ARGUMENT
    )
    missing = activities_pb2.CreateTaskRequest(title="On no deal", deal_id="no-such-deal")
    assert _code(lambda: tasks.CreateTask(missing, metadata=REP)) == grpc.StatusCode.INVALID_ARGUMENT
    # A partner links a task to their own account's deal, never to another partner's.
    own = sales.deals.CreateDeal(deals_pb2.CreateDealRequest(title="P1 deal"), metadata=partner("P1"))
    theirs = sales.deals.CreateDeal(deals_pb2.CreateDealRequest(title="P2 deal"), metadata=partner("P2"))
    mine = tasks.CreateTask(
        activities_pb2.CreateTaskRequest(title="Follow up", deal_id=own.id), metadata=partner("P1")
    )
    assert (mine.partner_account_id, mine.owner_id) == ("P1", "user-of-P1")
    foreign = activities_pb2.CreateTaskRequest(title="Poach", deal_id=theirs.id)
    assert (
        _code(lambda: tasks.CreateTask(foreign, metadata=partner("P1"))) == grpc.StatusCode.INVALID_ARGUMENT
    )
    # Clearing every link in an update is refused like a create without one.
    update = activities_pb2.UpdateTaskRequest(task=activities_pb2.Task(id=mine.id))
    update.update_mask.paths.append("deal_id")
    assert _code(lambda: tasks.UpdateTask(update, metadata=partner("P1"))) == grpc.StatusCode.INVALID_ARGUMENT


def test_tasks_and_appointments_stay_in_their_owners_scope(sales: Any) -> None:
    tasks, appointments = _tasks(sales), _appointments(sales)
    start = utcnow() + timedelta(days=2)
    task = tasks.CreateTask(activities_pb2.CreateTaskRequest(title="Team A", contact_id="c-9"), metadata=REP)
    meeting = appointments.CreateAppointment(
        activities_pb2.CreateAppointmentRequest(
            title="Demo", contact_id="c-9", start_at=_at(start), end_at=_at(start + timedelta(hours=1))
        ),
        metadata=partner("P1"),
    )
    get_task = activities_pb2.GetTaskRequest(id=task.id)
    get_meeting = activities_pb2.GetAppointmentRequest(id=meeting.id)
    for caller in (OTHER_TEAM_REP, partner("P1")):
        assert _code(lambda c=caller: tasks.GetTask(get_task, metadata=c)) == grpc.StatusCode.NOT_FOUND
    assert tasks.GetTask(get_task, metadata=MANAGER_A).id == task.id
    assert _code(lambda: appointments.GetAppointment(get_meeting, metadata=partner("P2"))) == (
        grpc.StatusCode.NOT_FOUND
    )
    assert appointments.GetAppointment(get_meeting, metadata=partner("P1")).partner_account_id == "P1"
    listed = appointments.ListAppointments(activities_pb2.ListAppointmentsRequest(), metadata=partner("P2"))
    assert meeting.id not in [a.id for a in listed.items]
    # A rep of team A sees the task but may change only their own records.
    other = caller_metadata("rep-3", "sales_rep", team_ids=("team-a",))
    assert tasks.GetTask(get_task, metadata=other).id == task.id
    complete = activities_pb2.CompleteTaskRequest(id=task.id)
    assert _code(lambda: tasks.CompleteTask(complete, metadata=other)) == grpc.StatusCode.PERMISSION_DENIED


def test_an_appointment_is_rescheduled_with_its_reminders_and_cancelled(sales: Any) -> None:
    appointments = _appointments(sales)
    start = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    backwards = activities_pb2.CreateAppointmentRequest(
        title="Backwards", lead_id="", contact_id="c-1", start_at=_at(start), end_at=_at(start)
    )
    assert _code(lambda: appointments.CreateAppointment(backwards, metadata=REP)) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    meeting = appointments.CreateAppointment(
        activities_pb2.CreateAppointmentRequest(
            title="Demo at Acme",
            contact_id="c-1",
            start_at=_at(start),
            end_at=_at(start + timedelta(hours=1)),
            location="Acme HQ",
            attendees=[activities_pb2.Attendee(name="Ada", email="ada@acme.test", contact_id="c-1")],
            reminder_minutes_before=[30],
        ),
        metadata=REP,
    )
    assert [a.email for a in meeting.attendees] == ["ada@acme.test"]
    assert _pending(sales, meeting.id) == [(30, start - timedelta(minutes=30))]
    assert _events(sales, "appointment_scheduled", "appointment_id", meeting.id)[0]["actor_id"] == "rep-1"

    moved_to = start + timedelta(hours=4)
    update = activities_pb2.UpdateAppointmentRequest(
        appointment=activities_pb2.Appointment(
            id=meeting.id,
            start_at=_at(moved_to),
            end_at=_at(moved_to + timedelta(hours=1)),
            etag=meeting.etag,
        )
    )
    update.update_mask.paths.extend(["start_at", "end_at"])
    appointments.UpdateAppointment(update, metadata=REP)
    assert _pending(sales, meeting.id) == [(30, moved_to - timedelta(minutes=30))]
    rescheduled = _events(sales, "appointment_rescheduled", "appointment_id", meeting.id)
    assert [sorted(e["changed_fields"]) for e in rescheduled] == [["end_at", "start_at"]]
    # A stale etag is refused (412 over REST) and changes nothing.
    assert _code(lambda: appointments.UpdateAppointment(update, metadata=REP)) == (
        grpc.StatusCode.FAILED_PRECONDITION
    )
    retitle = activities_pb2.UpdateAppointmentRequest(
        appointment=activities_pb2.Appointment(id=meeting.id, title="Demo (moved)")
    )
    retitle.update_mask.paths.append("title")
    appointments.UpdateAppointment(retitle, metadata=REP)
    assert [
        e["changed_fields"] for e in _events(sales, "appointment_updated", "appointment_id", meeting.id)
    ] == [["title"]]

    appointments.DeleteAppointment(activities_pb2.DeleteAppointmentRequest(id=meeting.id), metadata=REP)
    assert _pending(sales, meeting.id) == []
    assert len(_events(sales, "appointment_cancelled", "appointment_id", meeting.id)) == 1


def test_a_calendar_feed_renders_its_users_items_until_it_is_deleted(sales: Any) -> None:
    feeds = activities_pb2_grpc.CalendarFeedsServiceStub(sales.channel)
    me = caller_metadata("feed-user", "sales_rep", team_ids=("team-f",))
    soon = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    _tasks(sales).CreateTask(
        activities_pb2.CreateTaskRequest(title="Feed task", contact_id="c-f", due_at=_at(soon)), metadata=me
    )
    _tasks(sales).CreateTask(
        activities_pb2.CreateTaskRequest(title="Someone else's", contact_id="c-f", due_at=_at(soon)),
        metadata=REP,
    )
    feed = feeds.CreateCalendarFeed(activities_pb2.CreateCalendarFeedRequest(name="Phone"), metadata=me)
    assert feed.url == f"/api/v1/calendar-feeds/{feed.token}/calendar.ics"
    listed = feeds.ListCalendarFeeds(activities_pb2.ListCalendarFeedsRequest(), metadata=me).items
    assert [(f.id, f.token) for f in listed] == [(feed.id, "")]  # the token is shown once
    body = feeds.RenderCalendarFeed(
        activities_pb2.RenderCalendarFeedRequest(token=feed.token), metadata=ADMIN
    )
    assert body.content_type.startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(body.data)
    assert [str(e["summary"]) for e in calendar.walk("VEVENT")] == ["Feed task"]
    key = CallerContext(subject="key-1", kind=API_KEY, rights=builtin_rights("admin"))
    integration = ((CALLER_CONTEXT_METADATA_KEY, signed_context(key)),)
    assert _code(
        lambda: feeds.CreateCalendarFeed(activities_pb2.CreateCalendarFeedRequest(), metadata=integration)
    ) == (grpc.StatusCode.PERMISSION_DENIED)
    delete = activities_pb2.DeleteCalendarFeedRequest(id=feed.id)
    assert _code(lambda: feeds.DeleteCalendarFeed(delete, metadata=REP)) == grpc.StatusCode.NOT_FOUND
    feeds.DeleteCalendarFeed(delete, metadata=me)
    render = activities_pb2.RenderCalendarFeedRequest(token=feed.token)
    assert _code(lambda: feeds.RenderCalendarFeed(render, metadata=ADMIN)) == grpc.StatusCode.NOT_FOUND

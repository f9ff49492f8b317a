"""Quotes', tasks' and appointments' references to people follow contacts' merges and erasures (through
the sales service's own subscriptions, on a real server on SQLite and PostgreSQL), and are in the person's
export as far as the caller may read them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from crm.sales.v1 import activities_pb2, activities_pb2_grpc, quotes_pb2, quotes_pb2_grpc
from crm_platform.access.context import acting_as
from crm_platform.db import reading
from crm_platform.testing.callers import caller, caller_metadata
from sales.privacy import PERSONAL_DATA

from .commerce import Commerce, contacts_event

REP = caller_metadata("rep-1", "sales_rep", team_ids=("T1",))
OTHER_TEAMS_REP = caller_metadata("rep-2", "sales_rep", team_ids=("T2",))
SECTIONS = ("quotes", "tasks", "appointments", "deal_registrations")


def _at(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def test_quotes_tasks_and_appointments_follow_merges_and_erasures_and_are_exported(
    shared_sales: Any,
) -> None:
    run = uuid.uuid4().hex[:8]  # the module's tests share one database
    old, new, kept, old_co, new_co = (
        f"{name}-{run}" for name in ("c-old", "c-new", "c-kept", "co-old", "co-new")
    )
    shop = Commerce(shared_sales.channel)
    widget = shop.product(f"CR-{run}")
    listed = shop.price_list([(widget.id, 1000, 1)])
    quotes = quotes_pb2_grpc.QuotesServiceStub(shared_sales.channel)
    tasks = activities_pb2_grpc.TasksServiceStub(shared_sales.channel)
    appointments = activities_pb2_grpc.AppointmentsServiceStub(shared_sales.channel)
    quote = quotes.CreateQuote(
        quotes_pb2.CreateQuoteRequest(
            lines=[quotes_pb2.QuoteLine(product_id=widget.id, quantity=1)],
            price_list_id=listed.id,
            contact_id=old,
            company_id=old_co,
        ),
        metadata=REP,
    )
    task = tasks.CreateTask(activities_pb2.CreateTaskRequest(title="Call", contact_id=old), metadata=REP)
    theirs = tasks.CreateTask(
        activities_pb2.CreateTaskRequest(title="Theirs", contact_id=old), metadata=OTHER_TEAMS_REP
    )
    start = datetime.now(UTC) + timedelta(days=1)
    meeting = appointments.CreateAppointment(
        activities_pb2.CreateAppointmentRequest(
            title="Demo",
            contact_id=kept,  # about someone else, attended by the merged person
            start_at=_at(start),
            end_at=_at(start + timedelta(hours=1)),
            attendees=[
                activities_pb2.Attendee(name="Ada Lovelace", email="ada@example.com", contact_id=old),
                activities_pb2.Attendee(name="Bob", email="bob@example.com", contact_id=kept),
            ],
        ),
        metadata=REP,
    )
    about = appointments.CreateAppointment(
        activities_pb2.CreateAppointmentRequest(
            title="Visit", contact_id=old, start_at=_at(start), end_at=_at(start + timedelta(hours=1))
        ),
        metadata=REP,
    )

    contacts_event(shared_sales, "contact_merged", {"survivor_id": new, "merged_ids": [old]})
    contacts_event(shared_sales, "company_merged", {"survivor_id": new_co, "merged_ids": [old_co]})
    moved = quotes.GetQuote(quotes_pb2.GetQuoteRequest(id=quote.id), metadata=REP)
    assert (moved.contact_id, moved.company_id, moved.owner_id) == (new, new_co, "rep-1")
    assert tasks.GetTask(activities_pb2.GetTaskRequest(id=task.id), metadata=REP).contact_id == new
    assert (
        appointments.GetAppointment(
            activities_pb2.GetAppointmentRequest(id=about.id), metadata=REP
        ).contact_id
        == new
    )
    attended = appointments.GetAppointment(activities_pb2.GetAppointmentRequest(id=meeting.id), metadata=REP)
    assert [(a.name, a.contact_id) for a in attended.attendees] == [("Ada Lovelace", new), ("Bob", kept)]
    assert attended.contact_id == kept and attended.etag != meeting.etag  # a stale If-Match is refused

    def export(who: Any) -> dict[str, list[str]]:
        with acting_as(who), reading(shared_sales.runtime.sessions) as session:
            return {name: [r["id"] for r in PERSONAL_DATA.exporters[name](session, new)] for name in SECTIONS}

    assert export(caller("rep-1", "sales_rep", team_ids=("T1",))) == {
        "quotes": [quote.id],
        "tasks": [task.id],  # not the other team's
        "appointments": [about.id],
        "deal_registrations": [],
    }
    assert export(caller("admin-1", "admin"))["tasks"] == [task.id, theirs.id]

    contacts_event(shared_sales, "contact_erased", {"contact_id": new})
    erased = appointments.GetAppointment(activities_pb2.GetAppointmentRequest(id=meeting.id), metadata=REP)
    assert [(a.name, a.email, a.contact_id) for a in erased.attendees] == [
        ("", "", new),
        ("Bob", "bob@example.com", kept),
    ]
    # The business records keep the tombstone's id.
    assert quotes.GetQuote(quotes_pb2.GetQuoteRequest(id=quote.id), metadata=REP).contact_id == new

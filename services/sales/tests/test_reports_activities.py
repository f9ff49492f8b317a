"""Activities in the sales reports and the customer-360's sales section, through a real sales gRPC server
on SQLite and PostgreSQL: the rep KPI report counts the tasks each owner completed and the appointments
they had in the period, as the caller may read tasks and appointments; the sales summary names the
contact's open task due first and counts the open ones."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from crm.sales.v1 import (
    activities_pb2,
    activities_pb2_grpc,
    reports_pb2,
    reports_pb2_grpc,
    sales_pb2,
    sales_pb2_grpc,
)
from crm_platform.protobuf import timestamp
from crm_platform.testing.callers import caller_metadata


@pytest.fixture
def sales(shared_sales: Any) -> Any:
    return shared_sales


def _in(hours: float) -> Any:
    return timestamp(dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours))


def test_rep_kpis_count_completed_tasks_and_appointments_in_the_callers_scope(sales: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    rep, team = f"rep-{tag}", f"team-{tag}"
    as_rep = caller_metadata(rep, "sales_rep", team_ids=(team,))
    tasks = activities_pb2_grpc.TasksServiceStub(sales.channel)
    made = [
        tasks.CreateTask(
            activities_pb2.CreateTaskRequest(title=f"Call {i}", contact_id=f"c-{tag}", due_at=_in(1)),
            metadata=as_rep,
        )
        for i in range(3)
    ]
    for task in made[:2]:
        tasks.CompleteTask(activities_pb2.CompleteTaskRequest(id=task.id), metadata=as_rep)
    activities_pb2_grpc.AppointmentsServiceStub(sales.channel).CreateAppointment(
        activities_pb2.CreateAppointmentRequest(
            title="Demo", contact_id=f"c-{tag}", start_at=_in(0), end_at=_in(1)
        ),
        metadata=as_rep,
    )
    year = str(dt.datetime.now(dt.UTC).year)
    reports = reports_pb2_grpc.SalesReportsServiceStub(sales.channel)
    mine = {
        r.owner_id: r
        for r in reports.GetRepKpiReport(
            reports_pb2.GetRepKpiReportRequest(period=year), metadata=as_rep
        ).reps
    }
    assert (mine[rep].tasks_completed, mine[rep].appointments, mine[rep].deals_won) == (2, 1, 0)
    stranger = caller_metadata(f"other-{tag}", "sales_rep", team_ids=(f"other-{tag}",))
    theirs = reports.GetRepKpiReport(reports_pb2.GetRepKpiReportRequest(period=year), metadata=stranger)
    assert rep not in {r.owner_id for r in theirs.reps}
    # Another year holds none of it.
    before = reports.GetRepKpiReport(
        reports_pb2.GetRepKpiReportRequest(period=str(int(year) - 1)), metadata=as_rep
    )
    assert rep not in {r.owner_id for r in before.reps}


def test_the_sales_summary_names_the_open_task_due_first(sales: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    contact_id = f"contact-{tag}"
    as_rep = caller_metadata(f"rep-{tag}", "sales_rep", team_ids=(f"team-{tag}",))
    tasks = activities_pb2_grpc.TasksServiceStub(sales.channel)

    def task(title: str, **fields: Any) -> activities_pb2.Task:
        request = activities_pb2.CreateTaskRequest(title=title, contact_id=contact_id, **fields)
        return tasks.CreateTask(request, metadata=as_rep)

    task("No due time")
    later = task("Later", due_at=_in(48))
    sooner = task("Sooner", due_at=_in(2))
    done = task("Done already", due_at=_in(1))
    tasks.CompleteTask(activities_pb2.CompleteTaskRequest(id=done.id), metadata=as_rep)
    summaries = sales_pb2_grpc.SalesServiceStub(sales.channel)
    summary = summaries.GetSalesSummary(
        sales_pb2.GetSalesSummaryRequest(contact_id=contact_id), metadata=as_rep
    )
    assert (summary.open_tasks, summary.next_task.id) == (3, sooner.id)
    tasks.CompleteTask(activities_pb2.CompleteTaskRequest(id=sooner.id), metadata=as_rep)
    summary = summaries.GetSalesSummary(
        sales_pb2.GetSalesSummaryRequest(contact_id=contact_id), metadata=as_rep
    )
    assert (summary.open_tasks, summary.next_task.id) == (2, later.id)
    # Someone who may not read the rep's tasks sees none.
    stranger = caller_metadata(f"other-{tag}", "sales_rep", team_ids=(f"other-{tag}",))
    hidden = summaries.GetSalesSummary(
        sales_pb2.GetSalesSummaryRequest(contact_id=contact_id), metadata=stranger
    )
    assert (hidden.open_tasks, hidden.HasField("next_task")) == (0, False)

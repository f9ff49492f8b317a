"""Tasks, appointments, reminders and calendar feeds (resource types `task` and `appointment`).

    store.py      tables (tasks, appointments, the reminder queue, calendar feeds), contract mapping,
                  list allow-lists
    domain.py     rules: what a record is linked to, an appointment's window, which reminders to queue
    reminders.py  the due-time queue: scheduling in the change's transaction, the worker's claim that
                  publishes reminder_due exactly once
    retention.py  the worker's pruning of reminders sent longer ago than the retention
    events.py     task_* and appointment_* events (outbox, in the change's transaction)
    api.py        TasksService, AppointmentsService
    feeds.py      CalendarFeedsService: secret feed addresses and the feed
    ical.py       the feed's iCalendar rendering

`install(definition)` joins them to the sales service: the servicers, and the worker's reminder claims
and pruning.
"""

from __future__ import annotations

import grpc

from crm.sales.v1 import activities_pb2
from crm.sales.v1 import activities_pb2_grpc as grpc_api
from crm_platform.service import Runtime, ServiceDefinition
from sales.activities import api, feeds, reminders, retention

SERVICES = ("TasksService", "AppointmentsService", "CalendarFeedsService")


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    grpc_api.add_TasksServiceServicer_to_server(api.TasksServicer(runtime.sessions), server)
    grpc_api.add_AppointmentsServiceServicer_to_server(api.AppointmentsServicer(runtime.sessions), server)
    grpc_api.add_CalendarFeedsServiceServicer_to_server(feeds.CalendarFeedsServicer(runtime.sessions), server)
    return [activities_pb2.DESCRIPTOR.services_by_name[name].full_name for name in SERVICES]


def install(definition: ServiceDefinition) -> ServiceDefinition:
    """The activities' servicers, and the worker's reminder claims and pruning (periodic background jobs)."""
    return definition.include(register, background=(reminders.run_claims, retention.run_pruning))

"""Sales' `reminder_due` becomes a notification owned like the task or appointment, so its owner reads it
and a rep of another team or another partner does not."""

from __future__ import annotations

import uuid
from typing import Any

from crm.sales.v1 import activities_pb2
from crm_platform.db import transaction
from crm_platform.events.wire import Event
from crm_platform.protobuf import as_event_payload
from notifications import events

from .conftest import Service, caller

OWNER = caller("rep-1", "sales_rep", ("team-a",))
OTHER_TEAM = caller("rep-2", "sales_rep", ("team-b",))


def _reminder(**fields: Any) -> Event:
    payload = as_event_payload(
        activities_pb2.ReminderDue(reminder_id="r-1", activity_id="t-1", title="Call Ada", **fields)
    )
    payload["at"] = "2026-12-01T09:00:00Z"
    return Event(str(uuid.uuid4()), "reminder_due", "crm/sales", None, 1, payload, {}, "task", "t-1", 1)


def test_a_due_reminder_is_told_to_the_owner_of_its_task(service: Service) -> None:
    with transaction(service.runtime.sessions) as session:
        events.on_reminder_due(
            session, _reminder(activity_type="task", contact_id="c-1", owner_id="rep-1", team_id="team-a")
        )
    [told] = service.list(OWNER)
    assert (told.kind, told.title, told.body, told.contact_id) == (
        "reminder",
        "Task: Call Ada",
        "Call Ada is due at 2026-12-01T09:00:00Z.",
        "c-1",
    )
    assert service.list(OTHER_TEAM) == []

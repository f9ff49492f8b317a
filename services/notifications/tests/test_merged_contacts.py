"""Notifications addressed to merged contacts are re-pointed to the survivor and scoped like it, by the
worker's real consumer over RabbitMQ and a real database: through a chain of merges (A into B, then B into
C) whose events arrive out of order, and again without change when an event is applied twice."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from crm.events.v1 import contacts_pb2 as contact_events
from crm_platform.db import transaction
from crm_platform.events import EventConsumer
from crm_platform.protobuf import as_event_payload
from notifications import events

from .conftest import Service, caller, contact_created, event, wait_for

ADMIN = caller("admin", "admin")
REP_A = caller("rep-a", "sales_rep", ("team-a",))
REP_C = caller("rep-c", "sales_rep", ("team-c",))


def contact_merged(record: str, survivor: str, merged: list[str], **ownership: str) -> dict[str, Any]:
    """A `contact_merged` payload as the contacts service writes it (on `record`'s aggregate)."""
    return as_event_payload(
        contact_events.ContactMerged(
            contact_id=record, survivor_id=survivor, merged_ids=merged, actor_id="admin", **ownership
        )
    )


def test_a_chain_of_merges_arriving_out_of_order_ends_on_the_final_survivor(
    service: Service, consumer: EventConsumer, publish: Callable[..., None]
) -> None:
    tag = uuid.uuid4().hex[:6]
    a, b, c = (f"{name}-{tag}" for name in "abc")
    team_b = {"owner_id": "rep-b", "team_id": "team-b"}
    team_c = {"owner_id": "rep-c", "team_id": "team-c"}
    publish("contact_created", contact_created(b, **team_b), 1)
    publish("contact_created", contact_created(c, **team_c), 1)
    # B into C (on B's and on A's aggregate, naming both) is published before A into B, and A's merges
    # before A's creation: the consumer applies A's events in their order, B's in theirs.
    publish("contact_merged", contact_merged(b, c, [b, a], **team_c), 2)
    publish("contact_merged", contact_merged(a, c, [b, a], **team_c), 3)
    publish("contact_merged", contact_merged(a, b, [a], **team_b), 2)
    publish("contact_created", contact_created(a, owner_id="rep-a", team_id="team-a"), 1)

    def mine() -> dict[str, Any]:
        return {n.id: n for n in service.list(ADMIN) if n.contact_id in (a, b, c)}

    wait_for(lambda: len(mine()) == 3 and all(n.contact_id == c for n in mine().values()), what="all on C")
    assert all((n.owner_id, n.team_id) == ("rep-c", "team-c") for n in mine().values())
    assert {n.id for n in service.list(REP_C) if n.contact_id == c} == set(mine())
    assert not [n for n in service.list(REP_A) if n.contact_id in (a, b, c)]  # A's rep no longer sees it

    # Applying an event again changes nothing.
    before = {n.id: (n.contact_id, n.owner_id, n.team_id) for n in mine().values()}
    again = event("contact_merged", contact_merged(a, c, [b, a], **team_c), 3)
    with transaction(service.runtime.sessions) as session:
        events.MERGES.on_contact_merged(session, again)
    assert {n.id: (n.contact_id, n.owner_id, n.team_id) for n in mine().values()} == before

"""The notifications worker's consumer over a real RabbitMQ vhost and a real database: events published
on `contacts.events` as the contacts service's relay publishes them become notifications owned like their
contact, and a reassignment re-points them, even when it reaches the queue before the creation (the
chassis applies one contact's events in sequence)."""

from __future__ import annotations

import time
from collections.abc import Callable

from crm_platform.events import EventConsumer

from .conftest import Service, caller, contact_created, contact_updated, wait_for

ADMIN = caller("admin", "admin")
REP_A = caller("rep-a", "sales_rep", ("team-a",))
REP_B = caller("rep-b", "sales_rep", ("team-b",))
PARTNER_1 = caller("partner-1-user", "partner", (), "p1")
PARTNER_2 = caller("partner-2-user", "partner", (), "p2")


def test_published_events_give_scoped_notifications_that_follow_a_reassignment(
    service: Service, consumer: EventConsumer, publish: Callable[..., None]
) -> None:
    p1 = {"owner_id": "partner-1-user", "team_id": None, "partner_account_id": "p1"}
    publish("contact_created", contact_created("c-p1", **p1), 1)
    publish("contact_created", contact_created("c-p2", owner_id="partner-2-user", partner_account_id="p2"), 1)
    publish("contact_created", contact_created("c-team-a", owner_id="rep-a", team_id="team-a"), 1)
    # c-moving's reassignment from P1 to P2 reaches the queue before its creation: it waits its turn.
    moving = {
        "partner_account_id": ("p1", "p2"),
        "owner_id": ("partner-1-user", "partner-2-user"),
        "team_id": (None, "team-b"),
    }
    publish("contact_updated", contact_updated("c-moving", moving), 2)
    time.sleep(0.3)
    assert not any(n.contact_id == "c-moving" for n in service.list(ADMIN))
    publish("contact_created", contact_created("c-moving", **p1), 1)

    def settled() -> bool:
        seen = {n.contact_id: n for n in service.list(ADMIN)}
        return len(seen) == 4 and seen["c-moving"].partner_account_id == "p2"

    wait_for(settled, what="four welcomes, c-moving re-pointed to P2")
    assert {n.contact_id for n in service.list(PARTNER_1)} == {"c-p1"}
    assert {n.contact_id for n in service.list(PARTNER_2)} == {"c-p2", "c-moving"}
    assert {n.contact_id for n in service.list(REP_A)} == {"c-team-a"}
    assert {n.contact_id for n in service.list(REP_B)} == {"c-moving"}  # team B's now

    # A later reassignment of c-p1 to team A's rep (P1 keeps the customer) reaches both.
    publish("contact_updated", contact_updated("c-p1", {"owner_id": ("partner-1-user", "rep-a")}), 2)
    publish("contact_updated", contact_updated("c-p1", {"team_id": (None, "team-a")}) | {"version": 3}, 3)
    # Rep A sees c-p1 from the first update on (its owner): wait for the second too (its team).
    wait_for(
        lambda: (
            {n.contact_id for n in service.list(REP_A)} == {"c-team-a", "c-p1"}
            and service.list(ADMIN, "c-p1")[0].team_id == "team-a"
        ),
        what="c-p1 visible to team A, and team A's",
    )
    assert {n.contact_id for n in service.list(PARTNER_1)} == {"c-p1"}
    [welcome] = service.list(ADMIN, "c-p1")
    assert (welcome.owner_id, welcome.team_id, welcome.partner_account_id) == ("rep-a", "team-a", "p1")
    assert welcome.title == "Welcome, Ada!"

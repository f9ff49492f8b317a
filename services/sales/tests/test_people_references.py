"""What deals and leads hold of people follows contacts' merges and erasures, through the sales service's
own subscriptions (sales.main.DEFINITION), and is in the person's export as far as the caller may read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from crm.sales.v1 import deals_pb2, leads_pb2
from crm_platform.access.context import acting_as
from crm_platform.db import reading, transaction
from crm_platform.events.wire import Event
from crm_platform.testing.callers import caller, caller_metadata
from sales.leads.store import Lead
from sales.main import DEFINITION
from sales.privacy import PERSONAL_DATA

REP = caller_metadata("rep-1", "sales_rep", team_ids=("team-a",))


def _handle(sales: Any, event_type: str, data: dict[str, Any]) -> None:
    [handler] = [
        s.handler
        for s in DEFINITION.subscriptions
        if (s.source_service, s.event_type) == ("contacts", event_type)
    ]
    event = Event(f"ev-{event_type}", event_type, "contacts", datetime.now(UTC), 1, data)
    with transaction(sales.runtime.sessions) as session:
        handler(session, event)


def test_deals_follow_merges_and_the_export_and_erasure_see_the_callers_view(sales: Any) -> None:
    deal = sales.deals.CreateDeal(
        deals_pb2.CreateDealRequest(title="Merged", contact_id="c-old", company_id="co-old"), metadata=REP
    )
    lead = sales.leads.CreateLead(
        leads_pb2.CreateLeadRequest(first_name="Ada", last_name="Lovelace", email="ada@example.com"),
        metadata=REP,
    )
    with transaction(sales.runtime.sessions) as session:  # as a conversion to c-old would have left it
        session.execute(update(Lead).where(Lead.id == lead.id).values(converted_contact_id="c-old"))

    _handle(sales, "contact_merged", {"survivor_id": "c-new", "merged_ids": ["c-old"]})
    _handle(sales, "company_merged", {"survivor_id": "co-new", "merged_ids": ["co-old"]})
    moved = sales.deals.GetDeal(deals_pb2.GetDealRequest(id=deal.id), metadata=REP)
    assert (moved.contact_id, moved.company_id, moved.owner_id) == ("c-new", "co-new", "rep-1")

    def export(who: Any) -> dict[str, list[str]]:
        with acting_as(who), reading(sales.runtime.sessions) as session:
            return {
                name: [r["id"] for r in read(session, "c-new")]
                for name, read in PERSONAL_DATA.exporters.items()
                if name in ("deals", "leads")
            }

    assert export(caller("rep-1", "sales_rep", team_ids=("team-a",))) == {
        "deals": [deal.id],
        "leads": [lead.id],
    }
    assert export(caller("rep-2", "sales_rep", team_ids=("team-b",))) == {"deals": [], "leads": []}

    _handle(sales, "contact_erased", {"contact_id": "c-new"})
    erased = sales.leads.GetLead(leads_pb2.GetLeadRequest(id=lead.id), metadata=REP)
    assert (erased.first_name, erased.email, erased.last_name) == ("", "", "(erased)")
    assert sales.deals.GetDeal(deals_pb2.GetDealRequest(id=deal.id), metadata=REP).contact_id == "c-new"

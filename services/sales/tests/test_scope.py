"""Who sees which leads and deals: a partner user only their own account's, a sales rep their team's and
their own, through the chassis' scope clause on get, list, history and the custom methods (a record out of
scope is NOT_FOUND, exactly like one that does not exist)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from crm.sales.v1 import deals_pb2, leads_pb2
from crm_platform.testing.callers import caller_metadata

ADMIN = caller_metadata("admin-1", "admin")
PARTNER_1 = caller_metadata("p1-user", "partner", partner_account_id="pa-1")
PARTNER_2 = caller_metadata("p2-user", "partner", partner_account_id="pa-2")
REP_A = caller_metadata("rep-a", "sales_rep", team_ids=("team-a",))
REP_A2 = caller_metadata("rep-a2", "sales_rep", team_ids=("team-a",))
REP_B = caller_metadata("rep-b", "sales_rep", team_ids=("team-b",))


@pytest.fixture
def sales(shared_sales: Any) -> Any:
    """One server per database kind for the module: each test makes its own records and reads only them."""
    return shared_sales


def _ids(items: Any) -> set[str]:
    return {item.id for item in items}


def _missing(call: Any) -> None:
    with pytest.raises(grpc.RpcError) as error:
        call()
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


def test_partner_users_see_only_their_own_accounts_leads_and_deals(sales: Any) -> None:
    lead = sales.leads.CreateLead(leads_pb2.CreateLeadRequest(last_name="Partner lead"), metadata=PARTNER_1)
    deal = sales.deals.CreateDeal(deals_pb2.CreateDealRequest(title="Registered deal"), metadata=PARTNER_1)
    assert (lead.partner_account_id, deal.partner_account_id) == ("pa-1", "pa-1")
    staff_deal = sales.deals.CreateDeal(deals_pb2.CreateDealRequest(title="Direct deal"), metadata=ADMIN)
    other = sales.deals.CreateDeal(deals_pb2.CreateDealRequest(title="Theirs"), metadata=PARTNER_2)

    listed = sales.deals.ListDeals(deals_pb2.ListDealsRequest(), metadata=PARTNER_1).items
    assert _ids(listed) == {deal.id}
    assert _ids(sales.leads.ListLeads(leads_pb2.ListLeadsRequest(), metadata=PARTNER_2).items) == set()
    everything = _ids(sales.deals.ListDeals(deals_pb2.ListDealsRequest(limit=200), metadata=ADMIN).items)
    assert {deal.id, staff_deal.id, other.id} <= everything
    for deal_id in (staff_deal.id, other.id):
        _missing(lambda d=deal_id: sales.deals.GetDeal(deals_pb2.GetDealRequest(id=d), metadata=PARTNER_1))
        _missing(lambda d=deal_id: sales.deals.WinDeal(deals_pb2.WinDealRequest(id=d), metadata=PARTNER_1))
        _missing(
            lambda d=deal_id: sales.deals.ListDealStageChanges(
                deals_pb2.ListDealStageChangesRequest(deal_id=d), metadata=PARTNER_1
            )
        )
    _missing(lambda: sales.leads.GetLead(leads_pb2.GetLeadRequest(id=lead.id), metadata=PARTNER_2))
    _missing(lambda: sales.leads.ConvertLead(leads_pb2.ConvertLeadRequest(id=lead.id), metadata=PARTNER_2))
    with pytest.raises(grpc.RpcError) as elsewhere:
        sales.deals.CreateDeal(
            deals_pb2.CreateDealRequest(title="For another", partner_account_id="pa-2"), metadata=PARTNER_1
        )
    assert elsewhere.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_rep_sees_their_teams_records_and_changes_only_their_own(sales: Any) -> None:
    mine = sales.deals.CreateDeal(deals_pb2.CreateDealRequest(title="Mine"), metadata=REP_A)
    teammate = sales.deals.CreateDeal(deals_pb2.CreateDealRequest(title="Teammate's"), metadata=REP_A2)
    other_team = sales.deals.CreateDeal(deals_pb2.CreateDealRequest(title="Other team's"), metadata=REP_B)
    lead_b = sales.leads.CreateLead(leads_pb2.CreateLeadRequest(last_name="B's lead"), metadata=REP_B)

    assert _ids(sales.deals.ListDeals(deals_pb2.ListDealsRequest(), metadata=REP_A).items) == {
        mine.id,
        teammate.id,
    }
    assert _ids(sales.leads.ListLeads(leads_pb2.ListLeadsRequest(), metadata=REP_A).items) == set()
    _missing(lambda: sales.deals.GetDeal(deals_pb2.GetDealRequest(id=other_team.id), metadata=REP_A))
    _missing(lambda: sales.leads.GetLead(leads_pb2.GetLeadRequest(id=lead_b.id), metadata=REP_A))
    # A teammate's deal is readable but not the rep's to move (update: own).
    with pytest.raises(grpc.RpcError) as not_mine:
        sales.deals.LoseDeal(deals_pb2.LoseDealRequest(id=teammate.id, reason="x"), metadata=REP_A)
    assert not_mine.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert sales.deals.WinDeal(deals_pb2.WinDealRequest(id=mine.id), metadata=REP_A).status == (
        deals_pb2.DEAL_STATUS_WON
    )

"""Pipelines and deals through a real sales gRPC server on SQLite and PostgreSQL: deals start in their
pipeline's first stage, every stage change is recorded with time and actor, won and lost close a deal for
good, the Kanban list is ordered by stage and place, and a deal reaching the big-deal threshold is
announced once."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import pytest

from crm.common.v1 import money_pb2
from crm.sales.v1 import deals_pb2, sales_pb2, sales_pb2_grpc
from crm_platform.errors import field_errors_from
from crm_platform.testing.callers import caller_metadata

ADMIN = caller_metadata("admin-1", "admin")


@pytest.fixture
def sales(shared_sales: Any) -> Any:
    """One server per database kind for the module: each test makes its own records and reads only them."""
    return shared_sales


def _of(events: list[dict[str, Any]], *deal_ids: str) -> list[dict[str, Any]]:
    return [e for e in events if e["deal_id"] in deal_ids]


REP = caller_metadata("rep-1", "sales_rep", team_ids=("team-a",))


def _pipeline(sales: Any, *names: str) -> deals_pb2.Pipeline:
    stages = [deals_pb2.PipelineStage(name=n, probability=10 * (i + 1)) for i, n in enumerate(names)]
    return sales.pipelines.CreatePipeline(
        deals_pb2.CreatePipelineRequest(name="Renewals", stages=stages), metadata=ADMIN
    )


def _deal(sales: Any, title: str, metadata: Any = ADMIN, **fields: Any) -> deals_pb2.Deal:
    return sales.deals.CreateDeal(deals_pb2.CreateDealRequest(title=title, **fields), metadata=metadata)


def _move(sales: Any, deal_id: str, stage_id: str, position: int | None = None, metadata: Any = REP) -> Any:
    request = deals_pb2.MoveDealRequest(id=deal_id, stage_id=stage_id)
    if position is not None:
        request.position = position
    return sales.deals.MoveDeal(request, metadata=metadata)


def test_a_deal_moves_through_stages_and_each_change_is_recorded_with_time_and_actor(sales: Any) -> None:
    pipeline = _pipeline(sales, "Lead in", "Proposal", "Contract")
    first, proposal, contract = (s.id for s in pipeline.stages)
    deal = _deal(sales, "Acme: 40 seats", REP, pipeline_id=pipeline.id)
    assert (deal.stage_id, deal.probability, deal.status) == (first, 10, deals_pb2.DEAL_STATUS_OPEN)
    moved = _move(sales, deal.id, proposal)
    assert (moved.stage_id, moved.probability) == (proposal, 20)
    _move(sales, deal.id, contract)

    history = sales.deals.ListDealStageChanges(
        deals_pb2.ListDealStageChangesRequest(deal_id=deal.id), metadata=REP
    ).items
    assert [(c.from_stage_id, c.to_stage_id, c.actor_id) for c in history] == [
        ("", first, "rep-1"),
        (first, proposal, "rep-1"),
        (proposal, contract, "rep-1"),
    ]
    times = [c.changed_at.ToDatetime() for c in history]
    assert times == sorted(times)
    changed = _of(sales.outbox("deal_stage_changed"), deal.id)
    assert [(e["from_stage_id"], e["to_stage_id"], e["actor_id"]) for e in changed] == [
        (first, proposal, "rep-1"),
        (proposal, contract, "rep-1"),
    ]
    assert changed[0]["to_stage_name"] == "Proposal" and changed[0]["owner_id"] == "rep-1"
    # A move within the same stage is no stage change.
    _move(sales, deal.id, contract, 0)
    assert len(_of(sales.outbox("deal_stage_changed"), deal.id)) == 2


def test_a_deal_without_a_pipeline_starts_in_the_default_ones_first_stage(sales: Any) -> None:
    default = next(
        p
        for p in sales.pipelines.ListPipelines(deals_pb2.ListPipelinesRequest(), metadata=REP).items
        if p.is_default
    )
    deal = _deal(sales, "Walk-in", REP)
    assert (deal.pipeline_id, deal.stage_id) == (default.id, default.stages[0].id)
    with pytest.raises(grpc.RpcError) as unknown:
        _deal(sales, "Nowhere", REP, pipeline_id=default.id, stage_id="no-such-stage")
    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_won_and_lost_close_a_deal_with_reason_and_competitor(sales: Any) -> None:
    won = _deal(sales, "Won one", REP, amount=money_pb2.Money(amount_minor=129900, currency="EUR"))
    lost = _deal(sales, "Lost one", REP)
    closed = sales.deals.WinDeal(deals_pb2.WinDealRequest(id=won.id, reason="best fit"), metadata=REP)
    assert (closed.status, closed.close_reason, closed.probability) == (
        deals_pb2.DEAL_STATUS_WON,
        "best fit",
        100,
    )
    assert closed.HasField("closed_at")
    with pytest.raises(grpc.RpcError) as no_reason:
        sales.deals.LoseDeal(deals_pb2.LoseDealRequest(id=lost.id), metadata=REP)
    assert no_reason.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    gone = sales.deals.LoseDeal(
        deals_pb2.LoseDealRequest(id=lost.id, reason="price", competitor="Globex"), metadata=REP
    )
    assert (gone.status, gone.close_reason, gone.competitor) == (
        deals_pb2.DEAL_STATUS_LOST,
        "price",
        "Globex",
    )

    for call in (
        lambda: sales.deals.LoseDeal(deals_pb2.LoseDealRequest(id=won.id, reason="x"), metadata=REP),
        lambda: sales.deals.WinDeal(deals_pb2.WinDealRequest(id=lost.id), metadata=REP),
        lambda: _move(sales, won.id, won.stage_id),
    ):
        with pytest.raises(grpc.RpcError) as closed_already:
            call()
        assert closed_already.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert [
        (e["deal_id"], e["status"], e["amount"]) for e in _of(sales.outbox("deal_won"), won.id, lost.id)
    ] == [(won.id, "won", {"amount_minor": 129900, "currency": "EUR"})]
    assert [(e["reason"], e["competitor"]) for e in _of(sales.outbox("deal_lost"), won.id, lost.id)] == [
        ("price", "Globex")
    ]
    history = sales.deals.ListDealHistory(deals_pb2.ListDealHistoryRequest(id=lost.id), metadata=REP).items
    assert {c.field for c in history[0].changes} >= {"status", "close_reason", "competitor"}


def test_the_kanban_list_orders_deals_by_stage_then_place(sales: Any) -> None:
    pipeline = _pipeline(sales, "One", "Two")
    one, two = (s.id for s in pipeline.stages)
    a, _b, c = (_deal(sales, t, REP, pipeline_id=pipeline.id) for t in ("A", "B", "C"))
    d = _deal(sales, "D", REP, pipeline_id=pipeline.id, stage_id=two)
    _move(sales, c.id, one, 0)  # C to the top of One
    _move(sales, a.id, two)  # A to the bottom of Two
    _deal(sales, "elsewhere", REP)  # another pipeline's deal, filtered out
    listed = sales.deals.ListDeals(
        deals_pb2.ListDealsRequest(filter=f'pipeline_id = "{pipeline.id}"', order_by="stage,position"),
        metadata=REP,
    ).items
    assert [x.title for x in listed] == ["C", "B", "D", "A"]
    assert [x.stage_id for x in listed] == [one, one, two, two]
    # Reordering the pipeline's stages reorders the board.
    stages = [
        deals_pb2.PipelineStage(id=two, name="Two", probability=20),
        deals_pb2.PipelineStage(id=one, name="One"),
    ]
    request = deals_pb2.UpdatePipelineRequest(pipeline=deals_pb2.Pipeline(id=pipeline.id, stages=stages))
    request.update_mask.paths.append("stages")
    sales.pipelines.UpdatePipeline(request, metadata=ADMIN)
    listed = sales.deals.ListDeals(
        deals_pb2.ListDealsRequest(filter=f'pipeline_id = "{pipeline.id}"', order_by="stage,position"),
        metadata=REP,
    ).items
    assert [x.title for x in listed] == ["D", "A", "C", "B"]
    assert d.id in {x.id for x in listed}


def test_a_stage_holding_open_deals_cannot_be_removed_and_reps_cannot_change_pipelines(sales: Any) -> None:
    pipeline = _pipeline(sales, "One", "Two")
    one, two = (s.id for s in pipeline.stages)
    _deal(sales, "Stuck", REP, pipeline_id=pipeline.id, stage_id=two)
    request = deals_pb2.UpdatePipelineRequest(
        pipeline=deals_pb2.Pipeline(id=pipeline.id, stages=[deals_pb2.PipelineStage(id=one, name="One")])
    )
    request.update_mask.paths.append("stages")
    with pytest.raises(grpc.RpcError) as in_use:
        sales.pipelines.UpdatePipeline(request, metadata=ADMIN)
    assert in_use.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.RpcError) as rep:
        sales.pipelines.UpdatePipeline(request, metadata=REP)
    assert rep.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as rep_create:
        _pipeline_as(sales, REP)
    assert rep_create.value.code() == grpc.StatusCode.PERMISSION_DENIED


def _pipeline_as(sales: Any, metadata: Any) -> Any:
    stages = [deals_pb2.PipelineStage(name="Only")]
    return sales.pipelines.CreatePipeline(
        deals_pb2.CreatePipelineRequest(name="Mine", stages=stages), metadata=metadata
    )


def test_a_deal_reaching_the_big_deal_threshold_is_announced_once(
    sales: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALES_BIG_DEAL_THRESHOLDS", "EUR=5000000")

    def eur(minor: int) -> money_pb2.Money:
        return money_pb2.Money(amount_minor=minor, currency="EUR")

    big = _deal(sales, "Big from the start", REP, amount=eur(5_000_000))
    small = _deal(sales, "Small", REP, amount=eur(4_999_999))
    usd = money_pb2.Money(amount_minor=9_000_000, currency="USD")
    dollars = _deal(sales, "Dollars", REP, amount=usd)  # a currency without a threshold
    mine = (big.id, small.id, dollars.id)
    assert [e["deal_id"] for e in _of(sales.outbox("big_deal_detected"), *mine)] == [big.id]

    def set_amount(deal_id: str, minor: int) -> None:
        request = deals_pb2.UpdateDealRequest(deal=deals_pb2.Deal(id=deal_id, amount=eur(minor)))
        request.update_mask.paths.append("amount")
        sales.deals.UpdateDeal(request, metadata=REP)

    set_amount(small.id, 4_000_000)  # still small
    set_amount(small.id, 7_500_000)  # crosses: announced
    set_amount(small.id, 8_000_000)  # stays big: no news
    detected = _of(sales.outbox("big_deal_detected"), *mine)
    assert [e["deal_id"] for e in detected] == [big.id, small.id]
    assert detected[1]["amount"] == {"amount_minor": 7_500_000, "currency": "EUR"}
    assert detected[1]["threshold"] == {"amount_minor": 5_000_000, "currency": "EUR"}
    assert (detected[1]["owner_id"], detected[1]["team_id"]) == ("rep-1", "team-a")


def test_bad_money_and_dates_are_refused_naming_the_field(sales: Any) -> None:
    for fields, named in (
        ({"amount": money_pb2.Money(amount_minor=100, currency="eur")}, "amount.currency"),
        ({"amount": money_pb2.Money(amount_minor=-1, currency="EUR")}, "amount.amount_minor"),
        ({"expected_close_date": "2026-02-30"}, "expected_close_date"),
    ):
        with pytest.raises(grpc.RpcError) as bad:
            _deal(sales, "Bad", REP, **fields)
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert named in field_errors_from(bad.value)


def test_the_sales_summary_counts_the_contacts_deals_the_caller_may_read(sales: Any) -> None:
    contact = f"c-{uuid.uuid4()}"

    def eur(minor: int, currency: str = "EUR") -> money_pb2.Money:
        return money_pb2.Money(amount_minor=minor, currency=currency)

    _deal(sales, "One", REP, contact_id=contact, amount=eur(1000))
    _deal(sales, "Two", REP, contact_id=contact, amount=eur(2500))
    _deal(sales, "Dollars", REP, contact_id=contact, amount=eur(700, "USD"))
    won = _deal(sales, "Won", REP, contact_id=contact, amount=eur(9999))
    sales.deals.WinDeal(deals_pb2.WinDealRequest(id=won.id), metadata=REP)
    other_team = caller_metadata("rep-9", "sales_rep", team_ids=("team-z",))
    _deal(sales, "Not yours", other_team, contact_id=contact, amount=eur(50_000))

    summary = sales_pb2_grpc.SalesServiceStub(sales.channel).GetSalesSummary(
        sales_pb2.GetSalesSummaryRequest(contact_id=contact), metadata=REP
    )
    assert (summary.open_deals, summary.won_deals) == (3, 1)
    assert [(m.currency, m.amount_minor) for m in summary.open_pipeline_value] == [
        ("EUR", 3500),
        ("USD", 700),
    ]

"""The funnel's monthly rollup as the deals' writes keep it, through a real sales gRPC server on SQLite and
PostgreSQL: after any sequence of creates, moves, wins, losses, reassignments, amount changes and
deletions (hypothesis, on a clock the test moves across months and quarters), the stored rows equal the
rollup recomputed from the stage history (which test_reports.py checks against a recomputation of the
funnel in Python); reassignment, amount change, close and deletion move a deal's rows between keys;
concurrent moves of deals that share rows lose no count (atomic increments, on PostgreSQL truly
concurrent); a change of the stages' order rebuilds the pipeline's rows.

Deals cannot be reopened (a closed deal is final, sales.deals.domain.require_open): there is no reopen
to test."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from crm.common.v1 import money_pb2
from crm.sales.v1 import deals_pb2, reports_pb2, reports_pb2_grpc
from crm_platform.testing.callers import caller_metadata
from sales.deals import writes
from sales.reports import rollup
from sales.reports.rollup_rules import COUNTERS, Key

ADMIN = caller_metadata("admin-1", "admin")
STAGES = 4


@pytest.fixture
def sales(shared_sales: Any) -> Any:
    return shared_sales


class Clock:
    """The time the deals' writes record (sales.deals.writes.utcnow), moved by the test."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    at = Clock(dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC))
    monkeypatch.setattr(writes, "utcnow", at)
    yield at


def _pipeline(sales: Any, tag: str) -> deals_pb2.Pipeline:
    return sales.pipelines.CreatePipeline(
        deals_pb2.CreatePipelineRequest(
            name=f"Rollup {tag}",
            stages=[deals_pb2.PipelineStage(name=f"S{i}", probability=10 * i) for i in range(STAGES)],
        ),
        metadata=ADMIN,
    )


def _stored_and_recomputed(sales: Any, pipeline_id: str) -> tuple[dict[Key, list[int]], dict[Key, list[int]]]:
    with Session(sales.runtime.engine) as session:
        return rollup.stored(session, pipeline_id), rollup.recompute(session, pipeline_id)


def _eur(amount: int, currency: str = "EUR") -> money_pb2.Money:
    return money_pb2.Money(amount_minor=amount, currency=currency)


def _update(sales: Any, deal_id: str, paths: list[str], **fields: Any) -> deals_pb2.Deal:
    request = deals_pb2.UpdateDealRequest(deal=deals_pb2.Deal(id=deal_id, **fields))
    request.update_mask.paths.extend(paths)
    return sales.deals.UpdateDeal(request, metadata=ADMIN)


def _move(sales: Any, deal_id: str, stage_id: str) -> deals_pb2.Deal:
    return sales.deals.MoveDeal(deals_pb2.MoveDealRequest(id=deal_id, stage_id=stage_id), metadata=ADMIN)


def _figures(row: list[int]) -> dict[str, int]:
    return dict(zip(COUNTERS, row, strict=True))


# --- any sequence of writes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    deal: int  # index into the example's deals
    action: str
    stage: int
    owner: int
    amount: tuple[int, str] | None
    minutes: int  # the clock moves on by this much before the step


step_strategy = st.builds(
    Step,
    deal=st.integers(0, 3),
    action=st.sampled_from(
        ("move", "move", "move", "win", "lose", "reassign", "partner", "amount", "delete", "create")
    ),
    stage=st.integers(0, STAGES - 1),
    owner=st.integers(0, 2),
    amount=st.none() | st.tuples(st.integers(0, 10**7), st.sampled_from(("EUR", "USD"))),
    # Up to 50 days: a sequence crosses months and the quarter.
    minutes=st.integers(0, 60 * 24 * 50),
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step_strategy, min_size=1, max_size=18))
def test_after_any_writes_the_stored_rollup_equals_its_recomputation(
    sales: Any, clock: Clock, steps: list[Step]
) -> None:
    tag = uuid.uuid4().hex[:8]
    clock.now = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)
    pipeline = _pipeline(sales, tag)
    stages = [s.id for s in pipeline.stages]
    owners = [f"rollup-{tag}-{i}" for i in range(3)]
    deals: list[str] = []
    closed: set[str] = set()
    gone: set[str] = set()
    for step in steps:
        clock.now += dt.timedelta(minutes=step.minutes)
        if step.action == "create" or not deals:
            request = deals_pb2.CreateDealRequest(
                title="generated",
                pipeline_id=pipeline.id,
                stage_id=stages[step.stage],
                owner_id=owners[step.owner],
                team_id=f"team-{tag}-{step.owner % 2}",
            )
            if step.amount is not None:
                request.amount.CopyFrom(_eur(*step.amount))
            deals.append(sales.deals.CreateDeal(request, metadata=ADMIN).id)
            continue
        deal_id = deals[step.deal % len(deals)]
        if deal_id in gone:
            continue
        if step.action in ("move", "win", "lose") and deal_id in closed:
            continue  # a closed deal is final
        if step.action == "move":
            _move(sales, deal_id, stages[step.stage])
        elif step.action == "win":
            sales.deals.WinDeal(deals_pb2.WinDealRequest(id=deal_id), metadata=ADMIN)
            closed.add(deal_id)
        elif step.action == "lose":
            sales.deals.LoseDeal(deals_pb2.LoseDealRequest(id=deal_id, reason="price"), metadata=ADMIN)
            closed.add(deal_id)
        elif step.action == "reassign":
            team = f"team-{tag}-{step.owner % 2}"
            _update(sales, deal_id, ["owner_id", "team_id"], owner_id=owners[step.owner], team_id=team)
        elif step.action == "partner":
            partner = f"partner-{tag}-{step.owner}" if step.owner else ""
            _update(sales, deal_id, ["partner_account_id"], partner_account_id=partner)
        elif step.action == "amount":
            amount = {"amount": _eur(*step.amount)} if step.amount else {}
            _update(sales, deal_id, ["amount"], **amount)
        else:
            sales.deals.DeleteDeal(deals_pb2.DeleteDealRequest(id=deal_id), metadata=ADMIN)
            gone.add(deal_id)
    stored, recomputed = _stored_and_recomputed(sales, pipeline.id)
    assert stored == recomputed
    assert all(key.pipeline_id == pipeline.id for key in stored)


# --- what each write does to the rows --------------------------------------------------------------------


def test_reassignment_amount_change_close_and_deletion_move_the_deals_rows(sales: Any, clock: Clock) -> None:
    tag = uuid.uuid4().hex[:8]
    pipeline = _pipeline(sales, tag)
    s0, s1 = pipeline.stages[0].id, pipeline.stages[1].id
    alice, bob, team = f"alice-{tag}", f"bob-{tag}", f"team-{tag}"
    clock.now = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)
    deal = sales.deals.CreateDeal(
        deals_pb2.CreateDealRequest(
            title="Acme", pipeline_id=pipeline.id, amount=_eur(10_000), owner_id=alice, team_id=team
        ),
        metadata=ADMIN,
    )
    clock.now = dt.datetime(2026, 1, 12, 9, 0, tzinfo=dt.UTC)
    _move(sales, deal.id, s1)
    two_days = 2 * 86_400 * 1_000_000

    def rows() -> dict[Key, dict[str, int]]:
        stored, recomputed = _stored_and_recomputed(sales, pipeline.id)
        assert stored == recomputed
        return {key: _figures(figures) for key, figures in stored.items()}

    def key(stage: str, owner: str, currency: str) -> Key:
        return Key(pipeline.id, "2026-01", stage, owner, team, "", currency)

    entered_once = {f"entered_{g}": 1 for g in ("month", "quarter", "year")}
    valued = {f"value_{g}": 10_000 for g in ("month", "quarter", "year")}
    advanced = {f"advanced_{g}": 1 for g in ("month", "quarter", "year")}
    not_advanced = dict.fromkeys(advanced, 0)
    assert rows() == {
        key(s0, alice, "EUR"): {**entered_once, **valued, **advanced, "stays": 1, "stay_micros": two_days},
        key(s1, alice, "EUR"): {**entered_once, **valued, **not_advanced, "stays": 0, "stay_micros": 0},
    }

    # Reassigned: Alice's rows are emptied, Bob's hold the same figures.
    _update(sales, deal.id, ["owner_id"], owner_id=bob)
    assert set(rows()) == {key(s0, bob, "EUR"), key(s1, bob, "EUR")}

    # A new amount in another currency: the rows move to that currency with the new value.
    _update(sales, deal.id, ["amount"], amount=_eur(25_000, "USD"))
    moved = rows()
    assert set(moved) == {key(s0, bob, "USD"), key(s1, bob, "USD")}
    assert moved[key(s1, bob, "USD")]["value_quarter"] == 25_000

    # Won three days later: the last stay ends, and the deal advanced past every stage it entered.
    clock.now = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)
    sales.deals.WinDeal(deals_pb2.WinDealRequest(id=deal.id), metadata=ADMIN)
    last = rows()[key(s1, bob, "USD")]
    assert (last["advanced_month"], last["stays"], last["stay_micros"]) == (1, 1, 3 * 86_400 * 1_000_000)

    # The funnel reads them in the caller's scope: Bob's team sees the deal, another team does not.
    reports = reports_pb2_grpc.SalesReportsServiceStub(sales.channel)

    def funnel(metadata: Any) -> dict[str, tuple[int, int, int]]:
        report = reports.GetFunnelReport(
            reports_pb2.GetFunnelReportRequest(pipeline_id=pipeline.id, period="2026-Q1"), metadata=metadata
        )
        return {s.stage_id: (s.entered, s.advanced, s.completed_stays) for s in report.stages if s.entered}

    assert funnel(caller_metadata(f"x-{tag}", "sales_rep", team_ids=(team,))) == {
        s0: (1, 1, 1),
        s1: (1, 1, 1),
    }
    assert funnel(caller_metadata(f"y-{tag}", "sales_rep", team_ids=(f"other-{tag}",))) == {}

    # Deleted: the deal leaves the funnel.
    sales.deals.DeleteDeal(deals_pb2.DeleteDealRequest(id=deal.id), metadata=ADMIN)
    assert rows() == {}
    assert funnel(ADMIN) == {}


def test_a_new_order_of_stages_rebuilds_the_pipelines_rows(
    sales: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebuilt: list[str] = []

    def rebuild(session: Session, pipeline_id: str | None = None) -> int:
        rebuilt.append(str(pipeline_id))
        return real_rebuild(session, pipeline_id)

    real_rebuild = rollup.rebuild
    monkeypatch.setattr(writes.rollup, "rebuild", rebuild)  # counted, and still run
    tag = uuid.uuid4().hex[:8]
    pipeline = _pipeline(sales, tag)
    s0, s1, s2, s3 = (s.id for s in pipeline.stages)
    clock.now = dt.datetime(2026, 2, 3, 9, 0, tzinfo=dt.UTC)
    deal = sales.deals.CreateDeal(
        deals_pb2.CreateDealRequest(title="Acme", pipeline_id=pipeline.id, stage_id=s2), metadata=ADMIN
    )
    clock.now += dt.timedelta(days=1)
    _move(sales, deal.id, s1)  # back: from S2 the deal did not advance
    reports = reports_pb2_grpc.SalesReportsServiceStub(sales.channel)

    def advanced_from_s2() -> int:
        report = reports.GetFunnelReport(
            reports_pb2.GetFunnelReportRequest(pipeline_id=pipeline.id, period="2026-02"), metadata=ADMIN
        )
        return next(s.advanced for s in report.stages if s.stage_id == s2)

    assert advanced_from_s2() == 0
    # S1 becomes the last stage: moving from S2 to it now advances.
    request = deals_pb2.UpdatePipelineRequest(
        pipeline=deals_pb2.Pipeline(
            id=pipeline.id,
            stages=[
                deals_pb2.PipelineStage(id=i, name=n)
                for i, n in ((s0, "S0"), (s2, "S2"), (s3, "S3"), (s1, "S1"))
            ],
        )
    )
    request.update_mask.paths.append("stages")
    sales.pipelines.UpdatePipeline(request, metadata=ADMIN)
    assert advanced_from_s2() == 1
    stored, recomputed = _stored_and_recomputed(sales, pipeline.id)
    assert stored == recomputed
    assert rebuilt == [pipeline.id]

    # A stage added between two others shifts the later ones' positions but not how the stages compare:
    # nothing to rebuild, and the rows still hold.
    current = sales.pipelines.GetPipeline(deals_pb2.GetPipelineRequest(id=pipeline.id), metadata=ADMIN)
    grown = [deals_pb2.PipelineStage(id=s.id, name=s.name) for s in current.stages]
    grown.insert(1, deals_pb2.PipelineStage(name="Qualified"))
    request = deals_pb2.UpdatePipelineRequest(pipeline=deals_pb2.Pipeline(id=pipeline.id, stages=grown))
    request.update_mask.paths.append("stages")
    sales.pipelines.UpdatePipeline(request, metadata=ADMIN)
    stored, recomputed = _stored_and_recomputed(sales, pipeline.id)
    assert stored == recomputed
    assert rebuilt == [pipeline.id]
    # Removing S2 (no open deal in it) leaves it at its old position, now equal to S3's: rebuilt.
    current = sales.pipelines.GetPipeline(deals_pb2.GetPipelineRequest(id=pipeline.id), metadata=ADMIN)
    kept = [deals_pb2.PipelineStage(id=s.id, name=s.name) for s in current.stages if s.id != s2]
    request = deals_pb2.UpdatePipelineRequest(pipeline=deals_pb2.Pipeline(id=pipeline.id, stages=kept))
    request.update_mask.paths.append("stages")
    sales.pipelines.UpdatePipeline(request, metadata=ADMIN)
    stored, recomputed = _stored_and_recomputed(sales, pipeline.id)
    assert stored == recomputed
    assert rebuilt == [pipeline.id, pipeline.id]


# --- concurrency ------------------------------------------------------------------------------------------


def test_concurrent_moves_sharing_rows_lose_no_count(sales: Any) -> None:
    """Twelve deals of one owner, team and currency, moved and closed at the same time by eight threads:
    on PostgreSQL their increments meet on the same rows concurrently."""
    tag = uuid.uuid4().hex[:8]
    pipeline = _pipeline(sales, tag)
    stages = [s.id for s in pipeline.stages]
    owner, team = f"busy-{tag}", f"team-{tag}"
    deals = [
        sales.deals.CreateDeal(
            deals_pb2.CreateDealRequest(
                title=f"D{i}", pipeline_id=pipeline.id, amount=_eur(100), owner_id=owner, team_id=team
            ),
            metadata=ADMIN,
        ).id
        for i in range(12)
    ]

    def journey(index: int) -> None:
        deal_id = deals[index]
        for stage in (1, 2, 3, 1, 2):
            _move(sales, deal_id, stages[stage])
        if index % 3 == 0:
            _update(sales, deal_id, ["owner_id"], owner_id=f"other-{tag}")
        if index % 2 == 0:
            sales.deals.WinDeal(deals_pb2.WinDealRequest(id=deal_id), metadata=ADMIN)
        else:
            sales.deals.LoseDeal(deals_pb2.LoseDealRequest(id=deal_id, reason="price"), metadata=ADMIN)

    with ThreadPoolExecutor(8) as pool:
        for done in [pool.submit(journey, i) for i in range(len(deals))]:
            try:
                done.result()
            except grpc.RpcError as error:  # pragma: no cover - shown on failure
                pytest.fail(f"a concurrent write failed: {error.code()} {error.details()}")
    stored, recomputed = _stored_and_recomputed(sales, pipeline.id)
    assert stored == recomputed
    # Every deal entered every stage once this month, and each stay but the last six ended.
    month = {s: 0 for s in stages}
    stays = 0
    for key, figures in stored.items():
        month[key.stage_id] += _figures(figures)["entered_month"]
        stays += _figures(figures)["stays"]
    assert month == dict.fromkeys(stages, len(deals))
    assert stays == 6 * len(deals)  # six stage changes each, every stay ended (moved on or closed)

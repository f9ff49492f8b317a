"""Sales reports through a real sales gRPC server on SQLite and PostgreSQL: on generated deals and stage
histories (hypothesis), every figure of the funnel, win rate, forecast and rep KPI reports equals a
straightforward recomputation in Python over the deals each caller may read (an admin, a sales rep
with team read, a partner user). Deals and stage changes are written straight into the store's tables,
since their times are the point, and the funnel's rollup is then backfilled from them (the path of
migration 0008_funnel_rollup); each example gets its own pipeline, owners and teams, so examples do not
see each other's figures."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.orm import Session

from crm.common.v1 import money_pb2
from crm.sales.v1 import deals_pb2, reports_pb2, reports_pb2_grpc
from crm_platform.testing.callers import caller_metadata
from sales.deals.store import Deal, DealStageChange
from sales.reports import rollup
from sales.reports.domain import parse_period, weighted
from sales.reports.quotas import Quota

ADMIN = caller_metadata("admin-1", "admin")
BASE = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
PERIODS = ("2026-01", "2026-Q1", "2026-02", "2026")
CURRENCIES = ("EUR", "USD")
STAGES = 4


@pytest.fixture
def sales(shared_sales: Any) -> Any:
    return shared_sales


def _reports(sales: Any) -> reports_pb2_grpc.SalesReportsServiceStub:
    return reports_pb2_grpc.SalesReportsServiceStub(sales.channel)


def _quotas(sales: Any) -> reports_pb2_grpc.QuotasServiceStub:
    return reports_pb2_grpc.QuotasServiceStub(sales.channel)


# --- generated data -----------------------------------------------------------------------------------


@dataclass
class GenDeal:
    owner: int  # index into the example's owners
    team: int  # index into its teams
    partner: int | None  # index into its partner accounts
    amount: tuple[int, str] | None
    probability: int
    close_in_days: int | None  # expected close date: days after BASE
    journey: list[tuple[int, int]]  # (stage index, minutes after the previous change)
    status: str
    close_after: int  # minutes after the last change (won and lost deals)
    archived: bool
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


deal_strategy = st.builds(
    GenDeal,
    owner=st.integers(0, 2),
    team=st.integers(0, 1),
    partner=st.none() | st.integers(0, 1),
    amount=st.none() | st.tuples(st.integers(0, 10**9), st.sampled_from(CURRENCIES)),
    probability=st.integers(0, 100),
    close_in_days=st.none() | st.integers(0, 240),
    journey=st.lists(
        st.tuples(st.integers(0, STAGES - 1), st.integers(0, 60 * 24 * 50)), min_size=1, max_size=6
    ),
    status=st.sampled_from(("open", "open", "won", "lost")),
    close_after=st.integers(1, 60 * 24 * 40),
    archived=st.sampled_from((False, False, False, True)),
)


@dataclass
class World:
    pipeline: deals_pb2.Pipeline
    owners: list[str]
    teams: list[str]
    partners: list[str]
    deals: list[GenDeal]
    # owner index -> (amount, currency) of its quota for the example's period
    quotas: dict[int, tuple[int, str]]

    def stage(self, index: int) -> deals_pb2.PipelineStage:
        return self.pipeline.stages[index]

    def changes(self, deal: GenDeal) -> list[tuple[str, dt.datetime]]:
        """The deal's stage changes: (stage id, time), in order."""
        out, at = [], BASE
        for stage, minutes in deal.journey:
            at += dt.timedelta(minutes=minutes)
            out.append((self.stage(stage).id, at))
        return out

    def closed_at(self, deal: GenDeal) -> dt.datetime | None:
        if deal.status == "open":
            return None
        return self.changes(deal)[-1][1] + dt.timedelta(minutes=deal.close_after)


def _store(sales: Any, world: World, period: str) -> None:
    deal_rows, change_rows = [], []
    for deal in world.deals:
        changes = world.changes(deal)
        created = changes[0][1]
        closed = world.closed_at(deal)
        last_stage = changes[-1][0]
        deal_rows.append(
            {
                "id": deal.id,
                "title": "generated",
                "pipeline_id": world.pipeline.id,
                "stage_id": last_stage,
                "stage_position": next(s.position for s in world.pipeline.stages if s.id == last_stage),
                "position": 0,
                "status": deal.status,
                "amount_minor": deal.amount[0] if deal.amount else None,
                "currency": deal.amount[1] if deal.amount else None,
                "probability": deal.probability,
                "expected_close_date": (
                    (BASE + dt.timedelta(days=deal.close_in_days)).date().isoformat()
                    if deal.close_in_days is not None
                    else None
                ),
                "closed_at": closed,
                "stage_entered_at": changes[-1][1],
                "version": 1,
                "created_at": created,
                "updated_at": closed or changes[-1][1],
                "archived_at": closed or changes[-1][1] if deal.archived else None,
                "owner_id": world.owners[deal.owner],
                "team_id": world.teams[deal.team],
                "partner_account_id": world.partners[deal.partner] if deal.partner is not None else None,
            }
        )
        previous = None
        for stage_id, at in changes:
            change_rows.append(
                {
                    "deal_id": deal.id,
                    "pipeline_id": world.pipeline.id,
                    "from_stage_id": previous,
                    "to_stage_id": stage_id,
                    "actor_id": "generator",
                    "changed_at": at,
                }
            )
            previous = stage_id
    quota_rows = [
        {
            "id": str(uuid.uuid4()),
            "period": period,
            "amount_minor": amount,
            "currency": currency,
            "version": 1,
            "created_at": BASE,
            "updated_at": BASE,
            "owner_id": world.owners[owner],
            "team_id": world.teams[owner % 2],
        }
        for owner, (amount, currency) in world.quotas.items()
    ]
    with Session(sales.runtime.engine) as session, session.begin():
        if deal_rows:
            session.execute(insert(Deal), deal_rows)
            session.execute(insert(DealStageChange), change_rows)
        if quota_rows:
            session.execute(insert(Quota), quota_rows)
        # Rows written past the deals' writes: the funnel's rollup is backfilled for them, as migration
        # 0008_funnel_rollup does for existing data (the writes' own upkeep: test_reports_rollup.py).
        rollup.rebuild(session, world.pipeline.id)


# --- the callers and what they may read ----------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    metadata: Any
    sees: Any  # (world, deal) -> bool
    sees_quota: Any  # (world, owner index) -> bool


def _viewers(world: World) -> dict[str, Viewer]:
    rep, team = world.owners[0], world.teams[0]
    return {
        "admin": Viewer(ADMIN, lambda w, d: True, lambda w, o: True),
        "rep": Viewer(
            caller_metadata(rep, "sales_rep", team_ids=(team,)),
            lambda w, d: w.owners[d.owner] == rep or w.teams[d.team] == team,
            lambda w, o: w.owners[o] == rep or w.teams[o % 2] == team,
        ),
        "partner": Viewer(
            caller_metadata("partner-user", "partner", partner_account_id=world.partners[0]),
            lambda w, d: d.partner == 0,
            lambda w, o: False,
        ),
    }


def _money(message: Any) -> dict[str, int]:
    return {m.currency: m.amount_minor for m in message}


def _visible(world: World, viewer: Viewer) -> list[GenDeal]:
    return [d for d in world.deals if not d.archived and viewer.sees(world, d)]


# --- the recomputations ---------------------------------------------------------------------------------


def expected_funnel(world: World, viewer: Viewer, period: str) -> dict[str, dict[str, Any]]:
    p = parse_period(period)
    positions = {s.id: s.position for s in world.pipeline.stages}
    out: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"entered": 0, "value": defaultdict(int), "advanced": 0, "stays": 0, "seconds": 0.0}
    )
    for deal in _visible(world, viewer):
        changes = world.changes(deal)
        closed = world.closed_at(deal)
        first: dict[str, int] = {}
        for index, (stage_id, at) in enumerate(changes):
            if not p.start <= at < p.end:
                continue
            first.setdefault(stage_id, index)
            end = changes[index + 1][1] if index + 1 < len(changes) else closed
            if end is not None:
                out[stage_id]["stays"] += 1
                out[stage_id]["seconds"] += (end - at).total_seconds()
        for stage_id, index in first.items():
            figures = out[stage_id]
            figures["entered"] += 1
            if deal.amount:
                figures["value"][deal.amount[1]] += deal.amount[0]
            went_on = any(positions[s] > positions[stage_id] for s, _ in changes[index + 1 :])
            if deal.status == "won" or went_on:
                figures["advanced"] += 1
    return out


def _closed_in(world: World, viewer: Viewer, period: str) -> list[GenDeal]:
    p = parse_period(period)
    return [
        d
        for d in _visible(world, viewer)
        if d.status != "open" and p.start <= world.closed_at(d) < p.end  # type: ignore[operator]
    ]


def expected_forecast(world: World, viewer: Viewer, period: str) -> dict[tuple[str, str, str], list[int]]:
    p = parse_period(period)
    out: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for deal in _visible(world, viewer):
        if deal.status != "open" or not deal.amount or deal.close_in_days is None:
            continue
        day = (BASE + dt.timedelta(days=deal.close_in_days)).date().isoformat()
        if not p.first_day <= day < p.day_after:
            continue
        row = out[(day[:7], world.owners[deal.owner], deal.amount[1])]
        row[0] += 1
        row[1] += deal.amount[0]
        row[2] += deal.amount[0] * deal.probability
    return out


# --- the property ---------------------------------------------------------------------------------------


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    deals=st.lists(deal_strategy, max_size=14),
    period=st.sampled_from(PERIODS),
    quotas=st.dictionaries(
        st.integers(0, 2), st.tuples(st.integers(1, 10**9), st.sampled_from(CURRENCIES)), max_size=3
    ),
)
def test_report_figures_equal_a_recomputation_in_python(
    sales: Any, deals: list[GenDeal], period: str, quotas: dict[int, tuple[int, str]]
) -> None:
    tag = uuid.uuid4().hex[:8]
    for deal in deals:
        deal.id = str(uuid.uuid4())  # hypothesis may hand the same objects to several examples
    pipeline = sales.pipelines.CreatePipeline(
        deals_pb2.CreatePipelineRequest(
            name=f"Generated {tag}",
            stages=[deals_pb2.PipelineStage(name=f"S{i}", probability=10 * i) for i in range(STAGES)],
        ),
        metadata=ADMIN,
    )
    world = World(
        pipeline=pipeline,
        owners=[f"rep-{tag}-{i}" for i in range(3)],
        teams=[f"team-{tag}-{i}" for i in range(2)],
        partners=[f"partner-{tag}-{i}" for i in range(2)],
        deals=deals,
        quotas=quotas,
    )
    _store(sales, world, period)
    reports = _reports(sales)
    for name, viewer in _viewers(world).items():
        # Funnel
        funnel = reports.GetFunnelReport(
            reports_pb2.GetFunnelReportRequest(pipeline_id=pipeline.id, period=period),
            metadata=viewer.metadata,
        )
        assert [s.stage_id for s in funnel.stages] == [s.id for s in pipeline.stages], name
        wanted = expected_funnel(world, viewer, period)
        for stage in funnel.stages:
            want = wanted.get(stage.stage_id)
            if want is None:
                assert (stage.entered, stage.completed_stays, list(stage.entered_value)) == (0, 0, []), name
                continue
            assert stage.entered == want["entered"], name
            assert _money(stage.entered_value) == dict(want["value"]), name
            assert stage.advanced == want["advanced"], name
            assert stage.conversion_rate == (want["advanced"] / want["entered"] if want["entered"] else 0.0)
            assert stage.completed_stays == want["stays"], name
            average = want["seconds"] / want["stays"] if want["stays"] else 0.0
            assert stage.average_seconds_in_stage == pytest.approx(average, abs=0.01), name

        # Win rate and cycle time
        closed = _closed_in(world, viewer, period)
        won = [d for d in closed if d.status == "won"]
        rate = reports.GetWinRateReport(
            reports_pb2.GetWinRateReportRequest(pipeline_id=pipeline.id, period=period),
            metadata=viewer.metadata,
        )
        assert (rate.won, rate.lost) == (len(won), len(closed) - len(won)), name
        assert rate.win_rate == (len(won) / len(closed) if closed else 0.0)
        won_value: dict[str, int] = defaultdict(int)
        for deal in won:
            if deal.amount:
                won_value[deal.amount[1]] += deal.amount[0]
        assert _money(rate.won_value) == dict(won_value), name
        cycles = [(world.closed_at(d) - world.changes(d)[0][1]).total_seconds() for d in won]  # type: ignore[operator]
        assert rate.average_cycle_seconds == pytest.approx(
            sum(cycles) / len(cycles) if cycles else 0.0, abs=0.01
        )

        # Forecast
        forecast = reports.GetForecastReport(
            reports_pb2.GetForecastReportRequest(pipeline_id=pipeline.id, period=period),
            metadata=viewer.metadata,
        )
        rows = expected_forecast(world, viewer, period)
        assert [(r.month, r.owner_id, r.amount.currency) for r in forecast.rows] == sorted(rows), name
        for row in forecast.rows:
            count, amount, times = rows[(row.month, row.owner_id, row.amount.currency)]
            assert (row.deals, row.amount.amount_minor, row.weighted.amount_minor) == (
                count,
                amount,
                weighted(times),
            ), name
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for (_month, _owner, currency), (count, amount, times) in rows.items():
            total = totals[currency]
            total[0], total[1], total[2] = total[0] + count, total[1] + amount, total[2] + times
        assert {
            t.amount.currency: (t.deals, t.amount.amount_minor, t.weighted.amount_minor)
            for t in forecast.totals
        } == {c: (n, a, weighted(w)) for c, (n, a, w) in totals.items()}, name

        # Rep KPIs (the report covers every pipeline: compare this example's owners only)
        kpis = reports.GetRepKpiReport(
            reports_pb2.GetRepKpiReportRequest(period=period), metadata=viewer.metadata
        )
        mine = {r.owner_id: r for r in kpis.reps if r.owner_id in world.owners}
        expected: dict[str, dict[str, Any]] = {}
        for deal in closed:
            rep = expected.setdefault(
                world.owners[deal.owner], {"won": 0, "lost": 0, "revenue": defaultdict(int)}
            )
            rep["won" if deal.status == "won" else "lost"] += 1
            if deal.status == "won" and deal.amount:
                rep["revenue"][deal.amount[1]] += deal.amount[0]
        for owner, quota in world.quotas.items():
            if viewer.sees_quota(world, owner):
                rep = expected.setdefault(
                    world.owners[owner], {"won": 0, "lost": 0, "revenue": defaultdict(int)}
                )
                rep["quota"] = quota
        assert sorted(mine) == sorted(expected), name
        for owner, want in expected.items():
            got = mine[owner]
            assert (got.deals_won, got.deals_lost, _money(got.revenue)) == (
                want["won"],
                want["lost"],
                dict(want["revenue"]),
            ), name
            if "quota" in want:
                amount, currency = want["quota"]
                assert (got.quota.amount_minor, got.quota.currency) == (amount, currency), name
                assert got.quota_attainment == want["revenue"].get(currency, 0) / amount
            else:
                assert not got.HasField("quota"), name


# --- the rest of the contract ---------------------------------------------------------------------------


def test_a_caller_without_the_deal_read_right_gets_no_report(sales: Any) -> None:
    agent = caller_metadata("agent-1", "support_agent", team_ids=("support",))
    with pytest.raises(grpc.RpcError) as refused:
        _reports(sales).GetForecastReport(reports_pb2.GetForecastReportRequest(period="2026"), metadata=agent)
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED


def test_an_unknown_pipeline_or_a_malformed_period_is_refused(sales: Any) -> None:
    reports = _reports(sales)
    with pytest.raises(grpc.RpcError) as missing:
        reports.GetFunnelReport(
            reports_pb2.GetFunnelReportRequest(pipeline_id="no-such", period="2026"), metadata=ADMIN
        )
    assert missing.value.code() is grpc.StatusCode.NOT_FOUND
    for period in ("2026-13", "2026-Q5", "26", "", "0000", "9999-Q4"):
        with pytest.raises(grpc.RpcError) as bad:
            reports.GetWinRateReport(reports_pb2.GetWinRateReportRequest(period=period), metadata=ADMIN)
        assert bad.value.code() is grpc.StatusCode.INVALID_ARGUMENT, period


def test_quotas_one_per_owner_and_period_set_by_managers_read_by_the_team(sales: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    team, rep = f"team-{tag}", f"rep-{tag}"
    manager = caller_metadata(f"manager-{tag}", "manager", team_ids=(team,))
    quotas = _quotas(sales)
    eur = money_pb2.Money(amount_minor=5_000_000, currency="EUR")
    made = quotas.CreateQuota(
        reports_pb2.CreateQuotaRequest(
            period="2026-Q1", amount=eur, owner_id=rep, team_id=team, notes="Agreed in January"
        ),
        metadata=manager,
    )
    assert (made.owner_id, made.team_id, made.amount.amount_minor) == (rep, team, 5_000_000)
    assert made.notes == "Agreed in January"
    with pytest.raises(grpc.RpcError) as twice:
        quotas.CreateQuota(
            reports_pb2.CreateQuotaRequest(period="2026-Q1", amount=eur, owner_id=rep, team_id=team),
            metadata=manager,
        )
    assert twice.value.code() is grpc.StatusCode.ALREADY_EXISTS
    # The rep reads the team's quotas but may not set their own.
    as_rep = caller_metadata(rep, "sales_rep", team_ids=(team,))
    assert quotas.GetQuota(reports_pb2.GetQuotaRequest(id=made.id), metadata=as_rep).id == made.id
    with pytest.raises(grpc.RpcError) as refused:
        quotas.CreateQuota(reports_pb2.CreateQuotaRequest(period="2026-Q2", amount=eur), metadata=as_rep)
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    # Another team's rep does not see it at all.
    stranger = caller_metadata(f"other-{tag}", "sales_rep", team_ids=(f"other-{tag}",))
    with pytest.raises(grpc.RpcError) as hidden:
        quotas.GetQuota(reports_pb2.GetQuotaRequest(id=made.id), metadata=stranger)
    assert hidden.value.code() is grpc.StatusCode.NOT_FOUND
    # Changed, then deleted: a new quota for the same period may be set.
    changed = quotas.UpdateQuota(
        reports_pb2.UpdateQuotaRequest(
            quota=reports_pb2.Quota(
                id=made.id, etag=made.etag, amount=money_pb2.Money(amount_minor=6_000_000, currency="EUR")
            ),
            update_mask={"paths": ["amount"]},
        ),
        metadata=manager,
    )
    assert changed.amount.amount_minor == 6_000_000
    history = quotas.ListQuotaHistory(reports_pb2.ListQuotaHistoryRequest(id=made.id), metadata=manager)
    assert len(history.items) == 2
    quotas.DeleteQuota(reports_pb2.DeleteQuotaRequest(id=made.id), metadata=manager)
    listed = quotas.ListQuotas(
        reports_pb2.ListQuotasRequest(filter=f'owner_id = "{rep}"'), metadata=manager
    ).items
    assert listed == []
    again = quotas.CreateQuota(
        reports_pb2.CreateQuotaRequest(period="2026-Q1", amount=eur, owner_id=rep, team_id=team),
        metadata=manager,
    )
    assert again.id != made.id
    for amount in (money_pb2.Money(), money_pb2.Money(amount_minor=0, currency="EUR")):
        with pytest.raises(grpc.RpcError) as empty:
            quotas.CreateQuota(
                reports_pb2.CreateQuotaRequest(period="2027", amount=amount, owner_id=rep, team_id=team),
                metadata=manager,
            )
        assert empty.value.code() is grpc.StatusCode.INVALID_ARGUMENT

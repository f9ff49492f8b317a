"""The reports' queries: each one grouped statement over the deals tables (sales.deals.store), or for
the funnel over their monthly rollup (sales.reports.rollup), narrowed by the caller's read scope on
deals (and on quotas for the KPI report's quotas), answering counts and sums per currency that api.py
turns into the contract. Archived (deleted) deals are left out.

The indexes that serve them are declared here, beside the queries they are for (they attach to the deals
tables; migration 0006_reports_quotas creates them).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Float, Index, cast, func, select
from sqlalchemy.orm import Session

from crm_platform.access import CallerContext, Level, OwnershipColumns, scope_clause
from sales.activities.store import DONE, AppointmentRow, TaskRow, appointments, tasks
from sales.deals.domain import LOST, OPEN, WON
from sales.deals.store import Deal, DealStageChange, PipelineStage, deals
from sales.reports.domain import Period
from sales.reports.quotas import Quota, quotas
from sales.reports.rollup import FunnelMonth
from sales.reports.rollup_rules import month_of
from sales.reports.sql import seconds_between

# A pipeline's stage changes in a period (what the funnel read before its rollup; kept for reading
# a period's stage history).
Index(
    "ix_deal_stage_changes_period",
    DealStageChange.pipeline_id,
    DealStageChange.changed_at,
    DealStageChange.deal_id,
    DealStageChange.to_stage_id,
)
# The funnel's rows carry the deals' ownership: the deal read scope applies to them as to deals.
ROLLUP_SCOPE = OwnershipColumns(FunnelMonth.owner_id, FunnelMonth.team_id, FunnelMonth.partner_account_id)
# Deals closed in a period (win rate, rep KPIs).
Index("ix_deals_closed_at", Deal.closed_at)
# Open deals by expected close date (forecast).
Index("ix_deals_status_close_date", Deal.status, Deal.expected_close_date)

Money = dict[str, int]  # currency -> amount_minor


def _add(money: Money, currency: str | None, amount: int | None) -> None:
    if currency:
        money[currency] = money.get(currency, 0) + int(amount or 0)


# --- funnel -------------------------------------------------------------------------------------------


@dataclass
class StageFigures:
    entered: int = 0
    entered_value: Money = field(default_factory=dict)
    advanced: int = 0
    completed_stays: int = 0
    seconds_in_stage: float = 0.0


def funnel(
    session: Session, pipeline_id: str, period: Period, caller: CallerContext | None
) -> dict[str, StageFigures]:
    """stage id -> its figures (stages without any are absent): sums of the rollup's months of the
    period (sales.reports.rollup), in the caller's read scope on deals (the rows carry the deals'
    owner, team and partner account)."""
    row = FunnelMonth
    grain = period.grain
    entered, value, advanced = (getattr(row, f"{name}_{grain}") for name in ("entered", "value", "advanced"))
    query = (
        select(
            row.stage_id,
            row.currency,
            func.sum(entered),
            func.sum(value),
            func.sum(advanced),
            func.sum(row.stays),
            # As a float: a year of microseconds may not fit a 64-bit sum; the figure is an average.
            func.sum(cast(row.stay_micros, Float)),
        )
        .where(
            row.pipeline_id == pipeline_id,
            row.month >= month_of(period.start),
            row.month < month_of(period.end),
        )
        .group_by(row.stage_id, row.currency)
    )
    if caller is not None:
        query = query.where(scope_clause(caller, deals.resource_type, "read", ROLLUP_SCOPE))
    figures: dict[str, StageFigures] = defaultdict(StageFigures)
    for stage_id, currency, count, total, went_on, stays, micros in session.execute(query):
        count, stays = int(count or 0), int(stays or 0)
        if not count and not stays:
            continue  # rows emptied by reassignments, or entries that were not the first in the period
        one = figures[stage_id]
        if count:
            one.entered += count
            one.advanced += int(went_on or 0)
            _add(one.entered_value, currency, int(total or 0))
        one.completed_stays += stays
        one.seconds_in_stage += float(micros or 0.0) / 1_000_000
    return dict(figures)


def stages_of(session: Session, pipeline_id: str) -> list[PipelineStage]:
    """Every stage the pipeline has had, live ones first, each in order."""
    return list(
        session.scalars(
            select(PipelineStage)
            .where(PipelineStage.pipeline_id == pipeline_id)
            .order_by(PipelineStage.archived_at.is_not(None), PipelineStage.position, PipelineStage.id)
        )
    )


# --- win rate -----------------------------------------------------------------------------------------


@dataclass
class Closed:
    won: int = 0
    lost: int = 0
    won_value: Money = field(default_factory=dict)
    won_cycle_seconds: float = 0.0


def _closed_in(period: Period, pipeline_id: str) -> list[object]:
    clauses: list[object] = [
        Deal.closed_at >= period.start,
        Deal.closed_at < period.end,
        Deal.status.in_((WON, LOST)),
        Deal.archived_at.is_(None),
    ]
    if pipeline_id:
        clauses.append(Deal.pipeline_id == pipeline_id)
    return clauses


def win_rate(session: Session, pipeline_id: str, period: Period, caller: CallerContext | None) -> Closed:
    query = deals.scoped(
        select(
            Deal.status,
            Deal.currency,
            func.count(),
            func.sum(Deal.amount_minor),
            func.sum(seconds_between(Deal.created_at, Deal.closed_at)),
        )
        .where(*_closed_in(period, pipeline_id))
        .group_by(Deal.status, Deal.currency),
        caller,
    )
    out = Closed()
    for status, currency, count, total, seconds in session.execute(query):
        if status == WON:
            out.won += count
            out.won_cycle_seconds += float(seconds or 0.0)
            _add(out.won_value, currency, total)
        else:
            out.lost += count
    return out


# --- forecast -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastGroup:
    month: str
    owner_id: str
    currency: str
    deals: int
    amount_minor: int
    amount_times_probability: int


def forecast(
    session: Session, pipeline_id: str, period: Period, caller: CallerContext | None
) -> list[ForecastGroup]:
    """Open deals with an amount expected to close in the period, by month, owner and currency."""
    month = func.substr(Deal.expected_close_date, 1, 7)
    clauses = [
        Deal.status == OPEN,
        Deal.expected_close_date >= period.first_day,
        Deal.expected_close_date < period.day_after,
        Deal.currency.is_not(None),
        Deal.archived_at.is_(None),
    ]
    if pipeline_id:
        clauses.append(Deal.pipeline_id == pipeline_id)
    query = deals.scoped(
        select(
            month,
            Deal.owner_id,
            Deal.currency,
            func.count(),
            func.sum(Deal.amount_minor),
            func.sum(Deal.amount_minor * Deal.probability),
        )
        .where(*clauses)
        .group_by(month, Deal.owner_id, Deal.currency),
        caller,
    )
    groups = [
        ForecastGroup(m, owner or "", currency, count, int(total or 0), int(weighted or 0))
        for m, owner, currency, count, total, weighted in session.execute(query)
    ]
    return sorted(groups, key=lambda g: (g.month, g.owner_id, g.currency))


# --- rep KPIs -----------------------------------------------------------------------------------------


@dataclass
class Rep:
    won: int = 0
    lost: int = 0
    revenue: Money = field(default_factory=dict)
    quota: tuple[int, str] | None = None  # (amount_minor, currency)
    tasks_completed: int = 0
    appointments: int = 0


def _may_read(caller: CallerContext | None, resource_type: str) -> bool:
    return caller is None or caller.level(resource_type, "read") is not Level.NONE


def rep_kpis(session: Session, period: Period, caller: CallerContext | None) -> dict[str, Rep]:
    """owner id ("" for none) -> figures: deals closed, tasks completed and appointments in the period,
    and the quota set for exactly this period; each as the caller may read its type (none without the
    right: the report is about deals first)."""
    reps: dict[str, Rep] = defaultdict(Rep)
    closed = deals.scoped(
        select(Deal.owner_id, Deal.status, Deal.currency, func.count(), func.sum(Deal.amount_minor))
        .where(*_closed_in(period, ""))
        .group_by(Deal.owner_id, Deal.status, Deal.currency),
        caller,
    )
    for owner, status, currency, count, total in session.execute(closed):
        rep = reps[owner or ""]
        if status == WON:
            rep.won += count
            _add(rep.revenue, currency, total)
        else:
            rep.lost += count
    if _may_read(caller, tasks.resource_type):
        done = tasks.scoped(
            select(TaskRow.owner_id, func.count())
            .where(
                TaskRow.status == DONE,
                TaskRow.completed_at >= period.start,
                TaskRow.completed_at < period.end,
                TaskRow.archived_at.is_(None),
            )
            .group_by(TaskRow.owner_id),
            caller,
        )
        for owner, count in session.execute(done):
            reps[owner or ""].tasks_completed = count
    if _may_read(caller, appointments.resource_type):
        held = appointments.scoped(
            select(AppointmentRow.owner_id, func.count())
            .where(
                AppointmentRow.start_at >= period.start,
                AppointmentRow.start_at < period.end,
                AppointmentRow.archived_at.is_(None),
            )
            .group_by(AppointmentRow.owner_id),
            caller,
        )
        for owner, count in session.execute(held):
            reps[owner or ""].appointments = count
    if _may_read(caller, quotas.resource_type):
        set_for = quotas.scoped(
            select(Quota.owner_id, Quota.amount_minor, Quota.currency).where(
                Quota.period == period.name, Quota.archived_at.is_(None)
            ),
            caller,
        )
        for owner, amount, currency in session.execute(set_for):
            reps[owner or ""].quota = (int(amount), currency)
    return dict(reps)

"""The reports' queries: each one grouped statement over the deals tables (sales.deals.store), narrowed
by the caller's read scope on deals (and on quotas for the KPI report's quotas), answering counts and
sums per currency that api.py turns into the contract. Archived (deleted) deals are left out.

The indexes that serve them are declared here, beside the queries they are for (they attach to the deals
tables; migration 0006_reports_quotas creates them).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Index, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from crm_platform.access import CallerContext, Level
from sales.activities.store import DONE, AppointmentRow, TaskRow, appointments, tasks
from sales.deals.domain import LOST, OPEN, WON
from sales.deals.store import Deal, DealStageChange, PipelineStage, deals
from sales.reports.domain import Period
from sales.reports.quotas import Quota, quotas
from sales.reports.sql import seconds_between

# A pipeline's stage changes in a period (the funnel), with what the funnel reads from each row.
Index(
    "ix_deal_stage_changes_period",
    DealStageChange.pipeline_id,
    DealStageChange.changed_at,
    DealStageChange.deal_id,
    DealStageChange.to_stage_id,
)
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
    """stage id -> its figures (stages without any are absent)."""
    change = DealStageChange
    in_period = and_(
        change.pipeline_id == pipeline_id,
        change.changed_at >= period.start,
        change.changed_at < period.end,
        Deal.archived_at.is_(None),
    )
    # Each deal once per stage it entered in the period, with its first entry there.
    entries = deals.scoped(
        select(
            change.to_stage_id.label("stage_id"),
            change.deal_id.label("deal_id"),
            func.min(change.id).label("first_id"),
        )
        .join(Deal, Deal.id == change.deal_id)
        .where(in_period)
        .group_by(change.to_stage_id, change.deal_id),
        caller,
    ).subquery()
    later, later_stage = aliased(DealStageChange), aliased(PipelineStage)
    went_on = exists(
        select(later.id)
        .join(later_stage, later_stage.id == later.to_stage_id)
        .where(
            later.deal_id == entries.c.deal_id,
            later.id > entries.c.first_id,
            later_stage.position > PipelineStage.position,
        )
    )
    entered = (
        select(
            entries.c.stage_id,
            Deal.currency,
            func.count(),
            func.sum(Deal.amount_minor),
            func.sum(case((or_(Deal.status == WON, went_on), 1), else_=0)),
        )
        .join(Deal, Deal.id == entries.c.deal_id)
        .join(PipelineStage, PipelineStage.id == entries.c.stage_id)
        .group_by(entries.c.stage_id, Deal.currency)
    )
    figures: dict[str, StageFigures] = defaultdict(StageFigures)
    for stage_id, currency, count, total, advanced in session.execute(entered):
        one = figures[stage_id]
        one.entered += count
        one.advanced += int(advanced or 0)
        _add(one.entered_value, currency, total)

    # Every stay that began in the period ends at the deal's next stage change, or when it was closed.
    following = aliased(DealStageChange)
    next_change = (
        select(func.min(following.changed_at))
        .where(following.deal_id == change.deal_id, following.id > change.id)
        .scalar_subquery()
    )
    ended = func.coalesce(next_change, Deal.closed_at)
    stays = deals.scoped(
        select(change.to_stage_id, func.count(ended), func.sum(seconds_between(change.changed_at, ended)))
        .join(Deal, Deal.id == change.deal_id)
        .where(in_period)
        .group_by(change.to_stage_id),
        caller,
    )
    for stage_id, count, seconds in session.execute(stays):
        if count:
            one = figures[stage_id]
            one.completed_stays, one.seconds_in_stage = count, float(seconds or 0.0)
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

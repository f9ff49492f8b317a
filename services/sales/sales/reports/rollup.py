"""The funnel's monthly rollup (`funnel_months`): its table, keeping it in step with the deals' writes,
and rebuilding it from the stage history (backfill, and after a pipeline's stages change order).

What a row holds and why per month: sales.reports.rollup_rules. The deals' writes (sales.deals.writes:
create, move, close, update, archive) call `before` and `settle` in their own transaction: the deal's
contribution before and after the write is computed from its stage history and the difference is
added to the rows as increments (`INSERT .. ON CONFLICT DO UPDATE SET n = n + excluded.n`), never
read-modify-written, so concurrent writes to deals sharing a row cannot lose each other's counts; rows
are touched in key order, so two writes cannot deadlock on them.

Whether a deal `advanced` past a stage depends on the stages' current positions, so a pipeline whose
positions change is rebuilt in that transaction. On PostgreSQL the rebuild holds an exclusive
transaction-level advisory lock on the pipeline and every deal write a shared one, taken before it reads
positions and history: a write either committed before the rebuild reads (and is in it) or waits for
it (and computes with the new positions). SQLite serialises writers already.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlalchemy import BigInteger, Integer, String, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from sales.deals.domain import WON
from sales.deals.store import Deal, DealStageChange, Pipeline, PipelineStage
from sales.reports.rollup_rules import (
    COUNTERS,
    KEY_COLUMNS,
    DealState,
    Entry,
    Figures,
    Key,
    add_into,
    contribution,
    difference,
    nonzero,
)
from sales.store import Base

BATCH = 5_000


class FunnelMonth(Base):
    """One row per pipeline, month, stage, owner, team, partner account and currency (the primary key,
    pipeline and month first: the funnel's index range, and the rebuild's)."""

    __tablename__ = "funnel_months"

    pipeline_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    stage_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    partner_account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    entered_month: Mapped[int] = mapped_column(Integer)
    entered_quarter: Mapped[int] = mapped_column(Integer)
    entered_year: Mapped[int] = mapped_column(Integer)
    value_month: Mapped[int] = mapped_column(BigInteger)
    value_quarter: Mapped[int] = mapped_column(BigInteger)
    value_year: Mapped[int] = mapped_column(BigInteger)
    advanced_month: Mapped[int] = mapped_column(Integer)
    advanced_quarter: Mapped[int] = mapped_column(Integer)
    advanced_year: Mapped[int] = mapped_column(Integer)
    stays: Mapped[int] = mapped_column(Integer)
    # Integer microseconds, so that adding and taking away a deal's stays is exact.
    stay_micros: Mapped[int] = mapped_column(BigInteger)


TABLE = FunnelMonth.__table__


def state_of(deal: Any, archived: bool | None = None) -> DealState:
    """`deal` (ORM or Core row) as the funnel reads it (`archived` given: the row need not carry
    `archived_at`)."""
    return DealState(
        owner_id=deal.owner_id,
        team_id=deal.team_id,
        partner_account_id=deal.partner_account_id,
        currency=deal.currency,
        amount_minor=deal.amount_minor,
        won=deal.status == WON,
        closed_at=deal.closed_at,
        archived=deal.archived_at is not None if archived is None else archived,
    )


# --- locks --------------------------------------------------------------------------------------------


def _lock_key(pipeline_id: str) -> int:
    """A stable signed 64-bit advisory lock key for the pipeline's rollup."""
    digest = hashlib.sha256(f"funnel_months:{pipeline_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _hold(session: Session, pipeline_id: str, *, exclusive: bool = False) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: writers are serialised (BEGIN IMMEDIATE)
    lock = func.pg_advisory_xact_lock if exclusive else func.pg_advisory_xact_lock_shared
    session.execute(select(lock(_lock_key(pipeline_id))))


# --- one deal -----------------------------------------------------------------------------------------


def stage_positions(session: Session, pipeline_id: str) -> dict[str, int]:
    """Every stage the pipeline has had (removed ones keep their last position) -> position."""
    rows = session.execute(
        select(PipelineStage.id, PipelineStage.position).where(PipelineStage.pipeline_id == pipeline_id)
    )
    return {stage_id: position for stage_id, position in rows}


def _history(session: Session, deal_id: str) -> tuple[list[Entry], dict[str, int]]:
    """The deal's stage changes in the order they were recorded, and the current positions of the
    stages they entered (all `contribution` needs: one indexed read)."""
    change = DealStageChange
    rows = session.execute(
        select(change.pipeline_id, change.to_stage_id, change.changed_at, PipelineStage.position)
        .outerjoin(PipelineStage, PipelineStage.id == change.to_stage_id)
        .where(change.deal_id == deal_id)
        .order_by(change.id)
    ).all()
    positions = {stage_id: position for _, stage_id, _, position in rows if position is not None}
    return [Entry(pipeline_id, stage_id, at) for pipeline_id, stage_id, at, _ in rows], positions


@dataclass(frozen=True)
class Before:
    """A deal's rows of the rollup before a write."""

    figures: dict[Key, Figures]


def before(session: Session, deal: Deal, state: DealState | None = None) -> Before:
    """The deal's contribution as it stands (or as it stood with `state`, for a hook that runs after
    the write). Takes the pipeline's shared lock first (see the module's docstring)."""
    _hold(session, deal.pipeline_id)
    entries, positions = _history(session, deal.id)
    return Before(contribution(entries, positions, state or state_of(deal)))


def settle(session: Session, deal: Deal, was: Before | None) -> None:
    """Adds the difference between the deal's contribution now and `was` (None: a new deal)."""
    if was is None:
        _hold(session, deal.pipeline_id)
    session.flush()  # the write's new stage change, if any, is read back with its id
    entries, positions = _history(session, deal.id)
    now = contribution(entries, positions, state_of(deal))
    add(session, difference(was.figures if was is not None else {}, now))


def add(session: Session, delta: Mapping[Key, Figures]) -> None:
    """Adds `delta` to the rows (created at need), as atomic increments, in key order."""
    if not delta:
        return
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    upsert = module.insert(TABLE)
    statement = upsert.on_conflict_do_update(
        index_elements=list(KEY_COLUMNS),
        set_={name: TABLE.c[name] + upsert.excluded[name] for name in COUNTERS},
    )
    session.execute(statement, [_row(key, delta[key]) for key in sorted(delta)])


def _row(key: Key, figures: Figures) -> dict[str, Any]:
    return {**key._asdict(), **dict(zip(COUNTERS, figures, strict=True))}


# --- every deal ---------------------------------------------------------------------------------------


def recompute(session: Session, pipeline_id: str | None = None) -> dict[Key, Figures]:
    """The rollup's rows (of one pipeline, or all) computed afresh from the stage history, the deals and
    the stages' positions; streamed in batches (the bulk path of the same `contribution`)."""
    positions = {
        stage_id: position
        for stage_id, position in session.execute(select(PipelineStage.id, PipelineStage.position))
    }
    change = DealStageChange
    query = (
        select(
            change.deal_id,
            change.pipeline_id,
            change.to_stage_id,
            change.changed_at,
            Deal.owner_id,
            Deal.team_id,
            Deal.partner_account_id,
            Deal.currency,
            Deal.amount_minor,
            Deal.status,
            Deal.closed_at,
        )
        .join(Deal, Deal.id == change.deal_id)
        .where(Deal.archived_at.is_(None))
        .order_by(change.deal_id, change.id)
    )
    if pipeline_id is not None:
        query = query.where(change.pipeline_id == pipeline_id)
    total: dict[Key, Figures] = {}
    rows = session.execute(query.execution_options(yield_per=BATCH))
    for _deal_id, history in groupby(rows, key=lambda row: row.deal_id):
        changes = list(history)
        entries = [Entry(r.pipeline_id, r.to_stage_id, r.changed_at) for r in changes]
        # Archived deals are left out by the query.
        add_into(total, contribution(entries, positions, state_of(changes[0], archived=False)))
    return nonzero(total.items())


def stored(session: Session, pipeline_id: str | None = None) -> dict[Key, Figures]:
    """The rollup's rows as they are (rows of zeros left out)."""
    query = select(*(TABLE.c[name] for name in (*KEY_COLUMNS, *COUNTERS)))
    if pipeline_id is not None:
        query = query.where(TABLE.c.pipeline_id == pipeline_id)
    return nonzero(
        (Key(*row[: len(KEY_COLUMNS)]), [int(v) for v in row[len(KEY_COLUMNS) :]])
        for row in session.execute(query)
    )


def rebuild(session: Session, pipeline_id: str | None = None) -> int:
    """Replaces the rollup's rows (of one pipeline, or all) with `recompute`'s; answers how many rows
    it wrote. The backfill of migration 0008_funnel_rollup, and what a change of a pipeline's stage
    positions runs."""
    if pipeline_id is not None:
        _hold(session, pipeline_id, exclusive=True)
    else:
        for each in session.scalars(select(Pipeline.id).order_by(Pipeline.id)):
            _hold(session, each, exclusive=True)
    rows = recompute(session, pipeline_id)
    wipe = delete(TABLE)
    if pipeline_id is not None:
        wipe = wipe.where(TABLE.c.pipeline_id == pipeline_id)
    session.execute(wipe)
    for batch in _batches(sorted(rows.items())):
        session.execute(TABLE.insert(), [_row(key, figures) for key, figures in batch])
    return len(rows)


def _batches(items: list[tuple[Key, Figures]]) -> Iterator[list[tuple[Key, Figures]]]:
    for first in range(0, len(items), BATCH):
        yield items[first : first + BATCH]

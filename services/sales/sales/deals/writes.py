"""The deal writes that are no standard method, shared by the deals API and lead conversion: creating a
deal in a stage (with its first stage-history row and its events), moving it, closing it. Each runs in
the caller's transaction and records history and events there.

Every write that changes what the funnel reads of a deal (its stage history, status and close, owner,
team, partner account, amount, archiving, a pipeline's stage order) keeps the funnel's monthly rollup in
step in the same transaction (sales.reports.rollup: the deal's contribution before and after, the
difference added as increments)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crm_platform.access import Ownership
from crm_platform.db import utcnow
from crm_platform.resources import Action, Change, FieldChange, compare_and_set, record_change
from crm_platform.resources.history import jsonable
from sales.deals import domain, events, store
from sales.deals.domain import OPEN, Amount
from sales.reports import rollup
from sales.reports.rollup_rules import DealState, same_order


@dataclass(frozen=True)
class NewDeal:
    title: str
    pipeline_id: str = ""
    stage_id: str = ""
    amount: Amount | None = None
    probability: int | None = None
    expected_close_date: str = ""
    contact_id: str = ""
    company_id: str = ""
    description: str = ""
    lead_id: str = ""


def add_deal(
    session: Session, new: NewDeal, actor_id: str, ownership: Ownership | None
) -> Change[store.Deal]:
    """Inserts the deal in its stage (the default pipeline's first stage unless named), records that it
    entered the stage, and nothing else: the caller announces it (`announce_created`)."""
    pipeline = (
        store.get_pipeline(session, new.pipeline_id) if new.pipeline_id else store.default_pipeline(session)
    )
    stage = store.stage_of(session, pipeline.id, new.stage_id, "stage_id")
    now = utcnow()
    deal = store.Deal(
        id=str(uuid.uuid4()),
        title=new.title,
        pipeline_id=pipeline.id,
        stage_id=stage.id,
        stage_position=stage.position,
        position=domain.insert_position(store.positions_in(session, stage.id), None),
        status=OPEN,
        amount_minor=new.amount.amount_minor if new.amount else None,
        currency=new.amount.currency if new.amount else None,
        probability=stage.probability if new.probability is None else new.probability,
        expected_close_date=new.expected_close_date or None,
        contact_id=new.contact_id or None,
        company_id=new.company_id or None,
        description=new.description or None,
        lead_id=new.lead_id or None,
        stage_entered_at=now,
        created_at=now,
        updated_at=now,
    )
    if ownership is not None:
        deal.owner_id, deal.team_id = ownership.owner_id, ownership.team_id
        deal.partner_account_id = ownership.partner_account_id
    change = store.deals.create(session, deal, actor_id)
    store.record_stage_change(session, deal, None, actor_id, now)
    rollup.settle(session, deal, None)
    return change


def announce_created(session: Session, change: Change[store.Deal]) -> None:
    """deal_created, and big_deal_detected when its amount reaches its currency's threshold."""
    events.record_deal_created(session, change)
    deal = change.row
    threshold = domain.big_deal_threshold(store.amount_of(deal), domain.BIG_DEAL_THRESHOLDS.get())
    if threshold is not None:
        events.record_big_deal(session, deal, threshold, change.actor_id, deal.created_at)


# The updatable fields the funnel reads (the rollup's key and its values).
_FUNNEL_FIELDS = frozenset({"amount", "owner_id", "team_id", "partner_account_id"})


def _state_before(deal: store.Deal, changes: list[FieldChange]) -> DealState:
    """The deal's funnel state before an update, from the update's old values."""
    state = rollup.state_of(deal)
    old = {c.field: c.old for c in changes}
    if "amount" in old:
        amount = old["amount"]
        known = isinstance(amount, dict) and bool(amount.get("currency"))
        state = replace(
            state,
            amount_minor=int(amount.get("amount_minor", 0)) if known else None,  # type: ignore[union-attr]
            currency=str(amount["currency"]) if known else None,  # type: ignore[index]
        )
    ownership = ("owner_id", "team_id", "partner_account_id")
    return replace(state, **{name: old[name] or None for name in ownership if name in old})


def announce_updated(session: Session, change: Change[store.Deal]) -> None:
    """deal_updated, and big_deal_detected when the change took the amount to its threshold; a change
    of amount or ownership moves the deal's funnel rows between the rollup's keys."""
    if _FUNNEL_FIELDS.intersection(change.changed_fields):
        deal = change.row
        rollup.settle(session, deal, rollup.before(session, deal, _state_before(deal, change.changes)))
    events.record_deal_updated(session, change)
    before = next((c.old for c in change.changes if c.field == "amount"), None)
    if before is None and "amount" not in change.changed_fields:
        return
    old = Amount(int(before["amount_minor"]), str(before["currency"])) if isinstance(before, dict) else None
    deal = change.row
    crossed = domain.becomes_big(old, store.amount_of(deal), domain.BIG_DEAL_THRESHOLDS.get())
    if crossed is not None:
        events.record_big_deal(session, deal, crossed, change.actor_id, deal.updated_at)


def _write(session: Session, deal: store.Deal, values: dict[str, Any], actor_id: str, now: datetime) -> None:
    """Compare-and-set the deal's columns and record their history (old -> new)."""
    changes = [
        FieldChange(name, jsonable(getattr(deal, name)), jsonable(value))
        for name, value in values.items()
        if getattr(deal, name) != value and name not in ("updated_at", "stage_position")
    ]
    compare_and_set(session, store.Deal, deal.id, deal.version, {**values, "updated_at": now})
    record_change(
        session, store.deals.resource_type, deal.id, Action.UPDATED, actor_id, changes, occurred_at=now
    )


def move_deal(session: Session, deal: store.Deal, stage_id: str, position: int | None, actor_id: str) -> None:
    """Moves an open deal (locked by the caller) to a stage of its pipeline and/or a place in it; a new
    stage is recorded in the stage history, takes the stage's probability and is announced."""
    domain.require_open(deal.status, deal.id, "moved")
    stage = store.stage_of(session, deal.pipeline_id, stage_id, "stage_id")
    now = utcnow()
    taken = [p for p in store.positions_in(session, stage.id)]
    target = domain.insert_position(taken, position)
    if position is not None:
        store.make_room(session, stage.id, target, deal.id)
    from_stage = deal.stage_id
    values: dict[str, Any] = {"position": target}
    if stage.id != from_stage:
        values.update(
            stage_id=stage.id,
            stage_position=stage.position,
            probability=stage.probability,
            stage_entered_at=now,
        )
    was = rollup.before(session, deal) if stage.id != from_stage else None
    _write(session, deal, values, actor_id, now)
    if was is not None:
        store.record_stage_change(session, deal, from_stage, actor_id, now)
        rollup.settle(session, deal, was)
        events.record_stage_changed(session, deal, from_stage, stage, actor_id, now)


def close_deal(
    session: Session, deal: store.Deal, status: str, reason: str, competitor: str, actor_id: str
) -> None:
    """Closes an open deal (locked by the caller) as won or lost, and announces it."""
    domain.require_open(deal.status, deal.id, status)
    now = utcnow()
    values = {
        "status": status,
        "close_reason": reason or None,
        "competitor": competitor or None,
        "closed_at": now,
        "probability": 100 if status == domain.WON else 0,
    }
    was = rollup.before(session, deal)
    _write(session, deal, values, actor_id, now)
    rollup.settle(session, deal, was)  # the last stay ends; a won deal advanced past every stage
    events.record_deal_closed(session, deal, actor_id)


def announce_archived(session: Session, change: Change[store.Deal]) -> str:
    """deal_archived; the deal leaves the funnel (its rollup rows are taken away)."""
    deal = change.row
    rollup.settle(session, deal, rollup.before(session, deal, replace(rollup.state_of(deal), archived=False)))
    return events.record_deal_archived(session, change)


def change_pipeline(session: Session, pipeline_id: str, **changes: Any) -> store.Pipeline:
    """store.change_pipeline (same arguments); when two of the pipeline's stages no longer compare the
    same way by position, its funnel rollup is rebuilt (whether a deal advanced past a stage is read from
    the stages' current order). Renaming stages, removing the last one, or adding stages to a pipeline
    without removed ones rebuilds nothing."""
    store.get_pipeline(session, pipeline_id, for_update=True)  # positions read under the pipeline's lock
    positions = rollup.stage_positions(session, pipeline_id)
    pipeline = store.change_pipeline(session, pipeline_id, **changes)
    if not same_order(positions, rollup.stage_positions(session, pipeline_id)):
        rollup.rebuild(session, pipeline_id)
    return pipeline

"""Events about deals, published by sales on `sales.events` (aggregate type "deal"): deal_created,
deal_updated, deal_stage_changed, deal_won, deal_lost, deal_archived and big_deal_detected. Each is
written to the outbox in the transaction of the change it announces, with the actor, the deal's contact
(its timeline) and ownership (who may see it)."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.message import Message
from sqlalchemy.orm import Session

from crm.common.v1 import money_pb2
from crm.events.v1 import deals_pb2
from crm_platform.protobuf import timestamp
from crm_platform.resources import Change
from crm_platform.resources.history import field_changes
from sales.deals.store import Deal, PipelineStage, to_message
from sales.events import record

DEAL_CREATED = "deal_created"
DEAL_UPDATED = "deal_updated"
DEAL_STAGE_CHANGED = "deal_stage_changed"
DEAL_WON = "deal_won"
DEAL_LOST = "deal_lost"
DEAL_ARCHIVED = "deal_archived"
BIG_DEAL_DETECTED = "big_deal_detected"

AGGREGATE = "deal"


def _record(session: Session, event_type: str, deal: Deal, payload: Message) -> str:
    return record(session, event_type, AGGREGATE, deal.id, payload)


def _ownership(deal: Deal) -> dict[str, str]:
    return {
        "contact_id": deal.contact_id or "",
        "owner_id": deal.owner_id or "",
        "team_id": deal.team_id or "",
        "partner_account_id": deal.partner_account_id or "",
    }


def record_deal_created(session: Session, change: Change[Deal]) -> str:
    deal = change.row
    message = to_message(deal)
    return _record(
        session,
        DEAL_CREATED,
        deal,
        deals_pb2.DealCreated(
            deal_id=deal.id,
            title=deal.title,
            pipeline_id=deal.pipeline_id,
            stage_id=deal.stage_id,
            amount=message.amount if message.HasField("amount") else None,
            probability=deal.probability,
            expected_close_date=deal.expected_close_date or "",
            company_id=deal.company_id or "",
            lead_id=deal.lead_id or "",
            actor_id=change.actor_id,
            version=change.version,
            created_at=timestamp(deal.created_at),
            **_ownership(deal),
        ),
    )


def record_deal_updated(session: Session, change: Change[Deal]) -> str:
    deal = change.row
    return _record(
        session,
        DEAL_UPDATED,
        deal,
        deals_pb2.DealUpdated(
            deal_id=deal.id,
            actor_id=change.actor_id,
            version=change.version,
            changed_fields=change.changed_fields,
            changes=field_changes(change.changes),
            updated_at=timestamp(deal.updated_at),
            **_ownership(deal),
        ),
    )


def record_deal_archived(session: Session, change: Change[Deal]) -> str:
    deal = change.row
    assert deal.archived_at is not None
    return _record(
        session,
        DEAL_ARCHIVED,
        deal,
        deals_pb2.DealArchived(
            deal_id=deal.id,
            actor_id=change.actor_id,
            version=change.version,
            archived_at=timestamp(deal.archived_at),
        ),
    )


def record_stage_changed(
    session: Session, deal: Deal, from_stage_id: str, stage: PipelineStage, actor_id: str, at: datetime
) -> str:
    return _record(
        session,
        DEAL_STAGE_CHANGED,
        deal,
        deals_pb2.DealStageChanged(
            deal_id=deal.id,
            title=deal.title,
            pipeline_id=deal.pipeline_id,
            from_stage_id=from_stage_id,
            to_stage_id=stage.id,
            to_stage_name=stage.name,
            probability=deal.probability,
            actor_id=actor_id,
            version=deal.version,
            changed_at=timestamp(at),
            **_ownership(deal),
        ),
    )


def record_deal_closed(session: Session, deal: Deal, actor_id: str) -> str:
    """deal_won or deal_lost, by the deal's status."""
    assert deal.closed_at is not None
    message = to_message(deal)
    return _record(
        session,
        DEAL_WON if deal.status == "won" else DEAL_LOST,
        deal,
        deals_pb2.DealClosed(
            deal_id=deal.id,
            title=deal.title,
            status=deal.status,
            reason=deal.close_reason or "",
            competitor=deal.competitor or "",
            amount=message.amount if message.HasField("amount") else None,
            stage_id=deal.stage_id,
            actor_id=actor_id,
            version=deal.version,
            closed_at=timestamp(deal.closed_at),
            **_ownership(deal),
        ),
    )


def record_big_deal(session: Session, deal: Deal, threshold: int, actor_id: str, at: datetime) -> str:
    assert deal.currency is not None and deal.amount_minor is not None
    return _record(
        session,
        BIG_DEAL_DETECTED,
        deal,
        deals_pb2.BigDealDetected(
            deal_id=deal.id,
            title=deal.title,
            amount=money_pb2.Money(amount_minor=deal.amount_minor, currency=deal.currency),
            threshold=money_pb2.Money(amount_minor=threshold, currency=deal.currency),
            actor_id=actor_id,
            detected_at=timestamp(at),
            **_ownership(deal),
        ),
    )

"""Events about orders, written to the outbox in the change's transaction (aggregate `order`, so one
order's events are consumed in order): order_placed and order_status_changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crm.sales.v1 import orders_pb2
from crm_platform.events import record_event
from crm_platform.protobuf import as_event_payload, timestamp
from crm_platform.resources import Change
from sales.money import money
from sales.orders.store import orders
from sales.store import messaging

SOURCE = "sales"
AGGREGATE = "order"
ORDER_PLACED = "order_placed"
ORDER_STATUS_CHANGED = "order_status_changed"


def record(
    session: Session, event_type: str, aggregate_id: str, payload: Any, aggregate_type: str = AGGREGATE
) -> str:
    """`payload` (a contract message) to the outbox as `event_type` of the aggregate (an order unless
    told): the one place sales events are recorded."""
    return record_event(
        session,
        messaging,
        source=SOURCE,
        event_type=event_type,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        payload=as_event_payload(payload),
    )


def record_order_placed(session: Session, change: Change[Any]) -> str:
    row = change.row
    return record(
        session,
        ORDER_PLACED,
        row.id,
        orders_pb2.OrderPlaced(
            order_id=row.id,
            number=row.number,
            contact_id=row.contact_id or "",
            company_id=row.company_id or "",
            owner_id=row.owner_id or "",
            team_id=row.team_id or "",
            partner_account_id=row.partner_account_id or "",
            placed_at=timestamp(row.placed_at),
            total=money(row.total_minor, row.currency),
            actor_id=change.actor_id,
            version=change.version,
            order=orders.to_message(row),
        ),
    )


def record_status_changed(session: Session, row: Any, before: str, change: Change[Any]) -> str:
    return record(
        session,
        ORDER_STATUS_CHANGED,
        row.id,
        orders_pb2.OrderStatusChanged(
            order_id=row.id,
            number=row.number,
            contact_id=row.contact_id or "",
            owner_id=row.owner_id or "",
            team_id=row.team_id or "",
            partner_account_id=row.partner_account_id or "",
            from_status=before,
            to_status=row.status,
            actor_id=change.actor_id,
            version=change.version,
            changed_fields=change.changed_fields,
            changed_at=timestamp(row.updated_at),
        ),
    )

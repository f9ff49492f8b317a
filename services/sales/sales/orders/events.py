"""Events about orders, written to the outbox in the change's transaction (aggregate `order`, so one
order's events are consumed in order): order_placed, order_status_changed, and order_approval_requested
and order_approval_decided for an order beyond its partner's usual terms."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crm.sales.v1 import orders_pb2
from crm_platform.events import record_event
from crm_platform.protobuf import as_event_payload, timestamp
from crm_platform.resources import Change
from sales import approvals
from sales.money import money
from sales.orders.store import approval_of, orders
from sales.store import messaging

SOURCE = "sales"
AGGREGATE = "order"
ORDER_PLACED = "order_placed"
ORDER_STATUS_CHANGED = "order_status_changed"
ORDER_APPROVAL_REQUESTED = "order_approval_requested"
ORDER_APPROVAL_DECIDED = "order_approval_decided"


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


PARTIES = ("contact_id", "company_id", "owner_id", "team_id", "partner_account_id")
CONTACT_AND_OWNERSHIP = ("contact_id", "owner_id", "team_id", "partner_account_id")


def parties(row: Any, names: tuple[str, ...] = PARTIES) -> dict[str, str]:
    """Who a sales record is about and whose it is, as an event's top-level fields ("" for none): what
    the contacts timeline files an entry under and whom it shows it to."""
    return {name: getattr(row, name) or "" for name in names}


def document_change(change: Change[Any], reason: str = "") -> dict[str, Any]:
    """The fields every change event of a priced document (a quote, an order's approval) has, by these
    names: its number and parties, status and total after the change, actor, version, changed fields,
    when, and the reason given."""
    row = change.row
    return {
        "number": row.number,
        **parties(row),
        "status": row.status,
        "total": money(row.total_minor, row.currency),
        "actor_id": change.actor_id,
        "version": change.version,
        "changed_fields": change.changed_fields,
        "occurred_at": timestamp(row.updated_at),
        "reason": reason,
    }


def record_order_placed(session: Session, change: Change[Any]) -> str:
    """order_placed, and order_approval_requested when the order waits for an approval."""
    row = change.row
    placed = record(
        session,
        ORDER_PLACED,
        row.id,
        orders_pb2.OrderPlaced(
            order_id=row.id,
            number=row.number,
            **parties(row),
            placed_at=timestamp(row.placed_at),
            total=money(row.total_minor, row.currency),
            actor_id=change.actor_id,
            version=change.version,
            order=orders.to_message(row),
        ),
    )
    if row.approval_state == approvals.PENDING:
        record_approval_event(session, ORDER_APPROVAL_REQUESTED, change)
    return placed


def record_approval_event(session: Session, event_type: str, change: Change[Any], reason: str = "") -> str:
    row = change.row
    return record(
        session,
        event_type,
        row.id,
        orders_pb2.OrderApprovalEvent(
            order_id=row.id, approval=approval_of(row), **document_change(change, reason)
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
            **parties(row, CONTACT_AND_OWNERSHIP),
            from_status=before,
            to_status=row.status,
            actor_id=change.actor_id,
            version=change.version,
            changed_fields=change.changed_fields,
            changed_at=timestamp(row.updated_at),
        ),
    )

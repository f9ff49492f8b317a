"""Events about quotes, written to the outbox in the change's transaction (aggregate `quote`, so one
quote's events are consumed in order). Every type carries the same payload, `crm.sales.v1.QuoteEvent`:
who the quote is for, its status and total after the change, the actor and the changed fields."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crm.sales.v1 import quotes_pb2
from crm_platform.resources import Change
from sales import approvals
from sales.orders.events import document_change, record
from sales.quotes.store import approval_of

AGGREGATE = "quote"
QUOTE_CREATED = "quote_created"
QUOTE_UPDATED = "quote_updated"
QUOTE_SENT = "quote_sent"
QUOTE_ACCEPTED = "quote_accepted"
QUOTE_REJECTED = "quote_rejected"
QUOTE_EXPIRED = "quote_expired"
APPROVAL_REQUESTED = "approval_requested"
APPROVAL_DECIDED = "approval_decided"


def record_quote_event(session: Session, event_type: str, change: Change[Any], reason: str = "") -> str:
    row = change.row
    return record(
        session,
        event_type,
        row.id,
        quotes_pb2.QuoteEvent(
            quote_id=row.id,
            deal_id=row.deal_id or "",
            order_id=row.order_id or "",
            approval=approval_of(row),
            **document_change(change, reason),
        ),
        aggregate_type=AGGREGATE,
    )


def record_created(session: Session, change: Change[Any]) -> None:
    """quote_created, and approval_requested when its discount is over its author's allowance."""
    record_quote_event(session, QUOTE_CREATED, change)
    if change.row.approval_state == approvals.PENDING:
        record_quote_event(session, APPROVAL_REQUESTED, change)


def record_updated(session: Session, change: Change[Any]) -> None:
    """quote_updated, and approval_requested when the change asked for one anew."""
    record_quote_event(session, QUOTE_UPDATED, change)
    if "approval" in change.changed_fields and change.row.approval_state == approvals.PENDING:
        record_quote_event(session, APPROVAL_REQUESTED, change)

"""Events about payments, in the change's transaction: payment_received (aggregate `payment`) and
payment_overdue (aggregate `order`: it is a fact about the order, ordered with its other events)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.sales.v1 import payments_pb2
from crm_platform.protobuf import timestamp
from crm_platform.resources import Change
from sales.money import money
from sales.orders.events import CONTACT_AND_OWNERSHIP, parties, record
from sales.orders.store import Order
from sales.payments.store import payments

PAYMENT_RECEIVED = "payment_received"
PAYMENT_OVERDUE = "payment_overdue"


def _contact_of(session: Session, row: Any) -> str:
    """Whose payment it is: the contact it names, else the customer of the orders it was applied to (the
    first of them that names one), so a payment recorded against a partner account's orders reaches
    their customer's timeline too."""
    if row.contact_id:
        return str(row.contact_id)
    order_ids = [allocation["order_id"] for allocation in row.allocations or []]
    if not order_ids:
        return ""
    named = select(Order.id, Order.contact_id).where(Order.id.in_(order_ids), Order.contact_id.is_not(None))
    contacts = {order_id: contact_id for order_id, contact_id in session.execute(named)}
    return next((contacts[order_id] for order_id in order_ids if order_id in contacts), "")


def record_payment_received(session: Session, change: Change[Any]) -> str:
    row = change.row
    allocations = row.allocations or []
    payload = payments_pb2.PaymentReceived(
        payment_id=row.id,
        contact_id=_contact_of(session, row),
        owner_id=row.owner_id or "",
        team_id=row.team_id or "",
        partner_account_id=row.partner_account_id or "",
        amount=money(row.amount_minor, row.currency),
        order_id=allocations[0]["order_id"] if allocations else "",
        received_at=timestamp(row.created_at),
        actor_id=change.actor_id,
        version=change.version,
        payment=payments.to_message(row),
    )
    return record(session, PAYMENT_RECEIVED, row.id, payload, aggregate_type="payment")


def record_payment_overdue(session: Session, order: Any) -> str:
    return record(
        session,
        PAYMENT_OVERDUE,
        order.id,
        payments_pb2.PaymentOverdue(
            order_id=order.id,
            number=order.number,
            **parties(order, CONTACT_AND_OWNERSHIP),
            balance=money(order.total_minor - order.paid_minor, order.currency),
            due_at=timestamp(order.due_at),
            overdue_at=timestamp(order.overdue_at),
        ),
    )

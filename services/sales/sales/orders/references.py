"""What orders and payments hold of people: contacts' ids only (no names, no addresses), so on a
person's erasure they keep the id (the contact stays as a tombstone) and there is nothing to blank. A
person's data export holds the orders and payments of theirs that the caller may read (an export is the
caller's view). Merges move those ids to the survivor (sales.orders.merges).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_platform import protojson
from crm_platform.access.context import current_caller_or_none
from crm_platform.personal_data import PersonalData
from sales.orders.store import Order, orders
from sales.payments.store import Payment, payments


def export_orders(session: Session, contact_id: str) -> list[dict[str, Any]]:
    query = orders.scoped(select(Order).where(Order.contact_id == contact_id), current_caller_or_none())
    rows = session.scalars(query.order_by(Order.placed_at, Order.id))
    return [protojson.encode(orders.to_message(row)) for row in rows]


def export_payments(session: Session, contact_id: str) -> list[dict[str, Any]]:
    query = payments.scoped(select(Payment).where(Payment.contact_id == contact_id), current_caller_or_none())
    rows = session.scalars(query.order_by(Payment.created_at, Payment.id))
    return [protojson.encode(payments.to_message(row)) for row in rows]


def hold_personal_data(personal: PersonalData) -> PersonalData:
    personal.exporters["orders"] = export_orders
    personal.exporters["payments"] = export_payments
    return personal

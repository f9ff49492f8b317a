"""Placing an order: the one path every order takes, whether asked for directly (CreateOrder) or by
accepting a quote (sales.quotes), so the partner's terms and credit limit hold for both.

In the caller's transaction: the partner account's terms row is locked (`terms_for`), the priced lines
are checked against its credit limit and its usual terms (an order beyond them waits for an approval),
and the order row and its history entry are written; the caller records `order_placed` (and
`order_approval_requested`) in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from crm_platform.access import Ownership
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import utcnow
from crm_platform.errors import BusinessRuleRefused, InvalidArgument, NotFound
from crm_platform.protojson import encode
from crm_platform.resources import Change
from sales.catalog.pricing import NO_PRICE_LIST
from sales.catalog.store import DEFAULT_PAYMENT_TERMS_DAYS
from sales.orders import approval, credit
from sales.orders.domain import PricedOrder
from sales.orders.store import Order, orders


@dataclass(frozen=True)
class Terms:
    """What an order is placed under: its price list, its net days, and the partner's locked terms row
    (None without a partner account)."""

    price_list_id: str
    days: int
    row: Any


def terms_for(session: Session, partner: str | None, price_list_id: str, payment_terms_days: int) -> Terms:
    """The terms of a new order. A partner account's order is priced from its terms' list, with its
    terms' days unless it asks for others (more days than the terms give wait for an approval), and the
    terms row stays locked for the credit check; without one, the list asked for."""
    if partner is None:
        if not price_list_id:
            raise InvalidArgument(
                "invalid order", {"price_list_id": "is required for an order without a partner account"}
            )
        return Terms(price_list_id, payment_terms_days or DEFAULT_PAYMENT_TERMS_DAYS, None)
    terms = credit.lock_terms(session, partner)
    listed = terms.price_list_id if terms is not None else None
    if not listed:
        raise BusinessRuleRefused(
            f"partner account {partner} has no price list in its terms",
            reason=NO_PRICE_LIST,
            metadata={"partner_account_id": partner},
        )
    if price_list_id and price_list_id != listed:
        caller = current_caller_or_none()
        if caller is not None and caller.is_partner:  # another account's list: not theirs to know of
            raise NotFound(
                f"price list {price_list_id} not found",
                resource_type="price_list",
                resource_name=price_list_id,
            )
        raise InvalidArgument(
            "invalid order", {"price_list_id": "a partner account's orders use the price list of its terms"}
        )
    return Terms(listed, payment_terms_days or credit.payment_terms_days(terms), terms)


def honoured_terms(session: Session, partner: str | None, price_list_id: str) -> Terms:
    """The terms of an order on prices already agreed (an accepted quote): its own price list, and for a
    partner account its terms' days, the terms row locked for the credit check."""
    if partner is None:
        return Terms(price_list_id, DEFAULT_PAYMENT_TERMS_DAYS, None)
    row = credit.lock_terms(session, partner)
    return Terms(price_list_id, credit.payment_terms_days(row), row)


@dataclass(frozen=True)
class Customer:
    contact_id: str | None
    company_id: str | None
    notes: str | None = None
    quote_id: str | None = None  # the quote whose acceptance places the order


def place(
    session: Session,
    priced: PricedOrder,
    terms: Terms,
    customer: Customer,
    ownership: Ownership,
    actor_id: str,
) -> Change[Any]:
    """Checks a partner account's credit limit (its terms row locked by `terms_for`) and writes the
    order with its history entry: BusinessRuleRefused CREDIT_LIMIT_EXCEEDED when it does not fit. An
    order beyond the account's usual terms is placed waiting for an approval (sales.orders.approval)."""
    partner = ownership.partner_account_id
    total = priced.totals.grand_total
    if partner is not None:
        credit.check_credit(session, terms.row, partner, priced.currency, total)
    beyond = approval.beyond_terms(terms.row, priced.currency, total, terms.days) if partner else []
    now = utcnow()
    order_id = str(uuid.uuid4())
    row = Order(
        id=order_id,
        number="SO-" + order_id[:8].upper(),
        contact_id=customer.contact_id,
        company_id=customer.company_id,
        quote_id=customer.quote_id,
        status="submitted",
        price_list_id=terms.price_list_id,
        currency=priced.currency,
        lines=[encode(line) for line in priced.lines],
        net_minor=priced.totals.net,
        tax_minor=priced.totals.tax,
        total_minor=priced.totals.grand_total,
        paid_minor=0,
        placed_at=now,
        due_at=now + timedelta(days=terms.days),
        payment_terms_days=terms.days,
        notes=customer.notes,
        actor_id=actor_id or None,
        owner_id=ownership.owner_id,
        team_id=ownership.team_id,
        partner_account_id=partner,
        **approval.columns(beyond, terms.row, actor_id or None, now),
    )
    return orders.create(session, row, actor_id)

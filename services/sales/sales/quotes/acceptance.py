"""Accepting a quote places its order: in the quote's transaction, through the orders' own placing path
(sales.orders.placing), so the order is written, recorded in its history and announced exactly as any
other, and a partner account's credit limit holds (its terms row locked, 422 CREDIT_LIMIT_EXCEEDED).

The order is sold at the quote's prices, discounts included, whatever the catalogue says today: the
customer accepted those. It belongs to the quote's owner, team and partner account and names the quote.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crm.sales.v1 import orders_pb2
from crm_platform.access import Ownership
from crm_platform.resources import Change
from sales.money import Totals
from sales.orders import events as order_events
from sales.orders import placing
from sales.orders.domain import PricedOrder
from sales.quotes.store import to_message


def _order_line(line: Any) -> orders_pb2.OrderLine:
    return orders_pb2.OrderLine(
        product_id=line.product_id,
        sku=line.sku,
        name=line.name,
        quantity=line.quantity,
        unit_price=line.unit_price,
        net=line.net,
        tax_rate_bp=line.tax_rate_bp,
        tax=line.tax,
        total=line.total,
        discount=line.discount,
    )


def place_order(session: Session, quote: Any, actor_id: str) -> Change[Any]:
    """The order of the accepted `quote` (its row), written and announced (`order_placed`)."""
    message = to_message(quote)
    priced = PricedOrder(
        currency=quote.currency,
        price_list_id=quote.price_list_id,
        lines=[_order_line(line) for line in message.lines],
        totals=Totals(quote.net_minor, quote.tax_minor, quote.discount_minor),
    )
    terms = placing.honoured_terms(session, quote.partner_account_id, quote.price_list_id)
    customer = placing.Customer(quote.contact_id, quote.company_id, quote_id=quote.id)
    ownership = Ownership(quote.owner_id, quote.team_id, quote.partner_account_id)
    change = placing.place(session, priced, terms, customer, ownership, actor_id)
    order_events.record_order_placed(session, change)
    return change

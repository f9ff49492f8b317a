"""Orders' and payments' references to people follow contacts' merges (through the sales service's own
subscriptions), and are in the person's export as far as the caller may read them."""

from __future__ import annotations

from typing import Any

from crm.sales.v1 import orders_pb2, payments_pb2
from crm_platform.access.context import acting_as
from crm_platform.db import reading
from crm_platform.testing.callers import caller
from sales.privacy import PERSONAL_DATA

from .commerce import ADMIN, Commerce, contacts_event, partner_user


def test_orders_and_payments_follow_merges_and_are_exported_in_the_callers_view(sales: Any) -> None:
    shop = Commerce(sales.channel)
    widget = shop.product("W")
    listed = shop.price_list([(widget.id, 1000, 1)], partners=("P1",))
    shop.set_terms("P1", listed.id, 100_000)
    order = shop.order(partner_user("P1"), [(widget.id, 1)], contact_id="c-old", company_id="co-old")
    payment = shop.pay(ADMIN, 1200, [(order.id, 1200)], partner_account_id="P1", contact_id="c-old")

    contacts_event(sales, "contact_merged", {"survivor_id": "c-new", "merged_ids": ["c-old"]})
    contacts_event(sales, "company_merged", {"survivor_id": "co-new", "merged_ids": ["co-old"]})
    moved = shop.orders.GetOrder(orders_pb2.GetOrderRequest(id=order.id), metadata=ADMIN)
    assert (moved.contact_id, moved.company_id, moved.owner_id) == ("c-new", "co-new", "user-of-P1")
    paid = shop.payments.GetPayment(payments_pb2.GetPaymentRequest(id=payment.id), metadata=ADMIN)
    assert paid.contact_id == "c-new"

    def export(who: Any) -> dict[str, list[str]]:
        with acting_as(who), reading(sales.runtime.sessions) as session:
            return {
                name: [r["id"] for r in read(session, "c-new")]
                for name, read in PERSONAL_DATA.exporters.items()
                if name in ("orders", "payments")
            }

    assert export(caller("admin-1", "admin")) == {"orders": [order.id], "payments": [payment.id]}
    assert export(caller("p1", "partner", partner_account_id="P1")) == {
        "orders": [order.id],
        "payments": [payment.id],
    }
    assert export(caller("p2", "partner", partner_account_id="P2")) == {"orders": [], "payments": []}

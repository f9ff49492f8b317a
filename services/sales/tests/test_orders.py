"""Orders through the real sales server (SQLite and PostgreSQL): pricing and totals, the credit limit
(also under 50 concurrent orders), the status flow with history and events, scope, idempotency."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
from sqlalchemy import select

from crm.common.v1 import history_pb2
from crm.sales.v1 import catalog_pb2, orders_pb2
from sales.store import messaging

from .commerce import ADMIN, Commerce, partner_user, reason_of


@pytest.fixture
def shop(sales: Any) -> Commerce:
    return Commerce(sales.channel)


def _setup(shop: Commerce, credit_limit: int, accounts: tuple[str, ...] = ("P1",)) -> tuple[str, str]:
    """Two products (20% and 5.5% tax) on a list assigned to `accounts`, each with terms."""
    widget = shop.product("W", tax_rate_bp=2000)
    book = shop.product("B", tax_rate_bp=550)
    listed = shop.price_list(
        [(widget.id, 1999, 1), (widget.id, 1799, 10), (book.id, 1250, 1)], partners=accounts
    )
    for account in accounts:
        shop.set_terms(account, listed.id, credit_limit, days=14)
    return widget.id, book.id


def _events(sales: Any, event_type: str) -> list[dict[str, Any]]:
    outbox = messaging.outbox
    with sales.runtime.engine.connect() as conn:
        rows = conn.execute(select(outbox).where(outbox.c.routing_key == event_type)).all()
    return [json.loads(row.payload) for row in rows]


def test_a_partner_order_is_priced_from_its_terms_and_refused_over_the_credit_limit(
    shop: Commerce, sales: Any
) -> None:
    widget, book = _setup(shop, credit_limit=100_000, accounts=("P1", "P2"))
    p1 = partner_user("P1")
    order = shop.order(p1, [(widget, 12), (book, 3)], contact_id="c-1")
    # widget: 12 x 17.99 (the 10+ break) = 215.88, tax 20% = 43.176 -> 43.18
    # book: 3 x 12.50 = 37.50, tax 5.5% = 2.0625 -> 2.06
    assert [
        (line.unit_price.amount_minor, line.net.amount_minor, line.tax.amount_minor) for line in order.lines
    ] == [
        (1799, 21588, 4318),
        (1250, 3750, 206),
    ]
    assert (
        order.total.net.amount_minor,
        order.total.tax.amount_minor,
        order.total.grand_total.amount_minor,
    ) == (
        25338,
        4524,
        29862,
    )
    assert (order.partner_account_id, order.owner_id, order.status, order.currency) == (
        "P1",
        "user-of-P1",
        orders_pb2.ORDER_STATUS_SUBMITTED,
        "EUR",
    )
    assert order.balance.amount_minor == 29862
    assert order.due_at.seconds - order.placed_at.seconds == 14 * 86400
    # 29,862 owed; another 3 x 29,862 fits 100,000 twice more, not three times.
    shop.order(p1, [(widget, 12), (book, 3)])
    shop.order(p1, [(widget, 12), (book, 3)])
    with pytest.raises(grpc.RpcError) as refused:
        shop.order(p1, [(widget, 12), (book, 3)])
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(refused.value) == "CREDIT_LIMIT_EXCEEDED"
    # Another partner's own limit is untouched by P1's orders; P2 cannot see P1's.
    p2 = partner_user("P2")
    shop.order(p2, [(book, 1)])
    with pytest.raises(grpc.RpcError) as hidden:
        shop.orders.GetOrder(orders_pb2.GetOrderRequest(id=order.id), metadata=p2)
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
    assert {
        o.partner_account_id
        for o in shop.orders.ListOrders(orders_pb2.ListOrdersRequest(), metadata=p2).items
    } == {"P2"}
    with pytest.raises(grpc.RpcError) as other_account:
        shop.order(p2, [(book, 1)], partner_account_id="P1")
    assert other_account.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    placed = _events(sales, "order_placed")
    assert len(placed) == 4 and placed[0]["total"] == {"amount_minor": 29862, "currency": "EUR"}
    assert placed[0]["actor_id"] == "user-of-P1" and placed[0]["contact_id"] == "c-1"


def test_fifty_concurrent_orders_never_exceed_the_credit_limit(shop: Commerce) -> None:
    widget, _ = _setup(shop, credit_limit=10 * 2399)  # room for exactly ten orders of 19.99 + 20% tax
    p1 = partner_user("P1")

    def place(_: int) -> str:
        try:
            shop.order(p1, [(widget, 1)])
            return "accepted"
        except grpc.RpcError as error:
            return reason_of(error)

    with ThreadPoolExecutor(max_workers=25) as pool:
        outcomes = list(pool.map(place, range(50)))
    assert outcomes.count("accepted") == 10, outcomes
    assert outcomes.count("CREDIT_LIMIT_EXCEEDED") == 40
    listed = shop.orders.ListOrders(orders_pb2.ListOrdersRequest(limit=200), metadata=ADMIN).items
    assert sum(o.total.grand_total.amount_minor for o in listed) == 10 * 2399


def test_the_status_flow_is_recorded_and_announced_and_a_cancelled_order_frees_its_credit(
    shop: Commerce, sales: Any
) -> None:
    widget, _ = _setup(shop, credit_limit=2399)
    p1 = partner_user("P1")
    first = shop.order(p1, [(widget, 1)], key="order-1")
    assert shop.order(p1, [(widget, 1)], key="order-1").id == first.id  # a retry is the same order
    with pytest.raises(grpc.RpcError):
        shop.order(p1, [(widget, 1)])  # the limit is used up
    confirmed = shop.orders.ConfirmOrder(orders_pb2.ConfirmOrderRequest(id=first.id), metadata=ADMIN)
    assert confirmed.status == orders_pb2.ORDER_STATUS_CONFIRMED
    with pytest.raises(grpc.RpcError) as skipped:
        shop.orders.DeliverOrder(orders_pb2.DeliverOrderRequest(id=first.id), metadata=ADMIN)
    assert skipped.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.RpcError) as stale:
        shop.orders.ShipOrder(orders_pb2.ShipOrderRequest(id=first.id, etag=first.etag), metadata=ADMIN)
    assert stale.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    cancelled = shop.orders.CancelOrder(
        orders_pb2.CancelOrderRequest(id=first.id, reason="changed my mind"), metadata=ADMIN
    )
    assert (cancelled.status, cancelled.cancel_reason) == (
        orders_pb2.ORDER_STATUS_CANCELLED,
        "changed my mind",
    )
    shop.order(p1, [(widget, 1)])  # the cancelled order no longer counts
    history = shop.orders.ListOrderHistory(
        orders_pb2.ListOrderHistoryRequest(id=first.id), metadata=ADMIN
    ).items
    assert [(h.action, h.actor_id) for h in history] == [
        (history_pb2.CHANGE_ACTION_UPDATED, "admin-1"),
        (history_pb2.CHANGE_ACTION_UPDATED, "admin-1"),
        (history_pb2.CHANGE_ACTION_CREATED, "user-of-P1"),
    ]
    changed = _events(sales, "order_status_changed")
    assert [(e["from_status"], e["to_status"], e["actor_id"], e["changed_fields"]) for e in changed] == [
        ("submitted", "confirmed", "admin-1", ["status"]),
        ("confirmed", "cancelled", "admin-1", ["status", "cancel_reason"]),
    ]


def test_a_staff_order_names_its_price_list_and_bad_lines_are_refused(shop: Commerce) -> None:
    widget, book = _setup(shop, credit_limit=0)
    listed = shop.price_lists.ListPriceLists(catalog_pb2.ListPriceListsRequest(), metadata=ADMIN).items[0]
    order = shop.order(ADMIN, [(book, 2)], price_list_id=listed.id, contact_id="c-9")
    assert (order.partner_account_id, order.total.grand_total.amount_minor) == ("", 2 * 1250 + 138)
    for lines, extra, code in (
        ([(book, 1)], {}, grpc.StatusCode.INVALID_ARGUMENT),  # no price list, no partner
        ([(book, 1), (book, 2)], {"price_list_id": listed.id}, grpc.StatusCode.INVALID_ARGUMENT),
        ([("no-such-product", 1)], {"price_list_id": listed.id}, grpc.StatusCode.NOT_FOUND),
        ([(book, 0)], {"price_list_id": listed.id}, grpc.StatusCode.INVALID_ARGUMENT),
    ):
        with pytest.raises(grpc.RpcError) as refused:
            shop.order(ADMIN, lines, **extra)
        assert refused.value.code() == code, (lines, extra)
    with pytest.raises(grpc.RpcError) as no_credit:
        shop.order(partner_user("P1"), [(widget, 1)])  # a limit of 0
    assert reason_of(no_credit.value) == "CREDIT_LIMIT_EXCEEDED"

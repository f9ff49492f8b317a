"""Payments through the real sales server (SQLite and PostgreSQL): applying them to orders, balances,
scope, and the overdue sweep publishing payment_overdue once with two workers racing."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import grpc
import pytest
from sqlalchemy import select

from crm.sales.v1 import orders_pb2, payments_pb2
from crm_platform.db import make_session_factory, utcnow
from sales.payments import overdue
from sales.store import messaging

from .commerce import ADMIN, Commerce, partner_user


@pytest.fixture
def shop(sales: Any) -> Commerce:
    return Commerce(sales.channel)


def _partner_orders(shop: Commerce, count: int, accounts: tuple[str, ...] = ("P1",)) -> dict[str, list[Any]]:
    """`count` orders of 12.00 (10.00 + 20% tax) per account, due in 14 days."""
    widget = shop.product("W", tax_rate_bp=2000)
    listed = shop.price_list([(widget.id, 1000, 1)], partners=accounts)
    placed: dict[str, list[Any]] = {}
    for account in accounts:
        shop.set_terms(account, listed.id, 1_000_000, days=14)
        placed[account] = [shop.order(partner_user(account), [(widget.id, 1)]) for _ in range(count)]
    return placed


def test_a_payment_is_applied_to_orders_and_balances_follow(shop: Commerce) -> None:
    placed = _partner_orders(shop, 3, accounts=("P1", "P2"))
    first, second, third = placed["P1"]
    payment = shop.pay(
        ADMIN, 2000, [(first.id, 1200), (second.id, 500)], partner_account_id="P1", reference="TX-1"
    )
    assert (payment.unallocated.amount_minor, payment.partner_account_id) == (300, "P1")
    got = shop.orders.GetOrder(orders_pb2.GetOrderRequest(id=second.id), metadata=ADMIN)
    assert (got.paid.amount_minor, got.balance.amount_minor) == (500, 700)
    balance = shop.payments.GetBalance(
        payments_pb2.GetBalanceRequest(partner_account_id="P1"), metadata=ADMIN
    )
    assert ([m.amount_minor for m in balance.outstanding], balance.open_orders) == ([700 + 1200], 2)
    assert list(balance.overdue) == []
    for allocations, code in (
        ([(first.id, 1)], grpc.StatusCode.FAILED_PRECONDITION),  # fully paid already
        ([(third.id, 1300)], grpc.StatusCode.FAILED_PRECONDITION),  # more than it owes
        ([(placed["P2"][0].id, 100)], grpc.StatusCode.INVALID_ARGUMENT),  # another customer's order
        ([("no-such-order", 100)], grpc.StatusCode.NOT_FOUND),
    ):
        with pytest.raises(grpc.RpcError) as refused:
            shop.pay(ADMIN, 5000, allocations, partner_account_id="P1")
        assert refused.value.code() == code, allocations
    # Partners read their own account's payments and balance only, and record none.
    p2 = partner_user("P2")
    with pytest.raises(grpc.RpcError) as hidden:
        shop.payments.GetPayment(payments_pb2.GetPaymentRequest(id=payment.id), metadata=p2)
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
    assert list(shop.payments.ListPayments(payments_pb2.ListPaymentsRequest(), metadata=p2).items) == []
    seen = shop.payments.GetBalance(payments_pb2.GetBalanceRequest(partner_account_id="P1"), metadata=p2)
    assert (list(seen.outstanding), seen.open_orders) == ([], 0)
    mine = shop.payments.ListPayments(payments_pb2.ListPaymentsRequest(), metadata=partner_user("P1")).items
    assert [p.id for p in mine] == [payment.id]
    with pytest.raises(grpc.RpcError) as refused:
        shop.pay(p2, 100, [], partner_account_id="P2")
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as cancel_paid:
        shop.orders.CancelOrder(orders_pb2.CancelOrderRequest(id=second.id), metadata=ADMIN)
    assert cancel_paid.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_an_unpaid_order_past_due_is_announced_overdue_once_with_two_workers_racing(
    shop: Commerce, sales: Any
) -> None:
    placed = _partner_orders(shop, 6)["P1"]
    shop.pay(ADMIN, 1200, [(placed[0].id, 1200)], partner_account_id="P1")  # paid: never overdue
    shop.orders.CancelOrder(orders_pb2.CancelOrderRequest(id=placed[1].id), metadata=ADMIN)  # not owed
    sessions = make_session_factory(sales.runtime.engine)
    assert overdue.sweep(sessions) == 0  # nothing is due yet
    later = utcnow() + timedelta(days=15)
    start = threading.Barrier(2)
    marked: list[int] = []

    def worker() -> None:
        start.wait()
        total = 0
        for _ in range(3):  # several passes each, batches of 1: the workers meet on the same rows
            total += overdue.sweep(sessions, now=later, batch=1) + overdue.sweep(sessions, now=later, batch=2)
        marked.append(total)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(marked) == 4
    outbox = messaging.outbox
    with sales.runtime.engine.connect() as conn:
        rows = conn.execute(select(outbox).where(outbox.c.routing_key == "payment_overdue")).all()
    announced = sorted(json.loads(row.payload)["order_id"] for row in rows)
    assert announced == sorted(order.id for order in placed[2:])
    assert overdue.sweep(sessions, now=later) == 0
    balance = shop.payments.GetBalance(
        payments_pb2.GetBalanceRequest(partner_account_id="P1"), metadata=ADMIN
    )
    assert [m.amount_minor for m in balance.outstanding] == [4 * 1200]
    got = shop.orders.GetOrder(orders_pb2.GetOrderRequest(id=placed[2].id), metadata=ADMIN)
    assert got.HasField("overdue_at")


def test_a_payment_naming_no_contact_is_announced_for_the_customer_of_its_orders(
    shop: Commerce, sales: Any
) -> None:
    """payment_received carries the contact the timeline files it under: the payment's own, else that of
    the first order it pays that names one."""
    widget = shop.product("W", tax_rate_bp=2000)
    listed = shop.price_list([(widget.id, 1000, 1)], partners=("P1",))
    shop.set_terms("P1", listed.id, 1_000_000, days=14)
    anonymous = shop.order(partner_user("P1"), [(widget.id, 1)])  # names no customer
    for_c9 = shop.order(partner_user("P1"), [(widget.id, 1)], contact_id="c-9")
    unnamed = shop.pay(ADMIN, 2400, [(anonymous.id, 1200), (for_c9.id, 1200)], partner_account_id="P1")
    assert unnamed.contact_id == ""  # the payment itself still names none
    named = shop.pay(ADMIN, 100, [], partner_account_id="P1", contact_id="c-1")
    loose = shop.pay(ADMIN, 100, [], partner_account_id="P1")  # applied to nothing: nobody's
    outbox = messaging.outbox
    with sales.runtime.engine.connect() as conn:
        rows = conn.execute(select(outbox.c.payload).where(outbox.c.routing_key == "payment_received")).all()
    contacts = {p["payment_id"]: p.get("contact_id") or "" for p in (json.loads(row.payload) for row in rows)}
    assert contacts == {unnamed.id: "c-9", named.id: "c-1", loose.id: ""}

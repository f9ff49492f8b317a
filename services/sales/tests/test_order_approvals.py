"""Orders beyond a partner's usual terms through the real sales server (SQLite and PostgreSQL): an order
above the terms' approval threshold, or asking more net days than the terms give, is placed waiting for
a manager's approval (announced, in the approver's queue), cannot be confirmed until approved, is
approved or rejected (with a reason; a rejection cancels it) by someone else than who placed it, never
by a partner user, and every decision is in its history and announced."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from sqlalchemy import select

from crm.common.v1 import money_pb2
from crm.sales.v1 import catalog_pb2, orders_pb2
from crm_platform.testing.callers import caller_metadata
from sales.orders import approval
from sales.store import messaging

from .commerce import ADMIN, Commerce, reason_of

PENDING = orders_pb2.ORDER_APPROVAL_STATE_PENDING


@dataclass
class Account:
    id: str
    widget: str
    buyer: Any  # the partner user's metadata (in the channel team)
    manager: Any  # the channel team's manager
    rep: Any  # a rep of the channel team
    other_manager: Any  # another team's manager


@pytest.fixture
def shop(shared_sales: Any) -> Commerce:
    return Commerce(shared_sales.channel)


@pytest.fixture
def account(shop: Commerce) -> Account:
    """A partner account (terms: net 14, credit 1,000.00 EUR, approval threshold 100.00 EUR) whose buyer
    is in the channel team a manager leads; a widget at 19.99 EUR + 20% tax on its list."""
    tag = uuid.uuid4().hex[:8]
    team = f"channel-{tag}"
    account_id = f"P-{tag}"
    widget = shop.product(f"AW-{tag}", tax_rate_bp=2000)
    listed = shop.price_list([(widget.id, 1999, 1)], partners=(account_id,))
    shop.set_terms(account_id, listed.id, 100_000, days=14, approval_threshold_minor=10_000)
    return Account(
        id=account_id,
        widget=widget.id,
        buyer=caller_metadata(f"buyer-{tag}", "partner", team_ids=(team,), partner_account_id=account_id),
        manager=caller_metadata(f"manager-{tag}", "manager", team_ids=(team,)),
        rep=caller_metadata(f"rep-{tag}", "sales_rep", team_ids=(team,)),
        other_manager=caller_metadata(f"elsewhere-{tag}", "manager", team_ids=(f"other-{tag}",)),
    )


def _act(shop: Commerce, method: str, metadata: Any, order_id: str, **fields: Any) -> orders_pb2.Order:
    request = getattr(orders_pb2, f"{method}Request")(id=order_id, **fields)
    return getattr(shop.orders, method)(request, metadata=metadata, timeout=30)


def _refused(call: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as refused:
        call()
    return refused.value.code(), reason_of(refused.value)


def _events(sales: Any, event_type: str, order_id: str) -> list[dict[str, Any]]:
    outbox = messaging.outbox
    with sales.runtime.engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.payload)
            .where(outbox.c.routing_key == event_type, outbox.c.aggregate_id == order_id)
            .order_by(outbox.c.sequence)
        ).all()
    return [json.loads(row.payload) for row in rows]


def _queue(shop: Commerce, metadata: Any) -> set[str]:
    listed = shop.orders.ListOrders(
        orders_pb2.ListOrdersRequest(filter='approval_state = "pending"'), metadata=metadata, timeout=10
    )
    assert all(order.approval.state == PENDING for order in listed.items)
    return {order.id for order in listed.items}


def test_an_order_above_the_threshold_waits_for_a_managers_approval_before_it_is_confirmed(
    shop: Commerce, shared_sales: Any, account: Account
) -> None:
    usual = shop.order(account.buyer, [(account.widget, 2)])  # 47.98 EUR: within the terms
    assert usual.approval.state == orders_pb2.ORDER_APPROVAL_STATE_NOT_REQUIRED
    assert _act(shop, "ConfirmOrder", account.manager, usual.id).status == orders_pb2.ORDER_STATUS_CONFIRMED
    assert _events(shared_sales, "order_approval_requested", usual.id) == []

    big = shop.order(account.buyer, [(account.widget, 5)])  # 119.94 EUR: above 100.00
    assert big.total.grand_total.amount_minor == 11994
    assert big.status == orders_pb2.ORDER_STATUS_SUBMITTED
    assert (big.approval.state, list(big.approval.reasons), big.approval.requested_by) == (
        PENDING,
        [approval.ABOVE_THRESHOLD],
        f"buyer-{account.id[2:]}",
    )
    assert (big.approval.threshold.amount_minor, big.approval.threshold.currency) == (10_000, "EUR")
    [requested] = _events(shared_sales, "order_approval_requested", big.id)
    assert (requested["actor_id"], requested["approval"]["state"], requested["partner_account_id"]) == (
        big.approval.requested_by,
        "pending",
        account.id,
    )

    for who in (account.manager, account.buyer):
        code, reason = _refused(lambda who=who: _act(shop, "ConfirmOrder", who, big.id))
        assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "APPROVAL_REQUIRED")
    assert big.id in _queue(shop, account.manager)
    assert big.id not in _queue(shop, account.other_manager)  # another team's: not in their scope

    # The buyer cannot approve their own order; a rep of the team reads it but may not; another team's
    # manager does not see it.
    assert (
        _refused(lambda: _act(shop, "ApproveOrder", account.buyer, big.id))[0]
        is grpc.StatusCode.PERMISSION_DENIED
    )
    assert (
        _refused(lambda: _act(shop, "ApproveOrder", account.rep, big.id))[0]
        is grpc.StatusCode.PERMISSION_DENIED
    )
    assert (
        _refused(lambda: _act(shop, "ApproveOrder", account.other_manager, big.id))[0]
        is grpc.StatusCode.NOT_FOUND
    )

    approved = _act(shop, "ApproveOrder", account.manager, big.id, reason="year-end stock", etag=big.etag)
    assert (approved.approval.state, approved.approval.decided_by, approved.approval.reason) == (
        orders_pb2.ORDER_APPROVAL_STATE_APPROVED,
        f"manager-{account.id[2:]}",
        "year-end stock",
    )
    again = _act(shop, "ApproveOrder", account.manager, big.id)  # the same decision: answered as it is
    assert again.etag == approved.etag
    assert big.id not in _queue(shop, account.manager)
    confirmed = _act(shop, "ConfirmOrder", account.manager, big.id)
    assert confirmed.status == orders_pb2.ORDER_STATUS_CONFIRMED

    history = shop.orders.ListOrderHistory(
        orders_pb2.ListOrderHistoryRequest(id=big.id), metadata=account.manager, timeout=10
    )
    decisions = [
        (entry.actor_id, change.old_value.struct_value["state"], change.new_value.struct_value["state"])
        for entry in history.items
        for change in entry.changes
        if change.field == "approval"
    ]
    assert decisions == [(f"manager-{account.id[2:]}", "pending", "approved")]
    [decided] = _events(shared_sales, "order_approval_decided", big.id)
    assert (decided["approval"]["state"], decided["reason"], decided["changed_fields"]) == (
        "approved",
        "year-end stock",
        ["approval"],
    )


def test_more_net_days_than_the_terms_wait_too_and_a_rejection_cancels_the_order(
    shop: Commerce, shared_sales: Any, account: Account
) -> None:
    longer = shop.order(account.buyer, [(account.widget, 1)], payment_terms_days=45)
    assert (longer.approval.state, list(longer.approval.reasons), longer.payment_terms_days) == (
        PENDING,
        [approval.LONGER_PAYMENT_TERMS],
        45,
    )
    assert longer.due_at.seconds - longer.placed_at.seconds == 45 * 86400
    shorter = shop.order(account.buyer, [(account.widget, 1)], payment_terms_days=7)
    assert shorter.approval.state == orders_pb2.ORDER_APPROVAL_STATE_NOT_REQUIRED

    code, _ = _refused(lambda: _act(shop, "RejectOrder", account.manager, longer.id))
    assert code is grpc.StatusCode.INVALID_ARGUMENT  # a rejection says why
    rejected = _act(shop, "RejectOrder", account.manager, longer.id, reason="net 14 is our limit")
    assert (rejected.approval.state, rejected.status, rejected.cancel_reason) == (
        orders_pb2.ORDER_APPROVAL_STATE_REJECTED,
        orders_pb2.ORDER_STATUS_CANCELLED,
        "net 14 is our limit",
    )
    assert rejected.approval.reason == "net 14 is our limit"
    code, _ = _refused(lambda: _act(shop, "ConfirmOrder", account.manager, longer.id))
    assert code is grpc.StatusCode.FAILED_PRECONDITION
    code, _ = _refused(lambda: _act(shop, "ApproveOrder", ADMIN, longer.id))
    assert code is grpc.StatusCode.FAILED_PRECONDITION  # a cancelled order's approval is decided

    [decided] = _events(shared_sales, "order_approval_decided", longer.id)
    assert (decided["approval"]["state"], decided["reason"], decided["status"]) == (
        "rejected",
        "net 14 is our limit",
        "cancelled",
    )
    assert set(decided["changed_fields"]) == {"approval", "status", "cancel_reason"}
    [moved] = _events(shared_sales, "order_status_changed", longer.id)
    assert (moved["from_status"], moved["to_status"]) == ("submitted", "cancelled")


def test_staff_placing_for_a_partner_are_checked_alike_and_an_admin_decides_any(
    shop: Commerce, account: Account
) -> None:
    as_rep = shop.order(account.rep, [(account.widget, 10)], partner_account_id=account.id)
    assert as_rep.approval.state == PENDING and as_rep.partner_account_id == account.id
    assert (
        _refused(lambda: _act(shop, "ApproveOrder", account.rep, as_rep.id))[0]
        is grpc.StatusCode.PERMISSION_DENIED
    )
    assert (
        _act(shop, "ApproveOrder", ADMIN, as_rep.id).approval.state
        == orders_pb2.ORDER_APPROVAL_STATE_APPROVED
    )


def test_the_terms_keep_their_approval_threshold(shop: Commerce, account: Account) -> None:
    terms = shop.terms.GetPartnerTerms(
        catalog_pb2.GetPartnerTermsRequest(partner_account_id=account.id), metadata=ADMIN, timeout=10
    )
    assert (terms.approval_threshold.amount_minor, terms.approval_threshold.currency) == (10_000, "EUR")
    bad = catalog_pb2.UpdatePartnerTermsRequest(
        terms=catalog_pb2.PartnerTerms(
            partner_account_id=account.id,
            approval_threshold=money_pb2.Money(amount_minor=-1, currency="eur"),
        )
    )
    bad.update_mask.paths.append("approval_threshold")
    code, _ = _refused(lambda: shop.terms.UpdatePartnerTerms(bad, metadata=ADMIN, timeout=10))
    assert code is grpc.StatusCode.INVALID_ARGUMENT


def _terms(threshold: int | None, currency: str = "EUR", days: int = 30) -> Any:
    return SimpleNamespace(
        approval_threshold_minor=threshold, approval_threshold_currency=currency, payment_terms_days=days
    )


@pytest.mark.parametrize(
    ("terms", "currency", "total", "days", "expected"),
    [
        (None, "EUR", 10**9, 365, []),  # no partner terms: nothing to go beyond
        (_terms(None), "EUR", 10**9, 30, []),  # no threshold
        (_terms(10_000), "EUR", 10_000, 30, []),  # at the threshold is within it
        (_terms(10_000), "EUR", 10_001, 30, [approval.ABOVE_THRESHOLD]),
        (_terms(10_000), "USD", 1, 30, [approval.ABOVE_THRESHOLD]),  # another currency: not usual
        (_terms(10_000), "EUR", 1, 31, [approval.LONGER_PAYMENT_TERMS]),
        (_terms(0), "EUR", 1, 60, [approval.ABOVE_THRESHOLD, approval.LONGER_PAYMENT_TERMS]),
    ],
)
def test_what_goes_beyond_the_usual_terms(
    terms: Any, currency: str, total: int, days: int, expected: list[str]
) -> None:
    assert approval.beyond_terms(terms, currency, total, days) == expected

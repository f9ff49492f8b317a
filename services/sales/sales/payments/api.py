"""PaymentsService: recording a payment and applying it to orders, reading and listing payments in the
caller's scope, and a customer's balance over the orders the caller may read.

Applying a payment locks each order it names (in the caller's read scope: an order they may not read is
NOT_FOUND) and raises its `paid_minor`, with the order's history entry, in the payment's transaction.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import grpc
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.common.v1 import history_pb2
from crm.sales.v1 import payments_pb2, payments_pb2_grpc
from crm_platform.access import Ownership
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading, utcnow
from crm_platform.errors import FailedPrecondition, InvalidArgument
from crm_platform.resources import (
    Action,
    Change,
    FieldChange,
    ResourceEvents,
    StandardMethods,
    compare_and_set,
    record_change,
)
from crm_platform.service import Runtime, ServiceDefinition
from sales.catalog.store import parse_day
from sales.money import money
from sales.orders.store import CANCELLED, Order, open_orders, orders
from sales.payments import events, overdue, store
from sales.payments.store import Payment, payments


def _check_amounts(request: payments_pb2.CreatePaymentRequest) -> None:
    errors: dict[str, str] = {}
    currency = request.amount.currency
    if request.amount.amount_minor <= 0:
        errors["amount.amount_minor"] = "must be positive"
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        errors["amount.currency"] = "must be an ISO 4217 code"
    seen: set[str] = set()
    total = 0
    for index, allocation in enumerate(request.allocations):
        if allocation.order_id in seen:
            errors[f"allocations[{index}].order_id"] = "is already on another allocation"
        seen.add(allocation.order_id)
        if allocation.amount.amount_minor <= 0:
            errors[f"allocations[{index}].amount.amount_minor"] = "must be positive"
        if allocation.amount.currency not in ("", currency):
            errors[f"allocations[{index}].amount.currency"] = "must be the payment's currency"
        total += allocation.amount.amount_minor
    if total > request.amount.amount_minor:
        errors["allocations"] = "apply more than the payment's amount"
    if errors:
        raise InvalidArgument("invalid payment", errors)


def _apply(
    session: Session, request: payments_pb2.CreatePaymentRequest, ownership: Ownership, actor_id: str
) -> list[dict[str, Any]]:
    """Each allocation applied to its order (locked, in the caller's read scope), as stored on the payment."""
    caller = current_caller_or_none()
    applied = []
    for index, allocation in enumerate(request.allocations):
        order = orders.get(session, allocation.order_id, for_update=True, caller=caller)
        field = f"allocations[{index}]"
        if order.currency != request.amount.currency:
            raise InvalidArgument(
                "invalid payment", {f"{field}.amount.currency": "must be the order's currency"}
            )
        if order.partner_account_id != ownership.partner_account_id or (
            request.contact_id and order.contact_id != request.contact_id
        ):
            raise InvalidArgument("invalid payment", {f"{field}.order_id": "is another customer's order"})
        if order.status == CANCELLED:
            raise FailedPrecondition(f"order {order.id} is cancelled")
        amount = allocation.amount.amount_minor
        if amount > order.total_minor - order.paid_minor:
            raise FailedPrecondition(f"order {order.id} owes less than {amount}")
        now = utcnow()
        paid = order.paid_minor + amount
        compare_and_set(session, Order, order.id, order.version, {"paid_minor": paid, "updated_at": now})
        record_change(
            session,
            orders.resource_type,
            order.id,
            Action.UPDATED,
            actor_id,
            [FieldChange("paid", order.paid_minor, paid)],
            occurred_at=now,
        )
        applied.append({"order_id": order.id, "amount_minor": amount})
    return applied


class PaymentsServicer(payments_pb2_grpc.PaymentsServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions
        self.methods = StandardMethods(
            runtime.sessions,
            payments,
            payments_pb2.Payment,
            list_spec=store.LIST_SPEC,
            listed=store.listed,
            events=ResourceEvents(created=events.record_payment_received),
        )

    def CreatePayment(
        self, request: payments_pb2.CreatePaymentRequest, context: grpc.ServicerContext
    ) -> payments_pb2.Payment:
        _check_amounts(request)

        def add(session: Session, actor_id: str, ownership: Ownership | None) -> Change[Any]:
            if ownership is None:  # trusted internal code: the request's ownership as given
                ownership = Ownership(
                    request.owner_id or None, request.team_id or None, request.partner_account_id or None
                )
            applied = _apply(session, request, ownership, actor_id)
            row = Payment(
                id=str(uuid.uuid4()),
                amount_minor=request.amount.amount_minor,
                currency=request.amount.currency,
                method=store.METHODS.get(request.method) or "other",
                received_on=parse_day(request.received_on, "received_on") or datetime.now(UTC).date(),
                reference=request.reference or None,
                notes=request.notes or None,
                contact_id=request.contact_id or None,
                allocations=applied,
                unallocated_minor=request.amount.amount_minor - sum(a["amount_minor"] for a in applied),
                actor_id=actor_id or None,
                owner_id=ownership.owner_id,
                team_id=ownership.team_id,
                partner_account_id=ownership.partner_account_id,
            )
            return payments.create(session, row, actor_id)

        return self.methods.create(context, request, add=add)

    def GetPayment(
        self, request: payments_pb2.GetPaymentRequest, context: grpc.ServicerContext
    ) -> payments_pb2.Payment:
        return self.methods.get(request.id)

    def ListPayments(
        self, request: payments_pb2.ListPaymentsRequest, context: grpc.ServicerContext
    ) -> payments_pb2.ListPaymentsResponse:
        return payments_pb2.ListPaymentsResponse(**self.methods.list(request))

    def ListPaymentHistory(
        self, request: payments_pb2.ListPaymentHistoryRequest, context: grpc.ServicerContext
    ) -> history_pb2.ListHistoryResponse:
        return self.methods.history(
            history_pb2.ListHistoryRequest(id=request.id, limit=request.limit, cursor=request.cursor)
        )

    def GetBalance(
        self, request: payments_pb2.GetBalanceRequest, context: grpc.ServicerContext
    ) -> payments_pb2.Balance:
        if bool(request.partner_account_id) == bool(request.contact_id):
            raise InvalidArgument(
                "invalid request",
                {"partner_account_id": "give exactly one of partner_account_id and contact_id"},
            )
        whose = (
            Order.partner_account_id == request.partner_account_id
            if request.partner_account_id
            else Order.contact_id == request.contact_id
        )
        owed = Order.total_minor - Order.paid_minor
        query = open_orders(
            select(Order.currency, Order.due_at, func.sum(owed), func.count())
            .where(whose)
            .group_by(Order.currency, Order.due_at)
        )
        query = orders.scoped(query, current_caller_or_none())
        now = utcnow()
        outstanding: dict[str, int] = defaultdict(int)
        late: dict[str, int] = defaultdict(int)
        count = 0
        with reading(self.sessions) as session:
            for currency, due_at, amount, n in session.execute(query):
                outstanding[currency] += int(amount)
                count += int(n)
                if due_at < now:
                    late[currency] += int(amount)
        return payments_pb2.Balance(
            partner_account_id=request.partner_account_id,
            contact_id=request.contact_id,
            outstanding=[money(outstanding[c], c) for c in sorted(outstanding)],
            overdue=[money(late[c], c) for c in sorted(late)],
            open_orders=count,
        )


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    payments_pb2_grpc.add_PaymentsServiceServicer_to_server(PaymentsServicer(runtime), server)
    return [payments_pb2.DESCRIPTOR.services_by_name["PaymentsService"].full_name]


def install(definition: ServiceDefinition) -> ServiceDefinition:
    """PaymentsService, and the worker's overdue sweep."""
    return definition.include(register, background=(overdue.run_sweeps,))

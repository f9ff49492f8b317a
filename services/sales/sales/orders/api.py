"""OrdersService: placing an order (priced by the catalogue, checked against the credit limit and the
partner's usual terms), reading and listing orders in the caller's scope, the status flow (custom
methods, each with its history entry and `order_status_changed`), and the approval of an order beyond
its partner's usual terms (`:approve`, `:reject`: sales.orders.approval over sales.approvals).

Ownership: the caller and their primary team unless the request names others (checked against the
caller's `order` create level); a partner user's orders always belong to their own account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
from sqlalchemy.orm import Session

from crm.common.v1 import history_pb2
from crm.sales.v1 import orders_pb2, orders_pb2_grpc
from crm_platform.access import Ownership
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import utcnow
from crm_platform.errors import FailedPrecondition
from crm_platform.resources import (
    Action,
    Change,
    FieldChange,
    ResourceEvents,
    StandardMethods,
    actor_of,
    check_etag,
    compare_and_set,
    idempotent_write,
    record_change,
)
from crm_platform.service import Runtime, ServiceDefinition
from sales import approvals
from sales.catalog.pricing import PriceResolver
from sales.orders import approval, domain, events, placing, store
from sales.orders.store import CANCELLED, CONFIRMED, Order, orders


class OrdersServicer(orders_pb2_grpc.OrdersServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions
        self.methods = StandardMethods(
            runtime.sessions,
            orders,
            orders_pb2.Order,
            list_spec=store.LIST_SPEC,
            listed=store.listed,
            events=ResourceEvents(created=events.record_order_placed),
        )

    def CreateOrder(
        self, request: orders_pb2.CreateOrderRequest, context: grpc.ServicerContext
    ) -> orders_pb2.Order:
        def add(session: Session, actor_id: str, ownership: Ownership | None) -> Change[Any]:
            if ownership is None:  # trusted internal code: the request's ownership as given
                ownership = Ownership(
                    request.owner_id or None, request.team_id or None, request.partner_account_id or None
                )
            terms = placing.terms_for(
                session, ownership.partner_account_id, request.price_list_id, request.payment_terms_days
            )
            resolver = PriceResolver(session, terms.price_list_id, utcnow().astimezone(UTC).date())
            priced = domain.price_order(request.lines, resolver.resolve)
            customer = placing.Customer(
                request.contact_id or None, request.company_id or None, request.notes or None
            )
            return placing.place(session, priced, terms, customer, ownership, actor_id)

        return self.methods.create(context, request, add=add)

    def GetOrder(
        self, request: orders_pb2.GetOrderRequest, context: grpc.ServicerContext
    ) -> orders_pb2.Order:
        return self.methods.get(request.id)

    def ListOrders(
        self, request: orders_pb2.ListOrdersRequest, context: grpc.ServicerContext
    ) -> orders_pb2.ListOrdersResponse:
        return orders_pb2.ListOrdersResponse(**self.methods.list(request))

    def ListOrderHistory(
        self, request: orders_pb2.ListOrderHistoryRequest, context: grpc.ServicerContext
    ) -> history_pb2.ListHistoryResponse:
        return self.methods.history(
            history_pb2.ListHistoryRequest(id=request.id, limit=request.limit, cursor=request.cursor)
        )

    def ConfirmOrder(
        self, request: orders_pb2.ConfirmOrderRequest, context: grpc.ServicerContext
    ) -> orders_pb2.Order:
        return self._move(context, request, CONFIRMED)

    def ShipOrder(
        self, request: orders_pb2.ShipOrderRequest, context: grpc.ServicerContext
    ) -> orders_pb2.Order:
        return self._move(context, request, "shipped")

    def DeliverOrder(
        self, request: orders_pb2.DeliverOrderRequest, context: grpc.ServicerContext
    ) -> orders_pb2.Order:
        return self._move(context, request, "delivered")

    def CancelOrder(
        self, request: orders_pb2.CancelOrderRequest, context: grpc.ServicerContext
    ) -> orders_pb2.Order:
        return self._move(context, request, CANCELLED, reason=request.reason)

    def _move(
        self, context: grpc.ServicerContext, request: Any, target: str, *, reason: str = ""
    ) -> orders_pb2.Order:
        """One step of the status flow (with `order_status_changed`); the same step asked again answers
        the order as it is. Confirming waits for an approval the order needs."""

        def move(row: Any, actor: str, now: datetime) -> Step | None:
            before = row.status
            if before == target:
                return None
            domain.check_transition(row.id, before, target)
            if target == CONFIRMED:
                approvals.check_approved("order", row.id, row.approval_state, "be confirmed")
            if target == CANCELLED and row.paid_minor > 0:
                raise FailedPrecondition(f"order {row.id} has payments applied: it cannot be cancelled")
            values: dict[str, Any] = {"status": target}
            changes = [FieldChange("status", before, target)]
            if reason:
                values["cancel_reason"] = reason
                changes.append(FieldChange("cancel_reason", row.cancel_reason, reason))
            return Step(values, changes, events.record_status_changed)

        return self._act(context, request, move)

    def ApproveOrder(
        self, request: orders_pb2.ApproveOrderRequest, context: grpc.ServicerContext
    ) -> orders_pb2.Order:
        return self._decide(context, request, approvals.APPROVED)

    def RejectOrder(
        self, request: orders_pb2.RejectOrderRequest, context: grpc.ServicerContext
    ) -> orders_pb2.Order:
        return self._decide(context, request, approvals.REJECTED)

    def _decide(self, context: grpc.ServicerContext, request: Any, decision: str) -> orders_pb2.Order:
        """An approver's decision on the order's pending approval, kept in its approval and history and
        announced (`order_approval_decided`); a rejection cancels the order with the reason (with
        `order_status_changed`), so it no longer counts against the credit limit."""
        caller = current_caller_or_none()

        def decide(row: Any, actor: str, now: datetime) -> Step | None:
            if approvals.is_repeat(row, decision, actor):
                return None
            approval.check_approver(row, caller, actor)
            values = approvals.decided(decision, actor, now, request.reason)
            changes = [approvals.change(row, store.APPROVAL_COLUMNS, store.approval_of, values)]
            if decision == approvals.REJECTED:
                values.update(status=CANCELLED, cancel_reason=request.reason)
                changes += [
                    FieldChange("status", row.status, CANCELLED),
                    FieldChange("cancel_reason", row.cancel_reason, request.reason),
                ]

            def announce(session: Session, row: Any, before: str, change: Change[Any]) -> None:
                events.record_approval_event(session, events.ORDER_APPROVAL_DECIDED, change, request.reason)
                if row.status != before:
                    events.record_status_changed(session, row, before, change)

            return Step(values, changes, announce)

        return self._act(context, request, decide)

    def _act(
        self, context: grpc.ServicerContext, request: Any, step: Callable[[Any, str, datetime], Step | None]
    ) -> orders_pb2.Order:
        """One change of an order by a custom method, needing update rights on it (404 out of scope, 403
        beyond the caller's level): `step` checks and says what it writes (None: nothing, the order is
        already there), written with its history entry and events in one transaction."""
        caller = current_caller_or_none()
        with idempotent_write(self.sessions, context, request, orders_pb2.Order) as write:
            if write.replay is not None:
                return write.replay
            session = write.session
            row = orders.get(session, request.id, for_update=True, caller=caller, action="update")
            actor, now, before = actor_of(context), utcnow(), row.status
            move = step(row, actor, now)
            if move is None:
                return write.respond(orders.to_message(row))
            check_etag(row.id, row.version, request.etag)
            version = compare_and_set(session, Order, row.id, row.version, {**move.values, "updated_at": now})
            record_change(
                session, orders.resource_type, row.id, Action.UPDATED, actor, move.changes, occurred_at=now
            )
            session.refresh(row)
            move.announce(session, row, before, Change(row, actor, version, move.changes))
            return write.respond(orders.to_message(row))


@dataclass
class Step:
    """What one custom method writes: the columns, the history's field changes, and its events."""

    values: dict[str, Any]
    changes: list[FieldChange]
    announce: Callable[[Session, Any, str, Change[Any]], Any]


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    orders_pb2_grpc.add_OrdersServiceServicer_to_server(OrdersServicer(runtime), server)
    return [orders_pb2.DESCRIPTOR.services_by_name["OrdersService"].full_name]


def install(definition: ServiceDefinition) -> ServiceDefinition:
    return definition.include(register)

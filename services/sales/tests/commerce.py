"""Helpers of the commerce tests (catalogue, orders, payments) over the real sales server of conftest."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import grpc

from crm.common.v1 import money_pb2
from crm.sales.v1 import (
    catalog_pb2,
    catalog_pb2_grpc,
    orders_pb2,
    orders_pb2_grpc,
    payments_pb2,
    payments_pb2_grpc,
)
from crm_platform.db import transaction
from crm_platform.errors import details_from
from crm_platform.events.wire import Event
from crm_platform.testing.callers import caller_metadata
from sales.main import DEFINITION

ADMIN = caller_metadata("admin-1", "admin")


def partner_user(account: str, subject: str = "") -> tuple[tuple[str, str], ...]:
    return caller_metadata(subject or f"user-of-{account}", "partner", partner_account_id=account)


class Commerce:
    """Stubs of the commerce services on one channel, and set-ups the tests share."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        self.price_lists = catalog_pb2_grpc.PriceListsServiceStub(channel)
        self.terms = catalog_pb2_grpc.PartnerTermsServiceStub(channel)
        self.orders = orders_pb2_grpc.OrdersServiceStub(channel)
        self.payments = payments_pb2_grpc.PaymentsServiceStub(channel)

    def product(self, sku: str, tax_rate_bp: int = 2000, **fields: Any) -> catalog_pb2.Product:
        request = catalog_pb2.CreateProductRequest(
            sku=sku, name=f"Product {sku}", tax_rate_bp=tax_rate_bp, **fields
        )
        return self.catalog.CreateProduct(request, metadata=ADMIN, timeout=10)

    def price_list(
        self,
        prices: list[tuple[str, int, int]],
        partners: tuple[str, ...] = (),
        currency: str = "EUR",
        **fields: Any,
    ) -> catalog_pb2.PriceList:
        request = catalog_pb2.CreatePriceListRequest(
            name=f"List {currency} {len(prices)}",
            currency=currency,
            prices=[
                catalog_pb2.Price(product_id=p, unit_amount_minor=amount, min_quantity=minimum)
                for p, amount, minimum in prices
            ],
            partner_account_ids=partners,
            **fields,
        )
        return self.price_lists.CreatePriceList(request, metadata=ADMIN, timeout=10)

    def set_terms(
        self,
        account: str,
        price_list_id: str,
        credit_limit_minor: int | None,
        days: int = 30,
        currency: str = "EUR",
        approval_threshold_minor: int | None = None,
    ) -> catalog_pb2.PartnerTerms:
        terms = catalog_pb2.PartnerTerms(
            partner_account_id=account, price_list_id=price_list_id, payment_terms_days=days
        )
        paths = ["price_list_id", "payment_terms_days"]
        if credit_limit_minor is not None:
            terms.credit_limit.CopyFrom(money_pb2.Money(amount_minor=credit_limit_minor, currency=currency))
            paths.append("credit_limit")
        if approval_threshold_minor is not None:
            terms.approval_threshold.CopyFrom(
                money_pb2.Money(amount_minor=approval_threshold_minor, currency=currency)
            )
            paths.append("approval_threshold")
        request = catalog_pb2.UpdatePartnerTermsRequest(terms=terms)
        request.update_mask.paths.extend(paths)
        return self.terms.UpdatePartnerTerms(request, metadata=ADMIN, timeout=10)

    def order(
        self, metadata: Any, lines: list[tuple[str, int]], key: str = "", **fields: Any
    ) -> orders_pb2.Order:
        request = orders_pb2.CreateOrderRequest(
            lines=[orders_pb2.OrderLineRequest(product_id=p, quantity=q) for p, q in lines], **fields
        )
        extra = (("idempotency-key", key),) if key else ()
        return self.orders.CreateOrder(request, metadata=(*metadata, *extra), timeout=30)

    def pay(
        self, metadata: Any, amount: int, allocations: list[tuple[str, int]], **fields: Any
    ) -> payments_pb2.Payment:
        request = payments_pb2.CreatePaymentRequest(
            amount=money_pb2.Money(amount_minor=amount, currency="EUR"),
            method=payments_pb2.PAYMENT_METHOD_BANK_TRANSFER,
            allocations=[
                payments_pb2.Allocation(order_id=o, amount=money_pb2.Money(amount_minor=a, currency="EUR"))
                for o, a in allocations
            ],
            **fields,
        )
        return self.payments.CreatePayment(request, metadata=metadata, timeout=10)


def reason_of(error: grpc.RpcError) -> str:
    return details_from(error).reason


def contacts_event(sales: Any, event_type: str, data: dict[str, Any]) -> None:
    """Contacts' `event_type` applied by the sales service's own subscription, as its worker applies it."""
    [handler] = [
        s.handler
        for s in DEFINITION.subscriptions
        if (s.source_service, s.event_type) == ("contacts", event_type)
    ]
    with transaction(sales.runtime.sessions) as session:
        handler(session, Event(f"ev-{uuid.uuid4()}", event_type, "contacts", datetime.now(UTC), 1, data))

"""Payments' table, its mapping to the contract and its list allow-list. A payment's allocations are kept
on it (JSON, contract form); what each order has received is `orders.paid_minor`, updated with them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, Select, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from crm.sales.v1 import payments_pb2
from crm_platform import protojson
from crm_platform.db import UtcDateTime
from crm_platform.listing import ENUM, STRING, TIMESTAMP, Field, ListSpec
from crm_platform.protobuf import timestamp
from crm_platform.resources import Repository, etag_of
from sales.money import money
from sales.store import Base

METHODS = protojson.enum_names(payments_pb2.PaymentMethod.DESCRIPTOR)
METHOD_NUMBERS = protojson.enum_numbers(payments_pb2.PaymentMethod.DESCRIPTOR)


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(16))
    received_on: Mapped[date]
    reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    contact_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # [{"order_id", "amount_minor"}]
    allocations: Mapped[list[Any]] = mapped_column(JSON)
    unallocated_minor: Mapped[int] = mapped_column(BigInteger)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    actor_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    owner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    partner_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        Index("ix_payments_created", "created_at", "id"),
        Index("ix_payments_contact", "contact_id"),
        *(Index(f"ix_payments_{name}", name) for name in ("owner_id", "team_id", "partner_account_id")),
    )


def to_message(row: Any) -> payments_pb2.Payment:
    currency = row.currency
    return payments_pb2.Payment(
        id=row.id,
        amount=money(row.amount_minor, currency),
        method=METHOD_NUMBERS.get(row.method, 0),  # type: ignore[arg-type]
        received_on=row.received_on.isoformat(),
        reference=row.reference or "",
        contact_id=row.contact_id or "",
        allocations=[
            payments_pb2.Allocation(order_id=a["order_id"], amount=money(a["amount_minor"], currency))
            for a in row.allocations or []
        ],
        unallocated=money(row.unallocated_minor, currency),
        notes=row.notes or "",
        owner_id=row.owner_id or "",
        team_id=row.team_id or "",
        partner_account_id=row.partner_account_id or "",
        actor_id=row.actor_id or "",
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
        etag=etag_of(row.id, row.version),
    )


def _no_columns(message: payments_pb2.Payment) -> dict[str, Any]:
    raise NotImplementedError("payments are not updated by field mask")


payments = Repository(
    Payment, "payment", to_message=to_message, to_columns=_no_columns, request_field="payment"
)

LIST_SPEC = ListSpec(
    name="payments",
    fields={
        "method": Field(Payment.method, ENUM, enum_values=tuple(n for n in METHODS.values() if n)),
        "currency": Field(Payment.currency, STRING),
        "contact_id": Field(Payment.contact_id, STRING),
        "owner_id": Field(Payment.owner_id, STRING),
        "team_id": Field(Payment.team_id, STRING),
        "partner_account_id": Field(Payment.partner_account_id, STRING),
        "created_at": Field(Payment.created_at, TIMESTAMP),
    },
    orderable={"created_at"},
    default_order="created_at desc",
    tie_breaker=Payment.id,
)


def listed() -> Select[tuple[Payment]]:
    return select(Payment)

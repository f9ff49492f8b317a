"""Orders' table, its mapping to the contract and its list allow-list.

An order keeps its priced lines (JSON, in their contract form: what was sold at what price stays as it
was, whatever the catalogue becomes) and its totals as columns, with `paid_minor` kept up to date by
payments, so what an account owes is one indexed sum (`owed_by_partner`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, Select, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from crm.sales.v1 import orders_pb2
from crm_platform import protojson
from crm_platform.db import UtcDateTime
from crm_platform.listing import ENUM, STRING, TIMESTAMP, Field, ListSpec
from crm_platform.protobuf import timestamp
from crm_platform.resources import Repository, etag_of
from sales import approvals
from sales.approvals import ApprovalColumns
from sales.money import money
from sales.store import Base

STATUSES = protojson.enum_names(orders_pb2.OrderStatus.DESCRIPTOR)
STATUS_NUMBERS = protojson.enum_numbers(orders_pb2.OrderStatus.DESCRIPTOR)
APPROVAL_NUMBERS = protojson.enum_numbers(orders_pb2.OrderApprovalState.DESCRIPTOR)
CANCELLED = "cancelled"
CONFIRMED = "confirmed"


class Order(ApprovalColumns, Base):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    contact_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    company_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # the enum's short name: "submitted"...
    price_list_id: Mapped[str] = mapped_column(String(36))
    currency: Mapped[str] = mapped_column(String(3))
    lines: Mapped[list[Any]] = mapped_column(JSON)
    net_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger)
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set once, by the overdue sweep, when the order was found unpaid after due_at.
    overdue_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    actor_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    owner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    partner_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The quote whose acceptance placed it (sales.quotes), if any.
    quote_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # Net days it was placed with (null for orders placed before they were kept: due_at says them).
    payment_terms_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Its approval (sales.approvals' columns): what of its partner's usual terms it goes beyond, and the
    # terms' threshold when it was placed (sales.orders.approval).
    approval_reasons: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    approval_threshold_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    approval_threshold_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)

    __table_args__ = (
        Index("ix_orders_placed", "placed_at", "id"),
        # What an account owes (the credit check, balances): its orders by status.
        Index("ix_orders_partner_status", "partner_account_id", "status"),
        Index("ix_orders_contact", "contact_id"),
        # The overdue sweep: unpaid orders not yet found overdue, by due date.
        Index("ix_orders_due", "overdue_at", "due_at"),
        # An approver's queue: pending approvals, newest first, then narrowed to their scope.
        Index("ix_orders_approval", "approval_state", "placed_at"),
        *(Index(f"ix_orders_{name}", name) for name in ("owner_id", "team_id")),
    )


def _line(data: Any) -> orders_pb2.OrderLine:
    line = orders_pb2.OrderLine()
    protojson.decode_into(data, line)
    return line


APPROVAL_COLUMNS = (
    *approvals.COLUMNS,
    "approval_reasons",
    "approval_threshold_minor",
    "approval_threshold_currency",
)


def approval_of(row: Any) -> orders_pb2.OrderApproval:
    """The approval part of an order from anything with its APPROVAL_COLUMNS as attributes."""
    message = orders_pb2.OrderApproval(
        state=APPROVAL_NUMBERS.get(row.approval_state, 0),  # type: ignore[arg-type]
        reasons=row.approval_reasons or [],
        **approvals.message_fields(row),
    )
    if row.approval_threshold_minor is not None:
        message.threshold.CopyFrom(money(row.approval_threshold_minor, row.approval_threshold_currency or ""))
    return message


def _days(row: Any) -> int:
    if row.payment_terms_days is not None:
        return int(row.payment_terms_days)
    return (row.due_at - row.placed_at).days  # placed before the days were kept: as its due date says


def to_message(row: Any) -> orders_pb2.Order:
    currency = row.currency
    message = orders_pb2.Order(
        id=row.id,
        number=row.number,
        contact_id=row.contact_id or "",
        company_id=row.company_id or "",
        status=STATUS_NUMBERS.get(row.status, 0),  # type: ignore[arg-type]
        price_list_id=row.price_list_id,
        currency=currency,
        lines=[_line(line) for line in row.lines or []],
        total=orders_pb2.OrderTotal(
            net=money(row.net_minor, currency),
            tax=money(row.tax_minor, currency),
            grand_total=money(row.total_minor, currency),
        ),
        paid=money(row.paid_minor, currency),
        balance=money(row.total_minor - row.paid_minor, currency),
        due_at=timestamp(row.due_at),
        notes=row.notes or "",
        cancel_reason=row.cancel_reason or "",
        owner_id=row.owner_id or "",
        team_id=row.team_id or "",
        partner_account_id=row.partner_account_id or "",
        actor_id=row.actor_id or "",
        placed_at=timestamp(row.placed_at),
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
        etag=etag_of(row.id, row.version),
        quote_id=row.quote_id or "",
        approval=approval_of(row),
        payment_terms_days=_days(row),
    )
    if row.overdue_at is not None:
        message.overdue_at.CopyFrom(timestamp(row.overdue_at))
    return message


def _no_columns(message: orders_pb2.Order) -> dict[str, Any]:
    # Orders change only through their status methods and payments, never by a field-mask update.
    raise NotImplementedError("orders are not updated by field mask")


orders = Repository(Order, "order", to_message=to_message, to_columns=_no_columns, request_field="order")

LIST_SPEC = ListSpec(
    name="orders",
    fields={
        "status": Field(Order.status, ENUM, enum_values=tuple(n for n in STATUSES.values() if n)),
        "approval_state": approvals.list_field(Order.approval_state),
        "contact_id": Field(Order.contact_id, STRING),
        "company_id": Field(Order.company_id, STRING),
        "price_list_id": Field(Order.price_list_id, STRING),
        "currency": Field(Order.currency, STRING),
        "owner_id": Field(Order.owner_id, STRING),
        "team_id": Field(Order.team_id, STRING),
        "partner_account_id": Field(Order.partner_account_id, STRING),
        "placed_at": Field(Order.placed_at, TIMESTAMP),
        "due_at": Field(Order.due_at, TIMESTAMP),
        "created_at": Field(Order.created_at, TIMESTAMP),
    },
    orderable={"placed_at", "due_at", "created_at", "status"},
    default_order="placed_at desc",
    tie_breaker=Order.id,
)


def listed() -> Select[tuple[Order]]:
    return select(Order)


def open_orders(query: Select[Any]) -> Select[Any]:
    """Orders that still count as owed: not cancelled, not fully paid."""
    return query.where(Order.status != CANCELLED, Order.paid_minor < Order.total_minor)


def owed_by_partner(session: Session, partner_account_id: str, currency: str) -> int:
    """What the partner account owes on its open, unpaid orders in `currency` (every order of it,
    whoever can see them: this is the credit check's figure, not a caller's view)."""
    owed = open_orders(
        select(func.coalesce(func.sum(Order.total_minor - Order.paid_minor), 0)).where(
            Order.partner_account_id == partner_account_id, Order.currency == currency
        )
    )
    return int(session.scalar(owed) or 0)

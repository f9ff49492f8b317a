"""Quotes' table, its mapping to the contract and its list allow-list.

A quote keeps its priced lines (JSON, in their contract form: what was offered at what price stays as
it was, whatever the catalogue becomes) and its totals as columns; its approval is columns too, so an
approver's queue (`approval_state = "pending"` in their scope) is one indexed list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, Select, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from crm.sales.v1 import quotes_pb2
from crm_platform import protojson
from crm_platform.db import UtcDateTime
from crm_platform.listing import DATE, ENUM, STRING, TIMESTAMP, Field, ListSpec
from crm_platform.protobuf import timestamp
from crm_platform.resources import Repository, etag_of
from sales import approvals
from sales.approvals import ApprovalColumns
from sales.money import money
from sales.store import Base

STATUSES = protojson.enum_names(quotes_pb2.QuoteStatus.DESCRIPTOR)
STATUS_NUMBERS = protojson.enum_numbers(quotes_pb2.QuoteStatus.DESCRIPTOR)
APPROVAL_NUMBERS = protojson.enum_numbers(quotes_pb2.QuoteApprovalState.DESCRIPTOR)


class Quote(ApprovalColumns, Base):
    __tablename__ = "quotes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    contact_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    company_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    deal_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # the enum's short name: "draft"...
    price_list_id: Mapped[str] = mapped_column(String(36))
    currency: Mapped[str] = mapped_column(String(3))
    lines: Mapped[list[Any]] = mapped_column(JSON)
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger)
    net_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    # "YYYY-MM-DD" text, which orders like the days it holds (the listing's DATE fields are text).
    valid_until: Mapped[str] = mapped_column(String(10))
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The approval of its discount (sales.approvals' columns): the largest line discount and the
    # author's allowance (bp).
    max_discount_bp: Mapped[int] = mapped_column(Integer)
    allowed_discount_bp: Mapped[int] = mapped_column(Integer)
    reject_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    order_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    owner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    partner_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        Index("ix_quotes_created", "created_at", "id"),
        # An approver's queue: pending approvals, newest first, then narrowed to their scope.
        Index("ix_quotes_approval", "approval_state", "created_at"),
        # The expiry sweep: sent quotes by their last day.
        Index("ix_quotes_status_valid", "status", "valid_until"),
        *(
            Index(f"ix_quotes_{name}", name)
            for name in ("contact_id", "owner_id", "team_id", "partner_account_id")
        ),
    )


def _line(data: Any) -> quotes_pb2.QuoteLine:
    line = quotes_pb2.QuoteLine()
    protojson.decode_into(data, line)
    return line


def _stamp(value: datetime | None) -> Any:
    return timestamp(value) if value is not None else None


APPROVAL_COLUMNS = (*approvals.COLUMNS, "max_discount_bp", "allowed_discount_bp")


def approval_of(row: Any) -> quotes_pb2.QuoteApproval:
    """The approval part of a quote from anything with its APPROVAL_COLUMNS as attributes."""
    return quotes_pb2.QuoteApproval(
        state=APPROVAL_NUMBERS.get(row.approval_state, 0),  # type: ignore[arg-type]
        max_discount_bp=row.max_discount_bp,
        allowed_discount_bp=row.allowed_discount_bp,
        **approvals.message_fields(row),
    )


def to_message(row: Any) -> quotes_pb2.Quote:
    currency = row.currency
    return quotes_pb2.Quote(
        id=row.id,
        number=row.number,
        contact_id=row.contact_id or "",
        company_id=row.company_id or "",
        deal_id=row.deal_id or "",
        price_list_id=row.price_list_id,
        currency=currency,
        status=STATUS_NUMBERS.get(row.status, 0),  # type: ignore[arg-type]
        lines=[_line(line) for line in row.lines or []],
        total=quotes_pb2.QuoteTotals(
            subtotal=money(row.subtotal_minor, currency),
            discount=money(row.discount_minor, currency),
            net=money(row.net_minor, currency),
            tax=money(row.tax_minor, currency),
            grand_total=money(row.total_minor, currency),
        ),
        valid_until=row.valid_until,
        notes=row.notes or "",
        approval=approval_of(row),
        reject_reason=row.reject_reason or "",
        order_id=row.order_id or "",
        sent_at=_stamp(row.sent_at),
        decided_at=_stamp(row.decided_at),
        owner_id=row.owner_id or "",
        team_id=row.team_id or "",
        partner_account_id=row.partner_account_id or "",
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
        etag=etag_of(row.id, row.version),
    )


def to_columns(message: quotes_pb2.Quote) -> dict[str, Any]:
    """What a PATCH writes: the merged draft, its lines priced again (sales.quotes.api prepares it)."""
    total = message.total
    return {
        "contact_id": message.contact_id or None,
        "company_id": message.company_id or None,
        "deal_id": message.deal_id or None,
        "price_list_id": message.price_list_id,
        "currency": message.currency,
        "lines": [protojson.encode(line) for line in message.lines],
        "subtotal_minor": total.subtotal.amount_minor,
        "discount_minor": total.discount.amount_minor,
        "net_minor": total.net.amount_minor,
        "tax_minor": total.tax.amount_minor,
        "total_minor": total.grand_total.amount_minor,
        "valid_until": message.valid_until,
        "partner_account_id": message.partner_account_id or None,
        "notes": message.notes or None,
        "owner_id": message.owner_id or None,
        "team_id": message.team_id or None,
    }


quotes = Repository(Quote, "quote", to_message=to_message, to_columns=to_columns, request_field="quote")

LIST_SPEC = ListSpec(
    name="quotes",
    fields={
        "status": Field(Quote.status, ENUM, enum_values=tuple(n for n in STATUSES.values() if n)),
        "approval_state": approvals.list_field(Quote.approval_state),
        "contact_id": Field(Quote.contact_id, STRING),
        "company_id": Field(Quote.company_id, STRING),
        "deal_id": Field(Quote.deal_id, STRING),
        "price_list_id": Field(Quote.price_list_id, STRING),
        "currency": Field(Quote.currency, STRING),
        "owner_id": Field(Quote.owner_id, STRING),
        "team_id": Field(Quote.team_id, STRING),
        "partner_account_id": Field(Quote.partner_account_id, STRING),
        "valid_until": Field(Quote.valid_until, DATE),
        "created_at": Field(Quote.created_at, TIMESTAMP),
    },
    orderable={"created_at", "valid_until", "status"},
    default_order="created_at desc",
    tie_breaker=Quote.id,
)


def listed() -> Select[tuple[Quote]]:
    return select(Quote)

"""The catalogue's tables: products, price lists (their prices and partner assignments), partner terms;
their mapping to the contract and their list allow-lists."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, Select, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from crm.sales.v1 import catalog_pb2
from crm_platform import protojson
from crm_platform.db import UtcDateTime
from crm_platform.errors import InvalidArgument
from crm_platform.listing import ENUM, STRING, TIMESTAMP, Field, ListSpec
from crm_platform.protobuf import timestamp
from crm_platform.resources import Repository, etag_of
from sales.store import Base

PRODUCT_KINDS = protojson.enum_names(catalog_pb2.ProductKind.DESCRIPTOR)
PRODUCT_KIND_NUMBERS = protojson.enum_numbers(catalog_pb2.ProductKind.DESCRIPTOR)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # the enum's short name: "product", "service"
    unit: Mapped[str] = mapped_column(String(32))
    tax_rate_bp: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_products_name", "name", "id"),)


def product_message(row: Any) -> catalog_pb2.Product:
    message = catalog_pb2.Product(
        id=row.id,
        sku=row.sku,
        name=row.name,
        description=row.description or "",
        kind=PRODUCT_KIND_NUMBERS.get(row.kind, 0),  # type: ignore[arg-type]
        unit=row.unit,
        tax_rate_bp=row.tax_rate_bp,
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
        etag=etag_of(row.id, row.version),
    )
    if row.archived_at is not None:
        message.archived_at.CopyFrom(timestamp(row.archived_at))
    return message


def product_columns(message: catalog_pb2.Product) -> dict[str, Any]:
    return {
        "sku": message.sku,
        "name": message.name,
        "description": message.description or None,
        "kind": PRODUCT_KINDS.get(message.kind) or "product",
        "unit": message.unit or "piece",
        "tax_rate_bp": message.tax_rate_bp,
    }


products = Repository(
    Product, "product", to_message=product_message, to_columns=product_columns, request_field="product"
)

PRODUCT_LIST_SPEC = ListSpec(
    name="products",
    fields={
        "sku": Field(Product.sku, STRING),
        "name": Field(Product.name, STRING),
        "kind": Field(Product.kind, ENUM, enum_values=tuple(n for n in PRODUCT_KINDS.values() if n)),
        "unit": Field(Product.unit, STRING),
        "created_at": Field(Product.created_at, TIMESTAMP),
    },
    orderable={"name", "sku", "created_at"},
    default_order="name",
    tie_breaker=Product.id,
)


def active_products() -> Select[tuple[Product]]:
    return select(Product).where(Product.archived_at.is_(None))


class PriceList(Base):
    __tablename__ = "price_lists"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    valid_from: Mapped[date | None] = mapped_column(nullable=True)
    valid_until: Mapped[date | None] = mapped_column(nullable=True)
    # Each price in its contract JSON form ({"product_id", "unit_amount_minor", "min_quantity"}): a list
    # is read whole (to show it, and to price from it), never searched by price.
    prices: Mapped[list[Any]] = mapped_column(JSON)
    partner_account_ids: Mapped[list[Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_price_lists_name", "name", "id"),)


class PriceListPartner(Base):
    """Which partner accounts a price list is assigned to: the same as `price_lists.partner_account_ids`,
    as rows, so "the lists a partner may read" is one indexed lookup."""

    __tablename__ = "price_list_partners"

    price_list_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    partner_account_id: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_price_list_partners_partner", "partner_account_id", "price_list_id"),)


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def parse_day(text: str, field: str = "date") -> date | None:
    """A contract's YYYY-MM-DD as a date; None for "". The contract's pattern checks the shape only
    ("2026-13-45" passes it): a day that does not exist is an INVALID_ARGUMENT naming `field`."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidArgument("invalid date", {field: "is not a calendar date (YYYY-MM-DD)"}) from None


def price_list_message(row: Any) -> catalog_pb2.PriceList:
    message = catalog_pb2.PriceList(
        id=row.id,
        name=row.name,
        currency=row.currency,
        valid_from=_day(row.valid_from),
        valid_until=_day(row.valid_until),
        prices=[catalog_pb2.Price(**price) for price in row.prices or []],
        partner_account_ids=list(row.partner_account_ids or []),
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
        etag=etag_of(row.id, row.version),
    )
    if row.archived_at is not None:
        message.archived_at.CopyFrom(timestamp(row.archived_at))
    return message


def price_json(price: catalog_pb2.Price) -> dict[str, Any]:
    return {
        "product_id": price.product_id,
        "unit_amount_minor": price.unit_amount_minor,
        "min_quantity": max(price.min_quantity, 1),
    }


def price_list_columns(message: catalog_pb2.PriceList) -> dict[str, Any]:
    return {
        "name": message.name,
        "currency": message.currency,
        "valid_from": parse_day(message.valid_from, "valid_from"),
        "valid_until": parse_day(message.valid_until, "valid_until"),
        "prices": [price_json(price) for price in message.prices],
        "partner_account_ids": sorted(set(message.partner_account_ids)),
    }


price_lists = Repository(
    PriceList,
    "price_list",
    to_message=price_list_message,
    to_columns=price_list_columns,
    request_field="price_list",
)

PRICE_LIST_SPEC = ListSpec(
    name="price_lists",
    fields={
        "name": Field(PriceList.name, STRING),
        "currency": Field(PriceList.currency, STRING),
        "created_at": Field(PriceList.created_at, TIMESTAMP),
    },
    orderable={"name", "created_at"},
    default_order="name",
    tie_breaker=PriceList.id,
)


def active_price_lists(partner_account_id: str | None) -> Select[tuple[PriceList]]:
    """Where price list lists start: live lists, only those assigned to `partner_account_id` when given
    (a partner user's view)."""
    query = select(PriceList).where(PriceList.archived_at.is_(None))
    if partner_account_id is not None:
        assigned = select(PriceListPartner.price_list_id).where(
            PriceListPartner.partner_account_id == partner_account_id
        )
        query = query.where(PriceList.id.in_(assigned))
    return query


class PartnerTermsRow(Base):
    """A partner account's commercial terms. Its row is also the account's credit lock: an order of the
    account locks it (SELECT ... FOR UPDATE) before adding up what the account owes."""

    __tablename__ = "partner_terms"

    partner_account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    price_list_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    credit_limit_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    credit_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # An order above it (or in another currency) waits for an approval (sales.orders.approval).
    approval_threshold_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    approval_threshold_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)


DEFAULT_PAYMENT_TERMS_DAYS = 30


def terms_message(row: Any) -> catalog_pb2.PartnerTerms:
    message = catalog_pb2.PartnerTerms(
        partner_account_id=row.partner_account_id,
        price_list_id=row.price_list_id or "",
        payment_terms_days=row.payment_terms_days,
        updated_at=timestamp(row.updated_at),
        etag=etag_of(row.partner_account_id, row.version),
    )
    if row.credit_limit_minor is not None:
        message.credit_limit.amount_minor = row.credit_limit_minor
        message.credit_limit.currency = row.credit_currency or ""
    if row.approval_threshold_minor is not None:
        message.approval_threshold.amount_minor = row.approval_threshold_minor
        message.approval_threshold.currency = row.approval_threshold_currency or ""
    return message

"""THE price resolution: (product, quantity, price list, day) -> the unit price that applies, or a clear
refusal. Quotes, orders and the partner portal all price through `resolve_price`, so a product costs the
same wherever it is priced.

The rule: the list must be live and valid on the day (valid_from <= day <= valid_until, either end
open); among the list's prices for the product, the one with the largest minimum quantity not above the
quantity applies (quantity breaks); the product must be live. A partner account prices from the list its
terms name (`partner_price_list`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from crm_platform.errors import BusinessRuleRefused, NotFound
from sales.catalog.store import PartnerTermsRow, PriceList, Product

NO_PRICE = "NO_PRICE"
NO_PRICE_LIST = "NO_PRICE_LIST"


@dataclass(frozen=True)
class ResolvedPrice:
    product_id: str
    sku: str
    name: str
    price_list_id: str
    currency: str
    unit_amount_minor: int
    min_quantity: int
    tax_rate_bp: int


def _price_list(db: Session | Connection, price_list_id: str) -> Any:
    row = db.execute(select(PriceList.__table__).where(PriceList.id == price_list_id)).one_or_none()
    if row is None or row.archived_at is not None:
        raise NotFound(
            f"price list {price_list_id} not found", resource_type="price_list", resource_name=price_list_id
        )
    return row


def _product(db: Session | Connection, product_id: str) -> Any:
    row = db.execute(select(Product.__table__).where(Product.id == product_id)).one_or_none()
    if row is None or row.archived_at is not None:
        raise NotFound(f"product {product_id} not found", resource_type="product", resource_name=product_id)
    return row


def best_price(prices: list[dict[str, Any]], product_id: str, quantity: int) -> dict[str, Any] | None:
    """The price of `product_id` with the largest minimum quantity not above `quantity`, or None."""
    applicable = [
        price
        for price in prices
        if price["product_id"] == product_id and max(price.get("min_quantity", 1), 1) <= quantity
    ]
    return max(applicable, key=lambda price: price.get("min_quantity", 1), default=None)


class PriceResolver:
    """Resolves many lines against one price list, reading the list once."""

    def __init__(self, db: Session | Connection, price_list_id: str, on: date) -> None:
        self.db = db
        self.on = on
        self.price_list = _price_list(db, price_list_id)
        row = self.price_list
        if (row.valid_from is not None and on < row.valid_from) or (
            row.valid_until is not None and on > row.valid_until
        ):
            raise BusinessRuleRefused(
                f"price list {row.id} is not valid on {on.isoformat()}",
                reason=NO_PRICE_LIST,
                metadata={"price_list_id": row.id, "on": on.isoformat()},
            )

    def resolve(self, product_id: str, quantity: int) -> ResolvedPrice:
        product = _product(self.db, product_id)
        price = best_price(list(self.price_list.prices or []), product_id, max(quantity, 1))
        if price is None:
            raise BusinessRuleRefused(
                f"price list {self.price_list.id} has no price for {product_id} at quantity {quantity}",
                reason=NO_PRICE,
                metadata={"price_list_id": self.price_list.id, "product_id": product_id},
            )
        return ResolvedPrice(
            product_id=product.id,
            sku=product.sku,
            name=product.name,
            price_list_id=self.price_list.id,
            currency=self.price_list.currency,
            unit_amount_minor=int(price["unit_amount_minor"]),
            min_quantity=max(int(price.get("min_quantity", 1)), 1),
            tax_rate_bp=product.tax_rate_bp,
        )


def resolve_price(
    db: Session | Connection, product_id: str, quantity: int, price_list_id: str, on: date
) -> ResolvedPrice:
    """The unit price of `quantity` of `product_id` from `price_list_id` on `on`. NOT_FOUND for a list or
    product that does not exist (or is archived); BusinessRuleRefused (422) NO_PRICE_LIST for a list not
    valid that day, NO_PRICE when the list does not price the product at that quantity."""
    return PriceResolver(db, price_list_id, on).resolve(product_id, quantity)


def partner_price_list(db: Session | Connection, partner_account_id: str) -> str:
    """The price list a partner account's terms name; BusinessRuleRefused NO_PRICE_LIST without one."""
    found = db.execute(
        select(PartnerTermsRow.price_list_id).where(PartnerTermsRow.partner_account_id == partner_account_id)
    ).scalar_one_or_none()
    if not found:
        raise BusinessRuleRefused(
            f"partner account {partner_account_id} has no price list in its terms",
            reason=NO_PRICE_LIST,
            metadata={"partner_account_id": partner_account_id},
        )
    return found

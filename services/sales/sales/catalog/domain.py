"""The catalogue's rules: plain Python, no I/O.

Who may do what: the catalogue and price lists are one for everyone, so their rows carry no owner.
Reading needs read rights on the type (`product`, `price_list`); changing them needs the right at level
`all` and a staff caller (a partner user never changes the catalogue, whatever a custom role says).
A partner user reads only the price lists assigned to their account, and only their account's terms.
"""

from __future__ import annotations

from collections.abc import Iterable

from crm.sales.v1 import catalog_pb2
from crm_platform.access import CallerContext, Level, require
from crm_platform.errors import InvalidArgument, PermissionDenied


def require_read(caller: CallerContext | None, type_name: str) -> None:
    if caller is not None:
        require(caller, type_name, "read")


def require_manage(caller: CallerContext | None, type_name: str, action: str) -> None:
    """Changing the catalogue, a price list or a partner's terms: staff with `action` at level `all`."""
    if caller is None:
        return
    if caller.is_partner or caller.level(type_name, action) is not Level.ALL:
        raise PermissionDenied(f"you may not {action} {type_name} records")


def check_price_list(
    price_list: catalog_pb2.PriceList | catalog_pb2.CreatePriceListRequest, field: str = ""
) -> None:
    """Validity dates in order, one price per (product, minimum quantity)."""
    prefix = f"{field}." if field else ""
    errors: dict[str, str] = {}
    if not price_list.currency:
        errors[f"{prefix}currency"] = "is required"
    if price_list.valid_from and price_list.valid_until and price_list.valid_until < price_list.valid_from:
        errors[f"{prefix}valid_until"] = "must not be before valid_from"
    seen: set[tuple[str, int]] = set()
    for index, price in enumerate(price_list.prices):
        key = (price.product_id, max(price.min_quantity, 1))
        if key in seen:
            errors[f"{prefix}prices[{index}]"] = "repeats a product and minimum quantity"
        seen.add(key)
    if errors:
        raise InvalidArgument("invalid price list", errors)


def unknown_products(prices: Iterable[catalog_pb2.Price], known: set[str], field: str = "") -> None:
    prefix = f"{field}." if field else ""
    errors = {
        f"{prefix}prices[{index}].product_id": "no such product"
        for index, price in enumerate(prices)
        if price.product_id not in known
    }
    if errors:
        raise InvalidArgument("invalid price list", errors)


def check_terms_amounts(terms: catalog_pb2.PartnerTerms) -> None:
    """The terms' amounts (credit limit, approval threshold), when given: not negative, in a currency."""
    errors: dict[str, str] = {}
    for name in ("credit_limit", "approval_threshold"):
        if not terms.HasField(name):
            continue
        amount = getattr(terms, name)
        if amount.amount_minor < 0:
            errors[f"terms.{name}.amount_minor"] = "must not be negative"
        currency = amount.currency
        if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
            errors[f"terms.{name}.currency"] = "must be an ISO 4217 code"
    if errors:
        raise InvalidArgument("invalid terms", errors)

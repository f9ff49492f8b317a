"""Orders' rules: plain Python, no I/O.

Pricing turns each asked line into a priced line through the catalogue's one price resolution and the
one rounding rule (sales.money); the status flow says which step may follow which.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from crm.sales.v1 import orders_pb2
from crm_platform.errors import FailedPrecondition, InvalidArgument
from sales.catalog.pricing import ResolvedPrice
from sales.money import LineAmounts, Totals, money, price_line, sum_lines

# status -> the statuses it may move to (by the custom method of the target's name).
FLOW: dict[str, tuple[str, ...]] = {
    "submitted": ("confirmed", "cancelled"),
    "confirmed": ("shipped", "cancelled"),
    "shipped": ("delivered",),
    "delivered": (),
    "cancelled": (),
}


def check_transition(order_id: str, current: str, target: str) -> None:
    if target not in FLOW.get(current, ()):
        raise FailedPrecondition(f"order {order_id} is {current}: it cannot become {target}")


@dataclass(frozen=True)
class PricedOrder:
    currency: str
    price_list_id: str
    lines: list[orders_pb2.OrderLine]
    totals: Totals


def price_order(
    asked: Sequence[orders_pb2.OrderLineRequest], resolve: Callable[[str, int], ResolvedPrice]
) -> PricedOrder:
    """Each asked line priced by `resolve(product_id, quantity)` (one price list, so one currency). A
    product may appear once: its quantity break depends on the whole quantity."""
    seen: dict[str, int] = {}
    for index, line in enumerate(asked):
        if line.product_id in seen:
            raise InvalidArgument(
                "invalid order", {f"lines[{index}].product_id": "is already on another line"}
            )
        seen[line.product_id] = index
    priced: list[orders_pb2.OrderLine] = []
    amounts: list[LineAmounts] = []
    currency = price_list_id = ""
    for line in asked:
        price = resolve(line.product_id, line.quantity)
        currency, price_list_id = price.currency, price.price_list_id
        amount = price_line(price.unit_amount_minor, line.quantity, price.tax_rate_bp)
        amounts.append(amount)
        priced.append(
            orders_pb2.OrderLine(
                product_id=price.product_id,
                sku=price.sku,
                name=price.name,
                quantity=line.quantity,
                unit_price=money(amount.unit_amount_minor, currency),
                net=money(amount.net, currency),
                tax_rate_bp=amount.tax_rate_bp,
                tax=money(amount.tax, currency),
                total=money(amount.total, currency),
            )
        )
    return PricedOrder(currency, price_list_id, priced, sum_lines(amounts))

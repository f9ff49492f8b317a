"""Money in sales: integer minor units plus an ISO 4217 currency, and the one rounding rule.

Amounts are never floats. The only step that can produce a fraction of a minor unit is a rate applied
to an amount (a line's discount, then its tax): it is rounded here, per line, half-even (banker's
rounding, so ties do not drift upwards over many lines), and totals are plain sums of the rounded lines.
So a document's grand total always equals the sum of its printed lines.

    line = price_line(unit_amount_minor=1999, quantity=3, tax_rate_bp=2000)   # net 5997, tax 1199
    line = price_line(1999, 3, 2000, discount_bp=1000)  # subtotal 5997, discount 600, net 5397, tax 1079
    totals = sum_lines([line, ...])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crm.common.v1 import money_pb2

BASIS_POINTS = 10_000  # rates are integers in basis points: 2000 is 20%


def apply_rate(amount_minor: int, rate_bp: int) -> int:
    """`amount_minor` x `rate_bp` / 10,000, rounded half-even to a whole minor unit (exact integers)."""
    quotient, remainder = divmod(amount_minor * rate_bp, BASIS_POINTS)
    twice = 2 * remainder
    if twice > BASIS_POINTS or (twice == BASIS_POINTS and quotient % 2 == 1):
        quotient += 1
    return quotient


@dataclass(frozen=True)
class LineAmounts:
    """One priced line: subtotal = unit x quantity, discount = subtotal at the discount rate (rounded),
    net = subtotal - discount, tax = net at the tax rate (rounded), total = net + tax."""

    unit_amount_minor: int
    quantity: int
    tax_rate_bp: int
    net: int
    tax: int
    discount: int = 0
    discount_bp: int = 0

    @property
    def subtotal(self) -> int:
        return self.net + self.discount

    @property
    def total(self) -> int:
        return self.net + self.tax


def price_line(unit_amount_minor: int, quantity: int, tax_rate_bp: int, discount_bp: int = 0) -> LineAmounts:
    subtotal = unit_amount_minor * quantity
    discount = apply_rate(subtotal, discount_bp)
    net = subtotal - discount  # tax is on what the customer pays, after the discount
    return LineAmounts(
        unit_amount_minor, quantity, tax_rate_bp, net, apply_rate(net, tax_rate_bp), discount, discount_bp
    )


@dataclass(frozen=True)
class Totals:
    net: int
    tax: int
    discount: int = 0

    @property
    def subtotal(self) -> int:
        return self.net + self.discount

    @property
    def grand_total(self) -> int:
        return self.net + self.tax


def sum_lines(lines: Iterable[LineAmounts]) -> Totals:
    net = tax = discount = 0
    for line in lines:
        net += line.net
        tax += line.tax
        discount += line.discount
    return Totals(net, tax, discount)


def money(amount_minor: int, currency: str) -> money_pb2.Money:
    return money_pb2.Money(amount_minor=amount_minor, currency=currency)

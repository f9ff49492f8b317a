"""Money in sales: integer minor units plus an ISO 4217 currency, and the one rounding rule.

Amounts are never floats. The only step that can produce a fraction of a minor unit is a rate applied
to an amount (tax today; discounts when quotes arrive): it is rounded here, per line, half-even
(banker's rounding, so ties do not drift upwards over many lines), and totals are plain sums of the
rounded lines. So a document's grand total always equals the sum of its printed lines.

    line = price_line(unit_amount_minor=1999, quantity=3, tax_rate_bp=2000)   # net 5997, tax 1199
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
    """One priced line: net = unit x quantity, tax = net at the rate (rounded), total = net + tax."""

    unit_amount_minor: int
    quantity: int
    tax_rate_bp: int
    net: int
    tax: int

    @property
    def total(self) -> int:
        return self.net + self.tax


def price_line(unit_amount_minor: int, quantity: int, tax_rate_bp: int) -> LineAmounts:
    net = unit_amount_minor * quantity
    return LineAmounts(unit_amount_minor, quantity, tax_rate_bp, net, apply_rate(net, tax_rate_bp))


@dataclass(frozen=True)
class Totals:
    net: int
    tax: int

    @property
    def grand_total(self) -> int:
        return self.net + self.tax


def sum_lines(lines: Iterable[LineAmounts]) -> Totals:
    net = tax = 0
    for line in lines:
        net += line.net
        tax += line.tax
    return Totals(net, tax)


def money(amount_minor: int, currency: str) -> money_pb2.Money:
    return money_pb2.Money(amount_minor=amount_minor, currency=currency)

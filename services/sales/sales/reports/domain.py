"""The rules of the sales reports: plain Python, no I/O.

A period is a calendar month ("2026-03"), quarter ("2026-Q1") or year ("2026") in UTC; the contract's
pattern has already checked its form. Ratios are computed here from the integer counts the database
answers, so every report rounds the same way; weighted money is rounded once per figure, half-even
(sales.money.apply_rate), never per deal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from crm_platform.errors import InvalidArgument
from sales.money import apply_rate

PERCENT_BP = 100  # a probability in percent, as basis points of apply_rate: amount x p / 100


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, and the same as ISO dates (end exclusive) for date columns."""

    name: str
    start: dt.datetime
    end: dt.datetime

    @property
    def grain(self) -> str:
        """ "month", "quarter" or "year" (the funnel's rollup keeps "first entry in the period" per
        grain: sales.reports.rollup_rules)."""
        if len(self.name) == 4:
            return "year"
        return "quarter" if self.name[5] == "Q" else "month"

    @property
    def first_day(self) -> str:
        return self.start.date().isoformat()

    @property
    def day_after(self) -> str:
        return self.end.date().isoformat()


def _month_start(year: int, month: int) -> dt.datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return dt.datetime(year, month, 1, tzinfo=dt.UTC)


def parse_period(text: str, field: str = "period") -> Period:
    """'2026-03' -> March 2026, '2026-Q2' -> April to June, '2026' -> the year. The contract's pattern
    admits years 0000 and 9999, which a calendar cannot bound (InvalidArgument naming `field`)."""
    year = int(text[:4])
    if not 1 <= year <= 9998:
        raise InvalidArgument("invalid period", {field: "the year must be between 0001 and 9998"})
    if len(text) == 4:
        first, months = 1, 12
    elif text[5] == "Q":
        first, months = 3 * (int(text[6]) - 1) + 1, 3
    else:
        first, months = int(text[5:7]), 1
    return Period(text, _month_start(year, first), _month_start(year, first + months))


def check_quota_amount(amount_minor: int, currency: str, field: str) -> None:
    """A quota is a positive amount of one currency."""
    if not currency or amount_minor <= 0:
        raise InvalidArgument("invalid quota", {field: "a positive amount with its currency is required"})


def ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def weighted(amount_times_probability: int) -> int:
    """Sum of amount_minor x probability (percent) -> minor units, rounded half-even once."""
    return apply_rate(amount_times_probability, PERCENT_BP)

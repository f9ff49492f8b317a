"""Computed filter fields: a value derived from a column, compared by rewriting the comparison into a
range on that column, so the column's own index serves it.

`years_since(Contact.birth_date)` is an age in whole years: `age >= 30 AND age < 40` becomes
`birth_date <= <today 30 years ago> AND birth_date > <today 40 years ago>`. The column holds dates as
"YYYY-MM-DD" text (ISO dates order as text on both backends, so no collation is needed). Someone born
on 29 February turns a year older on 1 March in years without that day, as a person's age is counted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, not_, or_

from crm_platform.listing.fields import INTEGER, Field, clause_of
from crm_platform.listing.invalid import filter_error

MAX_YEARS = 150  # older than anyone: a larger number is a typo, not a question


def years_before(today: date, years: int) -> date:
    """The date `years` years before `today`; 28 February when that year has no 29 February."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def years_since(column: Any, *, today: Callable[[], date] | None = None) -> Field:
    """A filterable INTEGER field: whole years from the date in `column` to today (UTC)."""
    clause = clause_of(column)
    current = today or (lambda: datetime.now(UTC).date())

    def at_least(years: int) -> ColumnElement[bool]:
        # Born on or before the day `years` years ago: `years` old or older. Never true for NULL.
        return clause <= years_before(current(), years).isoformat()

    def compare(op: str, years: int | None) -> ColumnElement[bool]:
        if years is None:
            return clause.is_(None) if op == "=" else clause.is_not(None)
        if not 0 <= years <= MAX_YEARS:
            raise filter_error(f"an age is a whole number of years from 0 to {MAX_YEARS}, not {years}")
        # Each comparison as "at least n years" and its negation: two index range bounds at most. The
        # NULL guard keeps comparisons two-valued (compiler.py): only `!=` holds without a birth date.
        tests = {
            ">=": lambda: at_least(years),
            ">": lambda: at_least(years + 1),
            "<": lambda: not_(at_least(years)),
            "<=": lambda: not_(at_least(years + 1)),
            "=": lambda: and_(at_least(years), not_(at_least(years + 1))),
            "!=": lambda: or_(not_(at_least(years)), at_least(years + 1)),
        }
        test = tests[op]()
        return or_(clause.is_(None), test) if op == "!=" else and_(clause.is_not(None), test)

    return Field(column, INTEGER, predicate=compare)

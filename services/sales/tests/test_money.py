"""The one rounding rule (sales.money): per line, half-even, totals the sums of the rounded lines."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from sales.money import apply_rate, price_line, sum_lines

amounts = st.integers(min_value=0, max_value=10**12)
rates = st.integers(min_value=0, max_value=10_000)
lines = st.lists(st.tuples(st.integers(0, 10**8), st.integers(1, 10**4), rates), min_size=1, max_size=30)


def test_ties_go_to_the_even_neighbour() -> None:
    assert [apply_rate(a, 5000) for a in (1, 3, 5, 7)] == [0, 2, 2, 4]  # 0.5, 1.5, 2.5, 3.5
    assert apply_rate(10, 1250) == 1  # 1.25 rounds down
    assert apply_rate(14, 1250) == 2  # 1.75 rounds up
    assert apply_rate(1999 * 3, 2000) == 1199  # 1199.4


@given(amounts, rates)
def test_a_rate_is_the_exact_product_rounded_half_even(amount: int, rate: int) -> None:
    assert apply_rate(amount, rate) == round(Fraction(amount * rate, 10_000))  # Fraction rounds half-even


@given(amounts, rates)
def test_rounding_is_off_by_at_most_half_a_minor_unit(amount: int, rate: int) -> None:
    assert abs(Fraction(apply_rate(amount, rate)) - Fraction(amount * rate, 10_000)) <= Fraction(1, 2)


@given(lines)
def test_totals_are_the_sums_of_the_printed_lines(asked: list[tuple[int, int, int]]) -> None:
    priced = [price_line(unit, quantity, rate) for unit, quantity, rate in asked]
    totals = sum_lines(priced)
    assert totals.net == sum(unit * quantity for unit, quantity, _ in asked)
    assert totals.tax == sum(line.tax for line in priced)
    assert totals.grand_total == sum(line.total for line in priced) == totals.net + totals.tax
    # Per-line rounding: never further from the exact tax than half a unit per line.
    exact = sum(Fraction(unit * quantity * rate, 10_000) for unit, quantity, rate in asked)
    assert abs(totals.tax - exact) <= Fraction(len(asked), 2)

"""Quote totals (sales.quotes.domain.price_quote) against a plain recomputation with exact fractions:
per line, the discount is the subtotal at its rate and the tax the discounted net at the product's rate,
each rounded half-even to the minor unit; the totals are the sums of the printed lines. Also the
discount allowances that decide whether a quote needs an approval."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.sales.v1 import quotes_pb2
from crm_platform.errors import InvalidArgument
from sales.catalog.pricing import ResolvedPrice
from sales.quotes import domain

# (unit price, quantity, discount bp, tax bp), one product per line.
line_values = st.tuples(
    st.integers(0, 10**8), st.integers(1, 10**4), st.integers(0, 10_000), st.integers(0, 10_000)
)


def _catalogue(asked: list[tuple[int, int, int, int]]) -> dict[str, tuple[int, int]]:
    return {f"p{index}": (unit, tax) for index, (unit, _, _, tax) in enumerate(asked)}


def _resolver(catalogue: dict[str, tuple[int, int]]):  # type: ignore[no-untyped-def]
    def resolve(product_id: str, quantity: int) -> ResolvedPrice:
        unit, tax = catalogue[product_id]
        return ResolvedPrice(product_id, product_id.upper(), "Thing", "pl", "EUR", unit, 1, tax)

    return resolve


def _half_even(value: Fraction) -> int:
    return round(value)  # Fraction rounds ties to even


@given(st.lists(line_values, min_size=1, max_size=25))
def test_totals_equal_a_recomputation_with_exact_fractions(asked: list[tuple[int, int, int, int]]) -> None:
    lines = [
        quotes_pb2.QuoteLine(product_id=f"p{index}", quantity=quantity, discount_bp=discount)
        for index, (_, quantity, discount, _) in enumerate(asked)
    ]
    priced = domain.price_quote(lines, _resolver(_catalogue(asked)))

    subtotal = discount_total = net_total = tax_total = 0
    for line, (unit, quantity, discount_bp, tax_bp) in zip(priced.lines, asked, strict=True):
        gross = unit * quantity
        discount = _half_even(Fraction(gross * discount_bp, 10_000))
        net = gross - discount
        tax = _half_even(Fraction(net * tax_bp, 10_000))
        assert (line.subtotal.amount_minor, line.discount.amount_minor) == (gross, discount)
        assert (line.net.amount_minor, line.tax.amount_minor, line.total.amount_minor) == (
            net,
            tax,
            net + tax,
        )
        assert abs(Fraction(discount) - Fraction(gross * discount_bp, 10_000)) <= Fraction(1, 2)
        assert 0 <= net <= gross
        subtotal, discount_total = subtotal + gross, discount_total + discount
        net_total, tax_total = net_total + net, tax_total + tax
    totals = priced.totals
    assert (totals.subtotal, totals.discount, totals.net, totals.tax) == (
        subtotal,
        discount_total,
        net_total,
        tax_total,
    )
    assert (
        totals.grand_total == net_total + tax_total == sum(line.total.amount_minor for line in priced.lines)
    )
    assert priced.max_discount_bp == max(discount for _, _, discount, _ in asked)
    assert priced.currency == "EUR"


def test_a_tie_goes_to_the_even_neighbour_for_discounts_and_taxes() -> None:
    # 25 x 10% = 2.5 -> 2 (even); net 23 x 50% tax = 11.5 -> 12 (even).
    lines = [quotes_pb2.QuoteLine(product_id="p0", quantity=1, discount_bp=1000)]
    line = domain.price_quote(lines, _resolver({"p0": (25, 5000)})).lines[0]
    assert (line.discount.amount_minor, line.net.amount_minor, line.tax.amount_minor) == (2, 23, 12)


def test_a_product_is_on_one_line_only() -> None:
    lines = [
        quotes_pb2.QuoteLine(product_id="p0", quantity=1),
        quotes_pb2.QuoteLine(product_id="p0", quantity=2),
    ]
    with pytest.raises(InvalidArgument) as refused:
        domain.price_quote(lines, _resolver({"p0": (100, 0)}))
    assert "lines[1].product_id" in refused.value.fields


def test_allowances_are_per_role_the_widest_wins_and_unlisted_roles_give_none() -> None:
    allowances = domain.parse_allowances("sales_rep=1000, manager=2500,admin=10000")
    assert allowances == {"sales_rep": 1000, "manager": 2500, "admin": 10_000}
    assert domain.allowance(("sales_rep", "manager"), allowances) == 2500
    assert domain.allowance(("marketer",), allowances) == 0
    assert domain.approval_needed(1000, 1000) == domain.NOT_REQUIRED
    assert domain.approval_needed(1001, 1000) == domain.PENDING
    for bad in ("sales_rep=ten", "=5", "admin=10001"):
        with pytest.raises(ValueError):
            domain.parse_allowances(bad)

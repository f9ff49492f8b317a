"""Quotes' rules: plain Python, no I/O.

- Pricing: each line through the catalogue's one price resolution, then `sales.money.price_line` with
  the line's discount (basis points of its subtotal) and the product's tax: the one rounding rule, per
  line, half-even; totals are sums of the rounded lines.
- Status flow: draft -> sent -> accepted | rejected; a sent quote past its `valid_until` day is expired.
- Approvals: a quote whose largest line discount is above what its author's roles may give
  (`SALES_QUOTE_DISCOUNT_ALLOWANCES`) waits for an approval before it can be sent; an approver needs an
  allowance covering it and may not approve a request of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from crm.sales.v1 import quotes_pb2
from crm_platform import config
from crm_platform.errors import BusinessRuleRefused, FailedPrecondition, InvalidArgument, PermissionDenied
from sales import approvals
from sales.catalog.pricing import ResolvedPrice
from sales.money import BASIS_POINTS, LineAmounts, Totals, money, price_line, sum_lines

DRAFT, SENT, ACCEPTED, REJECTED, EXPIRED = "draft", "sent", "accepted", "rejected", "expired"
# status -> the statuses it may move to (by the custom method of the target's name).
FLOW: dict[str, tuple[str, ...]] = {
    DRAFT: (SENT,),
    SENT: (ACCEPTED, REJECTED, EXPIRED),
    ACCEPTED: (),
    REJECTED: (),
    EXPIRED: (),
}
# The approval states are sales.approvals' (shared with orders); a refused approval is its REJECTED.
NOT_REQUIRED, PENDING, APPROVED = approvals.NOT_REQUIRED, approvals.PENDING, approvals.APPROVED
REFUSED = approvals.REJECTED

DEFAULT_VALIDITY_DAYS = 30
QUOTE_EXPIRED = "QUOTE_EXPIRED"


def check_transition(quote_id: str, current: str, target: str) -> None:
    if target not in FLOW.get(current, ()):
        raise FailedPrecondition(f"quote {quote_id} is {current}: it cannot become {target}")


def valid_until(asked: str, today: date) -> date:
    """The asked last day (YYYY-MM-DD, not before today), or today + 30 days."""
    if not asked:
        return today + timedelta(days=DEFAULT_VALIDITY_DAYS)
    try:
        day = date.fromisoformat(asked)
    except ValueError:
        raise InvalidArgument("invalid quote", {"valid_until": "is not a real day"}) from None
    if day < today:
        raise InvalidArgument("invalid quote", {"valid_until": "is in the past"})
    return day


def is_expired(status: str, last_day: date, today: date) -> bool:
    return status == SENT and today > last_day


def check_not_expired(quote_id: str, status: str, last_day: date, today: date) -> None:
    """A sent quote past its last day cannot be accepted (even before the sweep marks it expired)."""
    if is_expired(status, last_day, today):
        raise BusinessRuleRefused(
            f"quote {quote_id} expired after {last_day.isoformat()}: it can no longer be accepted",
            reason=QUOTE_EXPIRED,
            metadata={"quote_id": quote_id, "valid_until": last_day.isoformat()},
        )


# --- pricing -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PricedQuote:
    currency: str
    price_list_id: str
    lines: list[quotes_pb2.QuoteLine]
    totals: Totals
    max_discount_bp: int


def price_quote(
    asked: Sequence[quotes_pb2.QuoteLine], resolve: Callable[[str, int], ResolvedPrice]
) -> PricedQuote:
    """Each asked line (product, quantity, discount) priced by `resolve(product_id, quantity)` from one
    price list. A product may appear once: its quantity break depends on its whole quantity."""
    seen: set[str] = set()
    for index, line in enumerate(asked):
        if line.product_id in seen:
            raise InvalidArgument(
                "invalid quote", {f"lines[{index}].product_id": "is already on another line"}
            )
        seen.add(line.product_id)
    priced: list[quotes_pb2.QuoteLine] = []
    amounts: list[LineAmounts] = []
    currency = price_list_id = ""
    for line in asked:
        price = resolve(line.product_id, line.quantity)
        currency, price_list_id = price.currency, price.price_list_id
        amount = price_line(price.unit_amount_minor, line.quantity, price.tax_rate_bp, line.discount_bp)
        amounts.append(amount)
        priced.append(quote_line(price, amount))
    max_discount = max((line.discount_bp for line in asked), default=0)
    return PricedQuote(currency, price_list_id, priced, sum_lines(amounts), max_discount)


def quote_line(price: ResolvedPrice, amount: LineAmounts) -> quotes_pb2.QuoteLine:
    currency = price.currency
    return quotes_pb2.QuoteLine(
        product_id=price.product_id,
        quantity=amount.quantity,
        discount_bp=amount.discount_bp,
        sku=price.sku,
        name=price.name,
        unit_price=money(amount.unit_amount_minor, currency),
        subtotal=money(amount.subtotal, currency),
        discount=money(amount.discount, currency),
        net=money(amount.net, currency),
        tax_rate_bp=amount.tax_rate_bp,
        tax=money(amount.tax, currency),
        total=money(amount.total, currency),
    )


# --- approvals -----------------------------------------------------------------------------------------


def parse_allowances(raw: str) -> dict[str, int]:
    """`sales_rep=1000,manager=2500,admin=10000` -> {role: basis points}; 10000 (100%) is unlimited."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        role, _, amount = part.partition("=")
        amount = amount.strip()
        if not role.strip() or not amount.isdigit() or int(amount) > BASIS_POINTS:
            raise ValueError(f"expected role=basis_points pairs (0 to 10000), got {part!r}")
        out[role.strip()] = int(amount)
    return out


DISCOUNT_ALLOWANCES = config.Setting(
    "SALES_QUOTE_DISCOUNT_ALLOWANCES",
    parse_allowances,
    default="sales_rep=1000,manager=2500,admin=10000",
    help="per role, the largest line discount (basis points) a quote's author may give without approval",
)


def allowance(roles: Iterable[str], allowances: Mapping[str, int]) -> int:
    """The most a caller with `roles` may give: the widest of their roles' (0 for roles not listed)."""
    return max((allowances.get(role, 0) for role in roles), default=0)


def approval_needed(max_discount_bp: int, allowed_bp: int) -> str:
    """The approval state a quote starts in after its lines change."""
    return PENDING if max_discount_bp > allowed_bp else NOT_REQUIRED


def check_sendable(quote_id: str, approval_state: str) -> None:
    """422 APPROVAL_REQUIRED while its discount waits for an approval or was refused one."""
    approvals.check_approved("quote", quote_id, approval_state, "be sent")


def check_approver(
    quote_id: str,
    approval_state: str,
    requested_by: str | None,
    approver: str,
    approver_allowed_bp: int,
    max_discount_bp: int,
) -> None:
    """An approval may be decided while pending, by someone else than who asked (sales.approvals), whose
    own allowance covers the discount (so a manager approves what a rep may not give, and only an admin
    beyond it)."""
    approvals.check_decidable(f"quote {quote_id}", approval_state, requested_by, approver)
    if approver_allowed_bp < max_discount_bp:
        raise PermissionDenied(
            f"this quote's discount ({max_discount_bp} bp) is over your allowance ({approver_allowed_bp} bp)"
        )

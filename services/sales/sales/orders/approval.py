"""An order beyond its partner's usual terms waits for a manager's approval before it can be confirmed
(the machinery is sales.approvals', shared with quotes; this is what is particular to orders).

"Usual terms" are the partner account's terms row (`/api/v1/partner-accounts/{id}/terms`). An order of
the account goes beyond them, and is placed with a pending approval, when
- its grand total is above the terms' `approval_threshold`, or is in another currency than the
  threshold's (nothing says what is usual in that currency): reason `above_approval_threshold`;
- it asks for more net days than the terms' `payment_terms_days`: reason `longer_payment_terms`.
An order without a partner account has no partner terms to go beyond and needs no approval; one placed
by accepting a quote is checked like any other (the quote's discount approval is about the discount,
not about the account's usual order size).

Deciding needs update rights on the order (the scope), a role of SALES_ORDER_APPROVER_ROLES (managers
and admins by default), not to be a partner user, and not to be who placed it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crm_platform import config
from crm_platform.access import CallerContext
from crm_platform.errors import FailedPrecondition, PermissionDenied
from sales import approvals

ABOVE_THRESHOLD = "above_approval_threshold"
LONGER_PAYMENT_TERMS = "longer_payment_terms"
SUBMITTED = "submitted"


def _roles(raw: str) -> frozenset[str]:
    roles = frozenset(part.strip() for part in raw.split(",") if part.strip())
    if not roles:
        raise ValueError("name at least one role")
    return roles


APPROVER_ROLES = config.Setting(
    "SALES_ORDER_APPROVER_ROLES",
    _roles,
    default="manager,admin",
    help="the roles (comma-separated) that may approve or reject an order beyond its partner's usual terms",
)


def beyond_terms(terms: Any, currency: str, total_minor: int, days: int) -> list[str]:
    """What of the partner's terms row `terms` an order in `currency` of `total_minor` with `days` net
    days goes beyond (empty: within them, or no terms)."""
    if terms is None:
        return []
    reasons = []
    threshold = terms.approval_threshold_minor
    if threshold is not None and (terms.approval_threshold_currency != currency or total_minor > threshold):
        reasons.append(ABOVE_THRESHOLD)
    if days > terms.payment_terms_days:
        reasons.append(LONGER_PAYMENT_TERMS)
    return reasons


def columns(reasons: list[str], terms: Any, requester: str | None, now: datetime) -> dict[str, Any]:
    """The approval columns of a new order: pending when it goes beyond its terms for `reasons`."""
    return {
        **approvals.requested(bool(reasons), requester, now),
        "approval_reasons": reasons or None,
        "approval_threshold_minor": terms.approval_threshold_minor if terms is not None else None,
        "approval_threshold_currency": terms.approval_threshold_currency if terms is not None else None,
    }


def check_approver(row: Any, caller: CallerContext | None, approver: str) -> None:
    """The order's pending approval may be decided by `approver` (`caller`; None: trusted internal code)."""
    if row.status != SUBMITTED:
        raise FailedPrecondition(f"order {row.id} is {row.status}: its approval can no longer be decided")
    approvals.check_decidable(f"order {row.id}", row.approval_state, row.approval_requested_by, approver)
    if caller is None:
        return
    if caller.is_partner:
        raise PermissionDenied("an order beyond a partner's terms is approved by the seller's staff")
    if not APPROVER_ROLES.get() & set(caller.roles):
        raise PermissionDenied(
            "approving orders beyond a partner's terms needs one of the roles "
            + ", ".join(sorted(APPROVER_ROLES.get()))
        )

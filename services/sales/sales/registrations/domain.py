"""Deal registrations' rules: plain Python, no I/O.

The contract's field rules (crm/sales/v1/registrations.proto) have already been checked; what is here
needs more than one field, a setting or the clock: how a registration names its company, the review flow,
how long an approval protects a company, and who a protection keeps out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crm_platform import config
from crm_platform.errors import BusinessRuleRefused, FailedPrecondition, InvalidArgument

SUBMITTED, APPROVED, REJECTED = "submitted", "approved", "rejected"
REGISTRATION_CONFLICT = "REGISTRATION_CONFLICT"

PROTECTION_DAYS = config.Setting(
    "SALES_REGISTRATION_PROTECTION_DAYS",
    config.positive_int,
    default="90",
    help="days an approved deal registration protects its company for the partner account",
)


@dataclass(frozen=True)
class CompanyAsked:
    """How a new registration names its customer: an existing company, or a name and domain to find or
    create one by (the contacts service decides which company that is)."""

    company_id: str
    name: str
    domain: str


def check_company(company_id: str, name: str, domain: str) -> CompanyAsked:
    """Either an existing company, or a domain (with the name a new company would get). The domain is
    required because it is what recognises one company across partners' books: a registration without
    one could never conflict with another partner's and so could protect nothing."""
    name, domain = name.strip(), domain.strip()
    if company_id and (name or domain):
        raise InvalidArgument(
            "invalid registration",
            {"company_id": "name an existing company, or a company_name and company_domain, not both"},
        )
    if not company_id and not domain:
        raise InvalidArgument(
            "invalid registration",
            {"company_domain": "is required (or an existing company's id): it identifies the company"},
        )
    if domain and not name:
        raise InvalidArgument("invalid registration", {"company_name": "is required with company_domain"})
    return CompanyAsked(company_id, name, domain)


def require_domain(company_id: str, domain: str) -> str:
    """An existing company named by id must have a domain for the same reason as `check_company`."""
    if not domain:
        raise InvalidArgument(
            "invalid registration",
            {"company_id": f"company {company_id} has no domain; give it one (it identifies the company)"},
        )
    return domain


def check_review(registration_id: str, status: str, target: str) -> bool:
    """Whether reviewing to `target` changes anything: False for the same decision again (answered as
    it is); FAILED_PRECONDITION for the opposite decision of one already made."""
    if status == target:
        return False
    if status != SUBMITTED:
        raise FailedPrecondition(
            f"deal registration {registration_id} is {status}, it cannot become {target}"
        )
    return True


def require_partner(registration_id: str, partner_account_id: str | None) -> str:
    """Only a registration of a partner account can be approved: protection is for someone."""
    if not partner_account_id:
        raise FailedPrecondition(
            f"deal registration {registration_id} has no partner account: there is no one to protect the"
            " company for (reject it, or register it again naming the partner account)"
        )
    return partner_account_id


def protected_until(now: datetime, days: int) -> datetime:
    return now + timedelta(days=days)


def refuse_if_held(domain: str, holder: Any | None, partner: str, now: datetime) -> None:
    """REGISTRATION_CONFLICT while another partner account holds the company (`holder`: its protection,
    with `partner_account_id` and `protected_until`; None when nobody ever held it) and its protection has
    not run out. The refusal names neither that partner nor their registration: a partner user learns
    only that the company is taken."""
    if holder is None or holder.partner_account_id in (None, partner) or holder.protected_until is None:
        return
    if holder.protected_until > now:
        raise BusinessRuleRefused(
            f"the company {domain} is protected by another partner's approved registration",
            reason=REGISTRATION_CONFLICT,
            metadata={"company_domain": domain},
        )

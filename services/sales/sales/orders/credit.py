"""The credit limit: a partner account's open, unpaid orders plus a new one may never exceed it.

Checked in the order's own transaction after locking the account's terms row, so the check and the
insert are one step per account: on PostgreSQL `SELECT ... FOR UPDATE` makes a concurrent order of the
same account wait until this one commits (and then see it in the sum); on SQLite every writer already
holds the database from `BEGIN IMMEDIATE` (crm_platform.db). Orders of different accounts do not wait
for each other on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_platform.errors import BusinessRuleRefused
from sales.catalog.store import DEFAULT_PAYMENT_TERMS_DAYS, PartnerTermsRow
from sales.orders.store import owed_by_partner

CREDIT_LIMIT_EXCEEDED = "CREDIT_LIMIT_EXCEEDED"


def lock_terms(session: Session, partner_account_id: str) -> Any:
    """The account's terms row, locked until the transaction ends (None when it has none)."""
    query = (
        select(PartnerTermsRow)
        .where(PartnerTermsRow.partner_account_id == partner_account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).one_or_none()


def check_credit(
    session: Session, terms: Any, partner_account_id: str, currency: str, amount_minor: int
) -> None:
    """BusinessRuleRefused CREDIT_LIMIT_EXCEEDED unless what the account owes plus `amount_minor` fits
    its limit (no terms or no limit: no credit; a limit in another currency: none in this one). Call it
    with the terms locked (`lock_terms`), in the transaction that inserts the order."""
    limit = terms.credit_limit_minor if terms is not None and terms.credit_currency == currency else None
    owed = owed_by_partner(session, partner_account_id, currency)
    if limit is None or owed + amount_minor > limit:
        raise BusinessRuleRefused(
            f"the order would take partner account {partner_account_id} over its credit limit",
            reason=CREDIT_LIMIT_EXCEEDED,
            metadata={
                "partner_account_id": partner_account_id,
                "credit_limit_minor": str(limit or 0),
                "owed_minor": str(owed),
                "order_minor": str(amount_minor),
                "currency": currency,
            },
        )


def payment_terms_days(terms: Any) -> int:
    return terms.payment_terms_days if terms is not None else DEFAULT_PAYMENT_TERMS_DAYS

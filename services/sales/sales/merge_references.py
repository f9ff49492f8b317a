"""Deals' and converted leads' references to contacts and companies follow contacts' merges
(crm_platform.merges): the contact or company id moves to the survivor. A deal's own ownership stays: it
is the deal's, not the contact's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from crm_platform.merges import Merged, MergeFollowers
from sales.deals.store import Deal
from sales.leads.store import Lead
from sales.registrations.store import DealRegistration


def _repointer(column: Any) -> Any:
    def repoint(session: Session, merged: Merged) -> int:
        result = session.execute(
            update(column.class_)
            .where(column.in_(merged.merged_ids))
            .values({column.key: merged.survivor_id})
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    return repoint


def follow_merges(followers: MergeFollowers) -> MergeFollowers:
    followers.contacts += [_repointer(Deal.contact_id), _repointer(Lead.converted_contact_id)]
    followers.companies += [_repointer(Deal.company_id), _repointer(Lead.converted_company_id)]
    # Deal registrations: their company and person (the protection stays keyed by the domain).
    followers.contacts += [_repointer(DealRegistration.contact_id)]
    followers.companies += [_repointer(DealRegistration.company_id)]
    return followers

"""Orders' and payments' references to contacts and companies follow contacts' merges
(crm_platform.merges): the contact or company id moves to the survivor; the records' own ownership stays
(it is the order's, not the contact's)."""

from __future__ import annotations

from crm_platform.merges import MergeFollowers
from sales.merge_references import _repointer as repointer  # the one re-pointer of every sales table
from sales.orders.store import Order
from sales.payments.store import Payment


def follow_merges(followers: MergeFollowers) -> MergeFollowers:
    followers.contacts += [repointer(Order.contact_id), repointer(Payment.contact_id)]
    followers.companies += [repointer(Order.company_id)]
    return followers

"""Partner deal registrations (resource type `deal_registration`): a partner registers a customer for
their own account, staff approve or reject it, and an approval protects the company for the partner for
a set period, refusing other partners' registrations of it meanwhile.

    domain.py    how a registration names its company, the review flow, protection and conflicts
    store.py     the `deal_registrations` table and the companies' protection rows (their lock
                 serialises approvals of one company)
    customer.py  the company and person through the contacts service (its dedupe decides "same company")
    events.py    deal_registration_submitted, _approved, _rejected (outbox, in the change's transaction)
    api.py       DealRegistrationsService; `install(definition)`
"""

from __future__ import annotations

from sales.registrations.api import install, register

__all__ = ["install", "register"]

"""A contact's overview: the profile, the companies the person is linked to, current consents, the
latest timeline entries and counts, in one read (the customer-360's contacts section, so the gateway
makes one call where a call per part would multiply its fan-out).

    store.py    the reads: the contact and every count in one statement, then only the parts that hold
                something; each in the caller's scope for its own record type, built once per scope shape
    api.py      ContactOverviewService.GetContactOverview (internal: no REST route)

`install(definition)` adds the servicer to the contacts service's gRPC registration.
"""

from __future__ import annotations

from contacts.overview.api import install, register

__all__ = ["install", "register"]

"""Consent: per channel (email, sms, phone, post) and purpose (marketing, service), granted or withdrawn,
with its source and time. Records are appended and never changed (the history); the current state of
each channel and purpose is derived from them (the latest by when it was given or withdrawn).

    domain.py   channels, purposes, statuses and the derivation of the current state (no I/O)
    store.py    the `consent_records` table and its queries
    events.py   consent_changed to the outbox, in the transaction of the record (aggregate: the contact)
    api.py      ConsentService: reading needs to read the contact, recording to update it

`install(definition)` adds the servicer to the contacts service's gRPC registration.
"""

from __future__ import annotations

from contacts.consent.api import install, register

__all__ = ["install", "register"]

"""Privacy: erasure (the right to be forgotten) and the export of what contacts holds about a person.

    erasure.py  what is personal in the contacts database, declared per table, and erasing it
    export.py   the contacts section of a data export (profile, consents, interactions, timeline, ...)
    events.py   contact_erased to the outbox; the worker's re-scrub of the timeline on it
    api.py      PrivacyService: EraseContact (POST /api/v1/contacts/{id}:erase), ExportPersonalData

`install(definition)` adds the servicer and the worker's subscription to the contacts service.
"""

from __future__ import annotations

from contacts.privacy.api import install, register

__all__ = ["install", "register"]

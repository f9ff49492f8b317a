"""Companies: the organisations the company does business with, and the people (contacts) who work there.

Served by the contacts service process (`crm.contacts.v1.CompaniesService`); the same shape as contacts:
domain.py (rules, no I/O), store.py (tables and queries), events.py (outbox), api.py (the servicer).
`install(definition)` adds the servicer to a service definition's gRPC registration.
"""

from __future__ import annotations

from contacts.companies.api import install, register

__all__ = ["install", "register"]

"""Custom fields: typed fields admins add to contacts and companies (`crm.contacts.v1.CustomFieldsService`
for the definitions; values in each record's `custom_fields`).

domain.py (definitions' and values' rules, no I/O), store.py (tables and queries), catalogue.py (the
definitions cached per process by version), records.py (values on a resource's records: checks, value
rows, list allow-list), api.py (the definitions' servicer). `install(definition)` serves it.
"""

from __future__ import annotations

from contacts.custom_fields.api import install, register

__all__ = ["install", "register"]

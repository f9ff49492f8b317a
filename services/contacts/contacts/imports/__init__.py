"""Imports of contacts from CSV and XLSX files, as background jobs of the contacts worker.

- api.py: `crm.contacts.v1.ImportsService` (queue, follow, cancel, list errors); the gateway's multipart
  route `POST /api/v1/imports` calls CreateImport.
- runner.py: the worker loop (jobs claimed with a lease, rows applied in chunks through the contacts
  servicer's own create and update, each chunk committed with its position: resumable, each row once).
- fields.py: columns to fields from the contract's descriptors; files.py: CSV and XLSX reading.

`install(definition)` (one line in contacts/main.py) adds the servicer and the worker loop.
"""

from __future__ import annotations

from contacts.imports import api, runner
from crm_platform.service import ServiceDefinition


def install(definition: ServiceDefinition) -> ServiceDefinition:
    """`definition` serving ImportsService and running imports in its worker."""
    return definition.include(api.register, background=(runner.run_imports,))


__all__ = ["install"]

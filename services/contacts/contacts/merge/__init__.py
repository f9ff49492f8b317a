"""Duplicates and merges of people and companies (crm.contacts.v1.MergeService).

    duplicates.py  a contact's duplicate candidates with score and reasons, in the caller's scope
    plan.py        the merged record from the survivor, the sources and per-field choices (no I/O)
    execution.py   a merge in one transaction: lock in id order, re-check, bury, move, update, announce
    people.py      what is particular to contacts (tombstone values, the tables moved)
    companies.py   what is particular to companies (people links, subsidiaries)
    tombstones.py  reading a merged record: MOVED to its survivor, or not found
    events.py      contact_merged and company_merged
    api.py         the servicer

`install(definition)` adds the servicer to the contacts service.
"""

from __future__ import annotations

from crm_platform.service import ServiceDefinition


def install(definition: ServiceDefinition) -> ServiceDefinition:
    from contacts.merge.api import register  # the servicer pulls in most of the service

    return definition.include(register)


__all__ = ["install"]

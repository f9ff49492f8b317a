"""The resources an import may hold (the job's `resource`), each with its Adapter."""

from __future__ import annotations

from contacts.imports.adapter import Adapter
from contacts.imports.companies import Companies
from contacts.imports.people import People

ADAPTERS: dict[str, type[Adapter]] = {adapter.name: adapter for adapter in (People, Companies)}


def adapter_of(resource: str) -> type[Adapter]:
    """The resource's Adapter; KeyError for one imports do not know (the contract allows only these)."""
    return ADAPTERS[resource]

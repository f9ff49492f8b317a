"""The rows of an import chunk that create records, written together (an adapter that batches:
contacts, imports/people.py, and companies, imports/companies.py, whose CompaniesServicer has the same
check_create and add_checked; contacts are described below).

Each row is checked as it comes, by CreateContact's own checks (people.py's `checked_create`: the
contract's field rules, then ContactsServicer.check_create: the domain's rules, the caller's right to
the ownership asked for, the custom fields). The rows that pass wait here; a flush writes them all through
ContactsServicer.add_checked (contacts.store.add_contacts: one query each for the emails and phones
their books already hold, then one batched insert each for the contacts, their emails, history and
search terms; their custom field values; one `contacts_imported` event announcing them all, and
their timeline entries), in the chunk's transaction. A row whose email, phone or external id is
taken is refused at the flush with the answer CreateContact would have given, as if the rows had been
created one after the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from contacts.imports.adapter import Key
from crm_platform.errors import DomainError
from crm_platform.resources import Change


@dataclass
class PendingCreate:
    number: int  # the row's number in the file
    values: dict[str, str]  # field -> cell, for explaining a refusal
    keys: tuple[Key, ...]  # what later rows match the record by
    checked: Any  # what the adapter's add_checked writes


@dataclass
class CreateBatch:
    """The chunk's creates not written yet, in row order."""

    pending: list[PendingCreate] = field(default_factory=list)
    keys: set[Key] = field(default_factory=set)

    def __contains__(self, key: Key) -> bool:
        return key in self.keys

    def __len__(self) -> int:
        return len(self.pending)

    def add(self, create: PendingCreate) -> None:
        self.pending.append(create)
        self.keys.update(create.keys)

    def flush(
        self, write: Callable[[Sequence[Any]], Sequence[Change[Any] | DomainError]]
    ) -> list[tuple[PendingCreate, Change[Any] | DomainError]]:
        """Write the pending rows (`write`: the adapter's add_checked); each row with its Change or its
        refusal. IntegrityError when another writer took one of the keys since they were looked up
        (nothing of the batch is then usable: the caller rolls back and applies the rows one by one)."""
        if not self.pending:
            return []
        pending, self.pending, self.keys = self.pending, [], set()
        outcomes = write([p.checked for p in pending])
        return list(zip(pending, outcomes, strict=True))

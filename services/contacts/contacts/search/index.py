"""Keeping the search index in step with the contacts, in the transaction of each change.

contacts.store calls `index_contacts` after a create (one contact or an import's batch) and after an
update, with the rows as written; contacts.privacy.erasure calls `forget` before it anonymises the row.
An archived contact keeps its terms: the search leaves it out by `archived_at`, as lists do.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import Insert, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contacts.search.schema import SearchTables, search_tables
from contacts.search.terms import document_terms
from contacts.search.typos import deletion_keys, has_typo_keys, within_one_edit
from crm_platform.bulk import insert_rows

# Rows per INSERT when a batch of contacts (an import chunk, the seed) is indexed at once.
_ROWS_PER_INSERT = 5000
# session.info key: the words whose typo keys the transaction writes at its end (`defer_typo_keys`).
_DEFERRED_WORDS = "contacts.search.deferred_typo_words"


def insert_ignoring(session: Session, table: Table) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING into `table`, in the session's dialect."""
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()


class SearchIndex:
    def __init__(self, metadata: Any) -> None:
        self.tables: SearchTables = search_tables(metadata)

    def index_contacts(self, session: Session, contacts: Sequence[Any], *, new: bool = False) -> None:
        """Make the index hold exactly the terms of each of `contacts` (rows with the `contacts`
        columns as attributes, as written). `new`: they were just inserted, so they have no terms yet."""
        terms = self.tables.terms
        wanted = {contact.id: document_terms(contact) for contact in contacts}
        held = {} if new else self._terms_of(session, list(wanted))
        added: list[tuple[str, str]] = []
        removed: set[str] = set()
        for contact_id, terms_now in wanted.items():
            before = held.get(contact_id, set())
            gone = before - terms_now
            if gone:
                session.execute(
                    delete(terms).where(terms.c.contact_id == contact_id, terms.c.term.in_(sorted(gone)))
                )
                removed |= gone
            added += [(term, contact_id) for term in sorted(terms_now - before)]
        for start in range(0, len(added), _ROWS_PER_INSERT):
            insert_rows(session, terms, ("term", "contact_id"), added[start : start + _ROWS_PER_INSERT])
        self.add_typo_keys(session, {term for term, _contact_id in added})
        self._drop_typo_keys(session, removed)

    def forget(self, session: Session, contact_id: str) -> None:
        """Remove the contact from the index, and the typo keys of words no other contact has."""
        terms = self.tables.terms
        held = self._terms_of(session, [contact_id]).get(contact_id, set())
        session.execute(delete(terms).where(terms.c.contact_id == contact_id))
        self._drop_typo_keys(session, held)

    def corrections(self, session: Session, words: list[str]) -> dict[str, list[str]]:
        """For each of `words`, the words one letter away from it that some contact has."""
        keys = self.tables.typo_keys
        found: dict[str, list[str]] = {}
        for word in words:
            candidates = session.scalars(
                select(keys.c.term).where(keys.c.key.in_(sorted(deletion_keys(word)))).distinct()
            )
            found[word] = within_one_edit(set(candidates), word)
        return found

    def _terms_of(self, session: Session, contact_ids: list[str]) -> dict[str, set[str]]:
        terms = self.tables.terms
        found: dict[str, set[str]] = {}
        rows = session.execute(
            select(terms.c.contact_id, terms.c.term).where(terms.c.contact_id.in_(contact_ids))
        )
        for contact_id, term in rows:
            found.setdefault(contact_id, set()).add(term)
        return found

    @staticmethod
    def defer_typo_keys(session: Session) -> None:
        """Keep the typo keys of the words indexed in `session`'s transaction until
        `write_deferred_typo_keys`. Words are shared between contacts, so two transactions adding the
        same new word wait for each other on its row: an import writing two chunks at once
        (imports/overlap.py) lets the later chunk write them only once the earlier one has committed,
        so the earlier never waits on the later."""
        session.info[_DEFERRED_WORDS] = set()

    def write_deferred_typo_keys(self, session: Session) -> None:
        """The typo keys kept since `defer_typo_keys`, of the words that some contact has now (a row
        rolled back to a savepoint may have named others)."""
        words = session.info.pop(_DEFERRED_WORDS, None)
        if not words:
            return
        terms = self.tables.terms
        held = session.scalars(select(terms.c.term).where(terms.c.term.in_(sorted(words))).distinct())
        self.add_typo_keys(session, set(held))

    def add_typo_keys(self, session: Session, terms: Iterable[str]) -> None:
        """The typo keys of the words among `terms` that no contact had (for a bulk load that writes the
        terms itself, as bench/seed_contacts.py does)."""
        deferred = session.info.get(_DEFERRED_WORDS)
        if deferred is not None:
            deferred.update(terms)
            return
        keys = self.tables.typo_keys
        words = sorted(term for term in terms if has_typo_keys(term))
        if not words:
            return
        # A word's own row (key = the word) says its keys are there: the rows inserted now are the words
        # no contact had, and only those get their deletion keys written.
        statement = insert_ignoring(session, keys).returning(keys.c.term)
        fresh = session.scalars(statement, [{"key": word, "term": word} for word in words]).all()
        rows = [(key, word) for word in fresh for key in sorted(deletion_keys(word) - {word})]
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[start : start + _ROWS_PER_INSERT]
            insert_rows(session, keys, ("key", "term"), chunk, ignore_conflicts=True)

    def _drop_typo_keys(self, session: Session, terms: Collection[str]) -> None:
        """The keys of each of `terms` that no contact has any more."""
        index, keys = self.tables.terms, self.tables.typo_keys
        for word in sorted(term for term in terms if has_typo_keys(term)):
            if session.execute(select(index.c.term).where(index.c.term == word).limit(1)).first() is None:
                session.execute(delete(keys).where(keys.c.term == word))

"""The search index's tables, declared on the service's metadata (contacts.store calls `search_tables`,
as it does for the messaging and resource tables), created by migration 0010_search.

- `contact_search_terms` (term, contact_id): one row per term of a contact (contacts.search.terms),
  keyed by the term so that the contacts holding a term, or any term starting with a prefix, are one
  ordered range of the primary key: a page is read from its start, however many contacts match. On
  SQLite a WITHOUT ROWID table (the key is the table); on PostgreSQL the term is in the "C" collation, so
  that a prefix is a range of the index in code-point order, whatever the database's locale. The second
  index, by contact, is how a contact's terms are replaced and how the search checks the other terms of
  the contacts it finds.
- `contact_search_typo_keys` (key, term): for each word some contact has, its deletion keys
  (contacts.search.typos), for finding the words one letter away from a query word; the rows of a word go
  when the last contact with it does (erasure included).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, ForeignKey, Index, MetaData, String, Table

from contacts.search.terms import MAX_TERM_LENGTH
from contacts.search.typos import MAX_TYPO_LENGTH

TERMS_TABLE = "contact_search_terms"
TYPO_KEYS_TABLE = "contact_search_typo_keys"


def term_type(length: int = MAX_TERM_LENGTH) -> String:
    """A term column: byte order on PostgreSQL too (SQLite's default BINARY collation already is)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


@dataclass(frozen=True)
class SearchTables:
    terms: Table
    typo_keys: Table


def search_tables(metadata: MetaData) -> SearchTables:
    terms = Table(
        TERMS_TABLE,
        metadata,
        Column("term", term_type(), primary_key=True),
        Column("contact_id", String(36), ForeignKey("contacts.id"), primary_key=True),
        Index("ix_contact_search_terms_contact", "contact_id", "term"),
        sqlite_with_rowid=False,
    )
    typo_keys = Table(
        TYPO_KEYS_TABLE,
        metadata,
        Column("key", String(MAX_TYPO_LENGTH), primary_key=True),
        Column("term", String(MAX_TYPO_LENGTH), primary_key=True),
        Index("ix_contact_search_typo_keys_term", "term"),
        sqlite_with_rowid=False,
    )
    return SearchTables(terms, typo_keys)

"""External ids: a record's id in another system (a former CRM, a shop, an ERP), on contacts and companies.

Optional, trimmed, and unique among the live records of a book (like emails and domains): a unique
index over (uniqueness_book, external_id) that leaves out records without one and merged tombstones
(a merge may hand a source's external id to its survivor while the source's row still holds it). A
second index, (external_id, created_at, id) over the records that have one, serves `filter=external_id
= "..."` in list order. Imports match a row to a record by it before the email or domain
(contacts.imports). Both tables use the same rules, declared here once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Index, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_platform.access import CallerContext, in_scope
from crm_platform.errors import AlreadyExists
from crm_platform.resources import Repository

COLUMN = "external_id"
MAX_LENGTH = 255


def unique_index_name(table: str) -> str:
    return f"uq_{table}_book_external_id"


def indexes(table: str) -> tuple[Index, Index]:
    """The table's unique index (live records of a book) and its filter index (see the docstring)."""
    live = "external_id IS NOT NULL AND merged_into IS NULL"
    present = "external_id IS NOT NULL"
    return (
        Index(
            unique_index_name(table),
            "uniqueness_book",
            COLUMN,
            unique=True,
            sqlite_where=text(live),
            postgresql_where=text(live),
        ),
        Index(
            f"ix_{table}_external_id",
            COLUMN,
            "created_at",
            "id",
            sqlite_where=text(present),
            postgresql_where=text(present),
        ),
    )


def clean(value: str) -> str:
    """The stored form: trimmed ("" for none)."""
    return value.strip()


class ExternalIdTaken(AlreadyExists):
    """Another live record of the same book has this external id. Told like a taken email: the holder is
    named only to a caller who may read it."""

    def __init__(self, resource_type: str, external_id: str, existing_id: str = "") -> None:
        super().__init__(
            f"a {resource_type} with external_id {external_id} already exists",
            resource_type=resource_type,
            existing_id=existing_id,
            description=f"the {resource_type} that already has this external_id",
        )


def ensure_free(
    session: Session,
    repository: Repository[Any],
    external_id: str,
    book: str,
    caller: CallerContext | None,
    record_id: str = "",
) -> None:
    """ExternalIdTaken when another live record of `book` has `external_id`. Checked first for a clear
    answer; the unique index settles a race between two writers (then nobody is named)."""
    if not external_id:
        return
    model = repository.model
    taken = session.execute(
        select(model.id, model.owner_id, model.team_id, model.partner_account_id).where(
            model.uniqueness_book == book,
            model.external_id == external_id,
            model.merged_into.is_(None),
            model.id != record_id,
        )
    ).first()
    if taken is None:
        return
    readable = caller is None or in_scope(caller, repository.resource_type, "read", taken)
    raise ExternalIdTaken(repository.resource_type, external_id, taken.id if readable else "")


def holders(
    session: Session, repository: Repository[Any], books: set[str], external_ids: set[str]
) -> dict[tuple[str, str], Any]:
    """(book, external id) -> the live record holding it (id and ownership), for every pair of
    `books` x `external_ids` that is taken: one query for a batch."""
    if not external_ids:
        return {}
    model = repository.model
    found = session.execute(
        select(
            model.id,
            model.owner_id,
            model.team_id,
            model.partner_account_id,
            model.uniqueness_book,
            model.external_id,
        ).where(
            model.uniqueness_book.in_(books),
            model.external_id.in_(external_ids),
            model.merged_into.is_(None),
        )
    ).all()
    return {(row.uniqueness_book, row.external_id): row for row in found}


def is_conflict(error: IntegrityError, table: str) -> bool:
    """The unique index of external ids refused the write (PostgreSQL names the index, SQLite the
    columns)."""
    message = str(error.orig)
    return unique_index_name(table) in message or f"{table}.uniqueness_book, {table}.external_id" in message

"""Rows that would change nothing, told without running the resource's Update (UpdateContact,
UpdateCompany).

A file imported again, or one most of whose records are already in, is mostly updates that change
nothing. The Update answers each by loading and locking the record, merging and comparing: measured,
most of such an import's time. Here a chunk's matched records are read whole in one query, and a row is
skipped when the same merge (`merge_update`, with the domain's rules fed as the Update feeds them: the
adapter's `Rules`) changes nothing and the caller may update that record (the rule of the scoped read
and of the update's check, `in_scope`). Every other row (the merge refuses it or changes something, it
sets custom fields, which merge with their stored values, or the record was merged, or changed earlier
in this chunk) still goes through the Update and gets the answer it always had. An update that changes
nothing writes nothing there either (no version, history or event). What is particular to a resource
(its repository: table, `to_message`, scope; its rules; which rows a chunk matches) is its adapter's
(people.py, companies.py); the rest is here, once.

The records are read in the chunk's transaction without a row lock (on SQLite the chunk holds the
database's write lock anyway): on PostgreSQL a row found unchanged while another writer changes that
record is as if it had been applied just before that change, a no-op either way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from crm_platform.access import CallerContext, in_scope
from crm_platform.errors import DomainError
from crm_platform.resources import Repository
from crm_platform.resources.field_mask import merge_update

# Custom fields merge with the stored values and the catalogue (custom_fields.records): not repeated here.
_CUSTOM_FIELDS = "custom_fields"

# The domain's rules on a merged record, normalising it in place as the Update's `prepare` does, given
# the stored row and the mask: (row, merged, paths). Raises DomainError where the Update would refuse.
Rules = Callable[[Any, Any, Sequence[str]], None]


class UnchangedRows:
    """The records of `repository` one chunk's rows match, read once, and whether a row's update would
    change them."""

    def __init__(self, caller: CallerContext, repository: Repository[Any, Any], rules: Rules) -> None:
        self._caller = caller
        self._repository = repository
        self._rules = rules
        self._rows: dict[str, Any] = {}

    def load(self, session: Session, match: ColumnElement[bool] | None) -> list[Any]:
        """The rows of the repository's table `match` selects (None: none), whole (Core rows, as
        `to_message` reads them), kept for `unchanged` until the next load."""
        if match is None:
            self._rows = {}
            return []
        table = self._repository.model.__table__  # type: ignore[attr-defined]
        rows = session.execute(select(table).where(match)).all()
        self._rows = {row.id: row for row in rows}
        return rows

    def forget(self, record_id: str) -> None:
        """The record is being written in this chunk: what was read of it is stale."""
        self._rows.pop(record_id, None)

    def unchanged(self, record_id: str, partial: Message, paths: Sequence[str]) -> bool:
        """True when updating the record with `paths` of `partial` would change nothing and the caller
        may update it; False when the Update must answer."""
        row = self._rows.get(record_id)
        if row is None or row.merged_into is not None or _CUSTOM_FIELDS in paths:
            return False
        caller, kind = self._caller, self._repository.resource_type
        if not (in_scope(caller, kind, "read", row) and in_scope(caller, kind, "update", row)):
            return False
        try:
            merged = merge_update(
                self._repository.to_message(row),
                partial,
                paths,
                request_field=self._repository.request_field,
                prepare=lambda message: self._rules(row, message, paths),
            )
        except DomainError:
            return False
        return not merged.changes

"""Rows that would change nothing, told without running UpdateContact.

A file imported again, or one most of whose people are already in, is mostly updates that change
nothing. UpdateContact answers each by loading and locking the contact, merging and comparing: measured,
most of such an import's time. Here a chunk's matched contacts are read in one query, and a row is
skipped when the same merge (`merge_update`, with the domain's rules fed as UpdateContact feeds them:
`store.rules_inputs`, `api.apply_contact_rules`) changes nothing and the caller may update that contact
(the rule of the scoped read and of the update's check, `in_scope`). Every other row (the merge refuses
it or changes something, it sets custom fields, which merge with their stored values, or the contact was
merged, or changed earlier in this chunk) still goes through UpdateContact and gets the answer it always
had. An update that changes nothing writes nothing there either (no version, history or event).

The contacts are read in the chunk's transaction without a row lock (on SQLite the chunk holds the
database's write lock anyway): on PostgreSQL a row found unchanged while another writer changes that
contact is as if it had been applied just before that change, a no-op either way.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from contacts import api as contacts_api
from contacts import store as contacts_store
from crm.contacts.v1 import contacts_pb2
from crm_platform.access import CallerContext, in_scope
from crm_platform.errors import DomainError
from crm_platform.resources.field_mask import merge_update

# Custom fields merge with the stored values and the catalogue (custom_fields.records): not repeated here.
_CUSTOM_FIELDS = "custom_fields"


class UnchangedRows:
    """The contacts one chunk's rows match, read once, and whether a row's update would change them."""

    def __init__(self, caller: CallerContext, region: str) -> None:
        self._caller = caller
        self._region = region
        self._rows: dict[str, Any] = {}

    def load(
        self, session: Session, emails: Collection[str], external_ids: Collection[str] = ()
    ) -> list[Any]:
        """The contacts holding `emails` as their primary email, or `external_ids` (live ones), in any
        book, kept for `unchanged`."""
        table = contacts_store.Contact.__table__
        matches = []
        if emails:
            matches.append(table.c.email.in_(emails))
        if external_ids:
            matches.append(
                table.c.external_id.in_(external_ids)
                & table.c.external_id.is_not(None)
                & table.c.merged_into.is_(None)
            )
        if not matches:
            self._rows = {}
            return []
        rows = session.execute(select(table).where(or_(*matches))).all()
        self._rows = {row.id: row for row in rows}
        return rows

    def forget(self, contact_id: str) -> None:
        """The contact is being written in this chunk: what was read of it is stale."""
        self._rows.pop(contact_id, None)

    def unchanged(self, contact_id: str, partial: contacts_pb2.Contact, paths: Sequence[str]) -> bool:
        """True when updating the contact with `paths` of `partial` would change nothing and the caller
        may update it; False when UpdateContact must answer."""
        row = self._rows.get(contact_id)
        if row is None or row.merged_into is not None or _CUSTOM_FIELDS in paths:
            return False
        caller, kind = self._caller, contacts_store.contacts.resource_type
        if not (in_scope(caller, kind, "read", row) and in_scope(caller, kind, "update", row)):
            return False

        def prepare(merged: contacts_pb2.Contact) -> None:
            written, known = contacts_store.rules_inputs(row, merged, paths)
            contacts_api.apply_contact_rules(
                merged, written=written, known_numbers=known, region=self._region
            )

        try:
            merged = merge_update(
                contacts_store.to_message(row), partial, paths, request_field="contact", prepare=prepare
            )
        except DomainError:
            return False
        return not merged.changes

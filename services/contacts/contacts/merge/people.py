"""Merging people: what is particular to contacts (contacts.merge.execution runs it).

- The survivor's single values come from the choices; its lists (emails, phones, addresses, social
  profiles, important dates, hobbies, interests, memberships, tags) hold every record's entries once. Its
  emails, like any update's, must be free in its book: the sources' are released first.
- A source's tombstone keeps its ids, ownership and times (CONTACT_KEPT, as an erased person's does) and
  `merged_into`; every personal value now lives on the survivor, so it is removed from the tombstone
  (names read MERGED, the email a placeholder that can reach nobody): erasing the survivor later then
  leaves nothing of the person on its tombstones' rows.
- Everything under a source moves to the survivor: every table with a `contact_id` column or a foreign
  key to contacts (found from the metadata like erasure's, so a table added later moves too). A row that
  would repeat one of the survivor's on a unique key (a search term, an event's timeline entry) is
  dropped, the survivor's kept (`move_rows`). Handled by hand (MOVES): company links (one per company
  and person, primary if either was), timeline entries (which also take the survivor's ownership), email
  rows (re-written by the update). An erased source is refused: there is nothing left to merge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, UniqueConstraint, delete, exists, select, update
from sqlalchemy.orm import Session

from contacts import api as contacts_api
from contacts import events as contact_events
from contacts import store
from contacts.companies.store import CompanyPersonLink, links_locked
from contacts.custom_fields.catalogue import Catalogue
from contacts.custom_fields.records import RecordCustomFields
from contacts.merge import events
from contacts.merge.execution import Kind
from contacts.merge.plan import Policy
from contacts.people.domain import Written
from contacts.privacy.erasure import CONTACT_KEPT, child_tables, contact_column
from contacts.privacy.store import ErasedContact
from contacts.timeline.events import repoint_contact_entries
from contacts.timeline.mapping import OWNERSHIP_PATHS
from contacts.timeline.store import TimelineEntry
from crm.contacts.v1 import contacts_pb2
from crm_platform.errors import FailedPrecondition

MERGED = "[merged]"

POLICY = Policy(
    unioned=frozenset(store.LIST_FIELDS),
    keyed=frozenset({"custom_fields"}),
    primaries={"emails": ("email", "address"), "phones": ("phone", "number")},
    keys={"emails": "address", "phones": "number"},
)


def _bury(row: Any) -> dict[str, Any]:
    """A source's personal columns: NULL, or a value that says it was merged (NOT NULL ones)."""
    table = store.Contact.__table__
    values: dict[str, Any] = {
        column.name: None
        for column in table.c
        if column.name not in CONTACT_KEPT and column.name != "merged_into" and column.nullable
    }
    # Unique within its book, like an erased person's: an address that reaches nobody.
    return values | {
        "first_name": MERGED,
        "last_name": MERGED,
        "email": f"merged-{row.id}@merged.invalid",
    }


def _check(session: Session, sources: Sequence[str]) -> None:
    erased = session.scalars(select(ErasedContact.contact_id).where(ErasedContact.contact_id.in_(sources)))
    for contact_id in sorted(erased):
        raise FailedPrecondition(f"contact {contact_id} was erased; there is nothing of it to merge")


def _move_links(session: Session, survivor_id: str, sources: Sequence[str]) -> None:
    """Company links: a source's link to a company the survivor is linked to already is folded into the
    survivor's (primary if either was); the others move."""
    found = links_locked(session, CompanyPersonLink.contact_id, [survivor_id, *sources])
    held = {link.company_id: link for link in found if link.contact_id == survivor_id}
    for link in (link for link in found if link.contact_id != survivor_id):
        kept = held.get(link.company_id)
        if kept is None:
            link.contact_id = survivor_id
            held[link.company_id] = link
        else:
            kept.is_primary = kept.is_primary or link.is_primary
            session.delete(link)
    session.flush()


def _move_timeline(session: Session, survivor: Any, sources: Sequence[str]) -> None:
    """Timeline entries: an event already on the survivor's timeline is not copied twice (move_rows);
    entries scoped like their contact (notifications) take the survivor's ownership."""
    table = TimelineEntry.__table__
    move_rows(session, table, table.c.contact_id, survivor.id, sources)
    repoint_contact_entries(session, survivor.id, {name: getattr(survivor, name) for name in OWNERSHIP_PATHS})


# Tables whose rows are unique per contact (or re-written by the survivor's update): moved by hand.
MOVES = {
    "company_people": lambda session, survivor, sources: _move_links(session, survivor.id, sources),
    "timeline_entries": _move_timeline,
    # The survivor's update writes its email rows (every address of the merged record); the sources'
    # go first, so that their addresses are free for it.
    "contact_emails": lambda session, survivor, sources: session.execute(
        delete(store.ContactEmailRow).where(store.ContactEmailRow.contact_id.in_(sources))
    ),
    "erased_contacts": lambda session, survivor, sources: None,  # erased sources are refused
}


def _unique_keys(table: Table, column: Any) -> list[list[Any]]:
    """The other columns of each unique key of `table` that holds the contact column: rows of two
    contacts that agree on them cannot both be the survivor's."""
    keys = [list(table.primary_key.columns)]
    keys += [list(c.columns) for c in table.constraints if isinstance(c, UniqueConstraint)]
    keys += [list(index.columns) for index in table.indexes if index.unique]
    return [[c for c in key if c is not column] for key in keys if column in key]


def move_rows(session: Session, table: Table, column: Any, survivor_id: str, sources: Sequence[str]) -> None:
    """The sources' rows of `table` become the survivor's, one source after the other; a row that would
    repeat one the survivor has by then (on a unique key holding the contact column: a search term, say)
    is dropped, the survivor's kept."""
    theirs = table.alias("survivor_rows")
    for source in sources:
        for others in _unique_keys(table, column):
            held = exists().where(
                theirs.c[column.name] == survivor_id, *(theirs.c[c.name] == c for c in others)
            )
            session.execute(delete(table).where(column == source, held))
        session.execute(
            update(table)
            .where(column == source)
            .values({column.name: survivor_id})
            .execution_options(synchronize_session=False)
        )


def move_children(session: Session, survivor: Any, sources: Sequence[str]) -> None:
    """Every record under the sources now under the survivor (see the module docstring)."""
    for table in child_tables():
        special = MOVES.get(table.name)
        if special is not None:
            special(session, survivor, sources)
        else:
            move_rows(session, table, contact_column(table), survivor.id, sources)


def _prepare(contact: contacts_pb2.Contact, *, written: Written, known_numbers: Mapping[str, str]) -> None:
    # Every number of every record was valid in its record (or stored before numbers were checked, as
    # the update keeps such numbers of the contact it changes): keep them as they are.
    numbers = dict(known_numbers)
    for phone in contact.phones:
        numbers.setdefault(phone.number, phone.formatted)
    contacts_api.apply_contact_rules(contact, written=written, known_numbers=numbers)


PEOPLE = Kind(
    repository=store.contacts,
    policy=POLICY,
    bury=_bury,
    check=_check,
    move_children=move_children,
    adjust=lambda session, merged, sources: None,
    update=store.update_contact,
    prepare=_prepare,
    custom_fields=RecordCustomFields(
        "contacts", store.Contact, store.LIST_SPEC, Catalogue(), request_field="contact"
    ),
    record_updated=contact_events.record_contact_updated,
    record_merged=events.record_contact_merged,
)

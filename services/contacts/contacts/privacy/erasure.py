"""Erasing a person from the contacts database, in one transaction (see docs/architecture.md, "Privacy:
consent, export, erasure").

What is personal is declared here, per table, and everything else is found from the metadata:

- `contacts` (the person's row) stays as an archived tombstone, so that references to it hold. Every
  column not in CONTACT_KEPT is personal: set to its CONTACT_REPLACEMENTS value, or NULL (a new
  nullable column is therefore erased without anyone listing it; a new NOT NULL one must be given a
  replacement, or erasure fails loudly and the tests say so).
- Every other table with a `contact_id` column or a foreign key to `contacts.id` is a record under the
  person. CHILD_TABLES says what to do with its rows: `Anonymise` keeps the row (a business record) with
  only its `keep` columns, the others replaced or NULLed like the contact's; `Keep` leaves it alone (no
  personal data). A table it does not name has its rows of the person DELETED (a list of emails, phones,
  addresses: the person's data and nothing else), so a table added later is erased by default.
- The history of the contact and of every row above: values of fields not in HISTORY_KEPT_FIELDS are
  blanked (old and new), the entries themselves (who changed what when) stay.
- The outbox: published events that mention the person are deleted (the relay is done with them; they
  would be pruned after CRM_OUTBOX_RETENTION anyway); events still pending keep their place in their
  record's sequence but have every personal value blanked from their payload.
- Idempotency claims whose stored response mentions the person are dropped (a retry of that request
  after erasure runs again).
- Imports: a finished job keeps no file (contacts.imports.store), and import errors that quote one of
  the person's email addresses or phone numbers (a "taken" refusal) have it replaced. The file of a job
  still running is left alone: it is dropped when the job ends, and a row of it that names the person
  would be applied after the erasure anyway (erase once the import is done).
The inbox and consumer positions hold only event and record ids.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from contacts.custom_fields import store as custom_fields_store
from contacts.imports import store as imports_store
from contacts.store import Base, Contact, messaging, resources, search_index
from crm_platform.db import utcnow
from crm_platform.resources import history as history_module

log = logging.getLogger(__name__)

ERASED = "[erased]"

Replacement = Any | Callable[[Mapping[str, Any]], Any]

# --- the declarations ---------------------------------------------------------------------------------

# Columns of `contacts` that are not personal (kept on the tombstone).
CONTACT_KEPT = frozenset(
    {
        "id",
        "version",
        "created_at",
        "updated_at",
        "archived_at",
        "owner_id",
        "team_id",
        "partner_account_id",
        "uniqueness_book",
        "merged_into",  # an id: where a merged contact went stays known
    }
)
# Personal columns of `contacts` that cannot be NULL, and what they become.
CONTACT_REPLACEMENTS: dict[str, Replacement] = {
    "first_name": ERASED,
    "last_name": ERASED,
    # Unique within its book: one address per contact that can never reach anyone.
    "email": lambda row: f"erased-{row['id']}@erased.invalid",
}


@dataclass(frozen=True)
class Anonymise:
    """Keep the rows (business records): the `keep` columns stay, the others become `replace[column]`
    or NULL."""

    keep: frozenset[str]
    replace: Mapping[str, Replacement] = field(default_factory=dict)


@dataclass(frozen=True)
class Keep:
    """Rows with no personal data: left as they are."""


CHILD_TABLES: dict[str, Anonymise | Keep] = {
    # What was done with the person stays (when, what kind, linked deals and tickets); what was said goes.
    "interactions": Anonymise(
        keep=frozenset(
            {
                "id",
                "contact_id",
                "kind",
                "direction",
                "occurred_at",
                "duration_seconds",
                "deal_id",
                "ticket_id",
                "actor_id",
                "version",
                "created_at",
                "updated_at",
                "archived_at",
                "owner_id",
                "team_id",
                "partner_account_id",
            }
        )
    ),
    # The timeline read model: the entries stay (what kind of thing happened when), their text goes.
    "timeline_entries": Anonymise(
        keep=frozenset(
            {
                "id",
                "contact_id",
                "occurred_at",
                "kind",
                "source",
                "event_type",
                "ref_type",
                "ref_id",
                "actor_id",
                "event_id",
                "recorded_at",
                "resource_type",
                "owner_id",
                "team_id",
                "partner_account_id",
            }
        ),
        replace={"title": ERASED, "details": "{}"},
    ),
    # Proof of consent and withdrawal stays; the free-text source goes.
    "consent_records": Anonymise(
        keep=frozenset(
            {"id", "contact_id", "channel", "purpose", "status", "occurred_at", "recorded_at", "actor_id"}
        ),
        replace={"source": ERASED},
    ),
    # The link to the company stays (who had how many people there); the person's job title goes.
    "company_people": Anonymise(
        keep=frozenset({"id", "company_id", "contact_id", "role", "is_primary", "created_at", "updated_at"})
    ),
    # The erasure's own record (ids and times only).
    "erased_contacts": Keep(),
}

# History fields whose values are never personal (ownership, times, ids, kinds); any other field's old
# and new values are blanked in the history of an erased person and of the records under them.
HISTORY_KEPT_FIELDS = frozenset(
    {
        "owner_id",
        "team_id",
        "partner_account_id",
        "archived_at",
        "created_at",
        "updated_at",
        "erased_at",
        "contact_id",
        "company_id",
        "kind",
        "direction",
        "occurred_at",
        "duration_seconds",
        "deal_id",
        "ticket_id",
        "role",
        "is_primary",
    }
)

# Tables that are the service's plumbing, not records about people (the outbox, idempotency claims and
# history are handled below; the others hold ids only).
_PLUMBING = {"event_outbox", "inbox", "aggregate_sequences", "relay_lease", "consumer_positions"}

# --- the work -----------------------------------------------------------------------------------------


def child_tables(metadata: Any = Base.metadata) -> list[Table]:
    """Tables with rows under a contact: a `contact_id` column or a foreign key to contacts.id."""
    found = []
    for table in metadata.sorted_tables:
        if table.name == "contacts" or table.name in _PLUMBING:
            continue
        refers = any(fk.column.table.name == "contacts" for fk in table.foreign_keys)
        if refers or "contact_id" in table.c:
            found.append(table)
    return found


def contact_column(table: Table) -> Any:
    if "contact_id" in table.c:
        return table.c.contact_id
    return next(fk.parent for fk in table.foreign_keys if fk.column.table.name == "contacts")


def _replacement(value: Replacement, row: Mapping[str, Any]) -> Any:
    return value(row) if callable(value) else value


def _anonymised_values(
    table: Table, row: Mapping[str, Any], keep: Iterable[str], replace: Mapping[str, Replacement]
) -> dict[str, Any]:
    kept = set(keep)
    values = {}
    for column in table.c:
        if column.name in kept:
            continue
        if column.name in replace:
            values[column.name] = _replacement(replace[column.name], row)
        elif column.nullable:
            values[column.name] = None
        else:
            raise RuntimeError(
                f"{table.name}.{column.name} is NOT NULL and personal: declare its replacement "
                "(contacts.privacy.erasure)"
            )
    return values


def _strings(values: Iterable[Any]) -> set[str]:
    """The personal strings worth looking for elsewhere (too short ones would match everything)."""
    return {v for v in values if isinstance(v, str) and len(v) >= 3}


@dataclass
class Erased:
    contact_id: str
    history_ids: set[str] = field(default_factory=set)  # resource ids whose history is blanked
    personal: set[str] = field(default_factory=set)  # the values removed, to blank from the outbox


def erase_rows(session: Session, contact_id: str) -> Erased:
    """Anonymise the contact's row and the records under it, in `session`'s transaction (the contact
    must exist; the caller has checked the right to erase it). Returns what was erased."""
    erased = Erased(contact_id, {contact_id})
    # The search terms go first, with the typo keys of words no other contact has (the generic delete
    # below would leave those).
    search_index.forget(session, contact_id)
    contacts = Contact.__table__
    row = session.execute(select(contacts).where(contacts.c.id == contact_id)).mappings().one()
    values = _anonymised_values(contacts, row, CONTACT_KEPT, CONTACT_REPLACEMENTS)
    erased.personal |= _strings(row[name] for name in values)
    now = utcnow()
    values |= {"version": row["version"] + 1, "updated_at": now}
    if row["archived_at"] is None:
        values["archived_at"] = now
    session.execute(update(contacts).where(contacts.c.id == contact_id).values(**values))

    for table in child_tables():
        rule = CHILD_TABLES.get(table.name)
        if isinstance(rule, Keep):
            continue
        where = contact_column(table) == contact_id
        rows = session.execute(select(table).where(where)).mappings().all()
        if not rows:
            continue
        has_id = "id" in table.c
        if has_id:
            erased.history_ids |= {str(r["id"]) for r in rows}
        if rule is None:
            # Not declared: the person's own data (emails, phones, addresses, ...); removed.
            for r in rows:
                erased.personal |= _strings(r.values())
            session.execute(delete(table).where(where))
            log.info("erased rows", extra={"table": table.name, "rows": len(rows)})
            continue
        for r in rows:
            changed = _anonymised_values(table, r, rule.keep, rule.replace)
            erased.personal |= _strings(r[name] for name in changed)
            key = table.c.id == r["id"] if has_id else and_(*(c == r[c.name] for c in table.primary_key))
            session.execute(update(table).where(key).values(**changed))
    # Custom field values are rows by record id (not contact_id), so not found above; the JSON column
    # holding them was NULLed with the contact's other personal columns.
    custom_fields_store.erase_values(session, "contacts", contact_id)
    erased.personal.discard(contact_id)
    _blank_history(session, erased)
    _scrub_outbox(session, erased)
    _scrub_imports(session, erased)
    _drop_idempotent_responses(session, contact_id)
    return erased


def _blank_history(session: Session, erased: Erased) -> None:
    history = resources.history
    ids = sorted(erased.history_ids)
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(history.c.id, history.c.changes).where(history.c.resource_id.in_(ids[start : start + 500]))
        ).all()
        for entry in rows:
            changes = json.loads(entry.changes)
            # Values the person had before (an old name) are personal too: look for them elsewhere.
            for change in changes:
                if change.get("field") not in HISTORY_KEPT_FIELDS:
                    erased.personal |= _strings(_leaves(change.get("old"))) | _strings(
                        _leaves(change.get("new"))
                    )
            blanked = [
                c if c.get("field") in HISTORY_KEPT_FIELDS else {**c, "old": None, "new": None}
                for c in changes
            ]
            if blanked != changes:
                session.execute(
                    update(history)
                    .where(history.c.id == entry.id)
                    .values(changes=json.dumps(blanked, separators=(",", ":")))
                )


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    return [value]


def blank_values(value: Any, personal: set[str]) -> Any:
    """`value` (decoded JSON) with every string that contains a personal value replaced by ERASED."""
    if isinstance(value, str):
        return ERASED if any(p in value for p in personal) else value
    if isinstance(value, list):
        return [blank_values(v, personal) for v in value]
    if isinstance(value, dict):
        return {k: blank_values(v, personal) for k, v in value.items()}
    return value


def _scrub_outbox(session: Session, erased: Erased) -> None:
    outbox = messaging.outbox
    mentions = or_(
        outbox.c.payload.contains(erased.contact_id, autoescape=True),
        and_(outbox.c.aggregate_type == "contact", outbox.c.aggregate_id == erased.contact_id),
    )
    session.execute(delete(outbox).where(mentions, outbox.c.published_at.is_not(None)))
    for entry in session.execute(select(outbox.c.id, outbox.c.payload).where(mentions)).all():
        payload = json.loads(entry.payload)
        blanked = blank_values(payload, erased.personal)
        if blanked != payload:
            session.execute(update(outbox).where(outbox.c.id == entry.id).values(payload=json.dumps(blanked)))


def _scrub_imports(session: Session, erased: Erased) -> None:
    # Only values that identify the person: a refusal quotes the email or phone it found taken, and a
    # shorter personal value (a city, a language) would match other people's messages too.
    quoted = sorted((v for v in erased.personal if _IDENTIFYING.fullmatch(v)), key=len, reverse=True)
    if not quoted:
        return
    errors = imports_store.errors
    quoting = or_(*(errors.c.message.contains(v, autoescape=True) for v in quoted))
    for entry in session.execute(select(errors).where(quoting)).mappings().all():
        message = entry["message"]
        for value in quoted:  # the longest first: one may contain another
            message = message.replace(value, ERASED)
        session.execute(
            update(errors)
            .where(*(errors.c[name] == entry[name] for name in ("job_id", "row", "seq")))
            .values(message=message)
        )


# An email address, or a phone number as stored (E.164).
_IDENTIFYING = re.compile(r"[^@\s]+@[^@\s]+|\+[1-9][0-9]{5,14}")


def _drop_idempotent_responses(session: Session, contact_id: str) -> None:
    keys = resources.idempotency_keys
    needle = contact_id.encode()
    rows = session.execute(
        select(keys.c.user_id, keys.c.key, keys.c.response).where(
            keys.c.response.is_not(None), func.length(keys.c.response) > 0
        )
    ).all()
    for row in rows:
        if needle in bytes(row.response):
            session.execute(delete(keys).where(keys.c.user_id == row.user_id, keys.c.key == row.key))


def record_erasure_history(session: Session, contact_id: str, actor_id: str, when: Any) -> None:
    history_module.record_change(
        session,
        "contact",
        contact_id,
        history_module.Action.UPDATED,
        actor_id,
        [("erased_at", None, when)],
        occurred_at=when,
    )

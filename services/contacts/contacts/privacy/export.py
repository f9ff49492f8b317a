"""The contacts section of a person's data export: everything this database holds about them that the
caller may read.

Scope: the contact must be readable (NOT_FOUND otherwise), and each section is read through the caller's
scope for its own resource type, as the API would show it: interactions through the interaction read
scope (crm_platform.access.scope_clause), timeline entries through the timeline's per-type visibility
(timeline.store.visible), company links only to companies the caller may read; the profile, its history,
consents and the other rows under the contact follow the contact. So a partner exports their own
customer's data, and a caller who may read the contact but not some of its interactions (a rep of
another team, a role without interaction read) gets the export without those. The export does not say
what it left out (that would tell of records out of scope); a complete export is an export by a caller
who reads every record of these types.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts import store as contacts_store
from contacts.companies import store as companies_store
from contacts.consent import api as consent_api
from contacts.consent import domain as consent_domain
from contacts.consent import events as consent_events
from contacts.consent import store as consent_store
from contacts.interactions import store as interactions_store
from contacts.privacy.erasure import child_tables
from contacts.timeline import api as timeline_api
from contacts.timeline.store import TimelineEntry, visible
from crm_platform import protojson
from crm_platform.access import CallerContext
from crm_platform.resources.history import jsonable, list_history

# Sections built from their own contract messages; any other table under the contact is exported as
# its rows (so a table added later is in the export without code here).
_SECTIONED = {"interactions", "timeline_entries", "consent_records", "company_people", "erased_contacts"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return jsonable(value)
    if isinstance(value, bytes):
        return None
    return value


def _rows(session: Session, table: Any, where: Any) -> list[dict[str, Any]]:
    return [
        {k: _plain(v) for k, v in row.items()}
        for row in session.execute(select(table).where(where)).mappings()
    ]


def export(session: Session, contact_id: str, caller: CallerContext | None) -> dict[str, Any]:
    """The document, in the caller's scope (the module's rule); NOT_FOUND when the caller may not read
    the contact. No caller (trusted internal code): everything."""
    contact = contacts_store.contacts.read(session, contact_id, caller=caller)
    records = consent_store.records_of(session, contact_id)
    interaction = interactions_store.Interaction
    interactions = session.scalars(
        interactions_store.interactions.scoped(
            select(interaction).where(interaction.contact_id == contact_id), caller
        ).order_by(interaction.occurred_at, interaction.id)
    )
    timeline = session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.contact_id == contact_id, visible(caller))
        .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
    )
    history, cursor = [], ""
    while True:
        page = list_history(session, "contact", contact_id, 200, cursor)
        history += page.items
        cursor = page.next_cursor
        if not cursor:
            break
    document: dict[str, Any] = {
        "profile": protojson.encode(contacts_store.to_message(contact)),
        "profile_history": [protojson.encode(e) for e in history],
        "consents": {
            "current": [
                protojson.encode(consent_api.state_message(s)) for s in consent_domain.current_state(records)
            ],
            "history": [protojson.encode(consent_events.to_message(r)) for r in reversed(records)],
        },
        "interactions": [protojson.encode(interactions_store.to_message(i)) for i in interactions],
        "timeline": [protojson.encode(timeline_api.to_message(e)) for e in timeline],
        "company_links": [],
        "other_records": {},
    }
    for table in child_tables():
        if table.name == "company_people":
            document["company_links"] = _company_links(session, table, contact_id, caller)
        elif table.name not in _SECTIONED:
            rows = _rows(session, table, table.c.contact_id == contact_id)
            if rows:
                document["other_records"][table.name] = rows
    return json.loads(json.dumps(document, default=str))


def _company_links(
    session: Session, table: Any, contact_id: str, caller: CallerContext | None
) -> list[dict[str, Any]]:
    """The contact's links to companies the caller may read (as GET /contacts/{id}/companies)."""
    company = companies_store.Company
    query = (
        select(table, company.name.label("company_name"))
        .join(company, company.id == table.c.company_id)
        .where(table.c.contact_id == contact_id)
    )
    query = companies_store.companies.scoped(query, caller)
    return [{k: _plain(v) for k, v in row.items()} for row in session.execute(query).mappings()]

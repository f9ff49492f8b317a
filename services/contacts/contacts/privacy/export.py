"""The contacts section of a person's data export: everything this database holds about them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts import store as contacts_store
from contacts.consent import api as consent_api
from contacts.consent import domain as consent_domain
from contacts.consent import events as consent_events
from contacts.consent import store as consent_store
from contacts.interactions import store as interactions_store
from contacts.privacy.erasure import child_tables
from contacts.timeline import api as timeline_api
from contacts.timeline.store import TimelineEntry
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
    """The document; NOT_FOUND when the caller may not read the contact."""
    contact = contacts_store.contacts.read(session, contact_id, caller=caller)
    records = consent_store.records_of(session, contact_id)
    interactions = session.scalars(
        select(interactions_store.Interaction)
        .where(interactions_store.Interaction.contact_id == contact_id)
        .order_by(interactions_store.Interaction.occurred_at)
    )
    timeline = session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.contact_id == contact_id)
        .order_by(TimelineEntry.occurred_at)
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
            document["company_links"] = _company_links(session, table, contact_id)
        elif table.name not in _SECTIONED:
            rows = _rows(session, table, table.c.contact_id == contact_id)
            if rows:
                document["other_records"][table.name] = rows
    return json.loads(json.dumps(document, default=str))


def _company_links(session: Session, table: Any, contact_id: str) -> list[dict[str, Any]]:
    companies = contacts_store.Base.metadata.tables["companies"]
    query = (
        select(table, companies.c.name.label("company_name"))
        .join(companies, companies.c.id == table.c.company_id)
        .where(table.c.contact_id == contact_id)
    )
    return [{k: _plain(v) for k, v in row.items()} for row in session.execute(query).mappings()]

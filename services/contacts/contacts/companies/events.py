"""Events about companies, published by the contacts service on `contacts.events` (aggregate type
"company"): company_created, company_updated, company_archived. Each is written to the outbox in the
transaction of the change it announces, with the actor and, for updates, the changed fields. Companies
an import creates together are announced by one `companies_imported` batch event (items: what
`company_created` carries for each) instead of a `company_created` each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf.message import Message
from sqlalchemy.orm import Session

from contacts.companies.store import Company
from contacts.events import SOURCE, record_imported
from contacts.store import messaging
from crm.events.v1 import companies_pb2
from crm_platform.events import RecordedBatch, record_event
from crm_platform.protobuf import as_event_payload, timestamp
from crm_platform.resources import Change
from crm_platform.resources.history import field_changes

COMPANY_CREATED = "company_created"
COMPANY_UPDATED = "company_updated"
COMPANY_ARCHIVED = "company_archived"
COMPANIES_IMPORTED = "companies_imported"

AGGREGATE = "company"
# A companies_imported event's own aggregate: a new one per event, as for contacts_imported.
BATCH_AGGREGATE = "company_batch"


def _record(session: Session, event_type: str, company: Company, payload: Message) -> str:
    return record_event(
        session,
        messaging,
        source=SOURCE,
        event_type=event_type,
        aggregate_type=AGGREGATE,
        aggregate_id=company.id,
        payload=as_event_payload(payload),
    )


def record_company_created(session: Session, change: Change[Company]) -> str:
    """Writes `company_created` to the outbox in the caller's transaction; returns the event id."""
    return _record(session, COMPANY_CREATED, change.row, _created(change))


def record_companies_imported(session: Session, changes: Sequence[Change[Any]]) -> RecordedBatch | None:
    """One `companies_imported` event for a batch of new companies (store.add_companies: an import's
    creates), in the caller's transaction: each item what `company_created` carries for that company,
    numbered on the company as its `company_created` would be. None for no companies."""
    items = [(change.row.id, as_event_payload(_created(change))) for change in changes]
    return record_imported(session, COMPANIES_IMPORTED, BATCH_AGGREGATE, AGGREGATE, items)


def _created(change: Change[Any]) -> companies_pb2.CompanyCreated:
    company = change.row
    return companies_pb2.CompanyCreated(
        company_id=company.id,
        name=company.name,
        domain=company.domain or "",
        industry=company.industry or "",
        size=company.size or "",
        parent_company_id=company.parent_company_id or "",
        created_at=timestamp(company.created_at),
        actor_id=change.actor_id,
        version=change.version,
        owner_id=company.owner_id or "",
        team_id=company.team_id or "",
        partner_account_id=company.partner_account_id or "",
    )


def record_company_updated(session: Session, change: Change[Company]) -> str:
    company = change.row
    return _record(
        session,
        COMPANY_UPDATED,
        company,
        companies_pb2.CompanyUpdated(
            company_id=company.id,
            actor_id=change.actor_id,
            version=change.version,
            changed_fields=change.changed_fields,
            changes=field_changes(change.changes),
            updated_at=timestamp(company.updated_at),
        ),
    )


def record_company_archived(session: Session, change: Change[Company]) -> str:
    company = change.row
    assert company.archived_at is not None
    return _record(
        session,
        COMPANY_ARCHIVED,
        company,
        companies_pb2.CompanyArchived(
            company_id=company.id,
            actor_id=change.actor_id,
            version=change.version,
            archived_at=timestamp(company.archived_at),
        ),
    )

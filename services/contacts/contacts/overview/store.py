"""The overview's reads: four statements on one read-only connection, each built once per combination of
the caller's scope shapes (crm_platform.access.scope.MultiScopedStatements) and run with the caller's
values.

1. The contact row (in the contact's read scope) with every count beside it as scalar subqueries, each
   in its own record type's scope: one round trip answers NOT_FOUND or the profile and the counts.
2. The company links, 3. the consent records and 4. the latest timeline entries, each skipped when its
   count says there is nothing to read (a new contact costs one statement).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    bindparam,
    func,
    select,
)

from contacts import store as contacts_store
from contacts.companies.store import Company, CompanyPersonLink, companies
from contacts.consent.store import ConsentRecord
from contacts.interactions.store import Interaction, interactions
from contacts.merge.tombstones import moved
from contacts.timeline.store import TIMELINE_SCOPES, TimelineEntry, visible_by
from crm_platform.access import CallerContext, OwnershipColumns
from crm_platform.access.scope import MultiScopedStatements
from crm_platform.errors import NotFound

# A person linked to more companies than this shows the first ones (oldest link first); the count
# says how many there are.
MAX_COMPANIES = 50


def _timeline_scopes() -> dict[str, tuple[str, str, OwnershipColumns]]:
    return {f"timeline:{name}": scope for name, scope in TIMELINE_SCOPES.items()}


def _visible_entries(scopes: dict[str, ColumnElement[bool]]) -> ColumnElement[bool]:
    return visible_by(lambda name: scopes[f"timeline:{name}"])


_CONTACT_ID = bindparam("contact_id")


def _contact_with_counts(scopes: dict[str, ColumnElement[bool]]) -> Select[Any]:
    contact = contacts_store.Contact.__table__
    link, company = CompanyPersonLink, Company

    def scalar(query: Select[Any], label: str) -> Any:
        return query.scalar_subquery().label(label)

    def live_interactions(column: Any) -> Select[Any]:
        return select(column).where(
            Interaction.contact_id == _CONTACT_ID, Interaction.archived_at.is_(None), scopes["interaction"]
        )

    return select(
        contact,
        scalar(live_interactions(func.count()), "overview_interactions"),
        scalar(live_interactions(func.max(Interaction.occurred_at)), "overview_last_at"),
        scalar(
            select(func.count())
            .select_from(TimelineEntry)
            .where(TimelineEntry.contact_id == _CONTACT_ID, _visible_entries(scopes)),
            "overview_timeline",
        ),
        scalar(
            select(func.count())
            .select_from(link)
            .join(company, company.id == link.company_id)
            .where(link.contact_id == _CONTACT_ID, company.archived_at.is_(None), scopes["company"]),
            "overview_companies",
        ),
        scalar(
            select(func.count()).select_from(ConsentRecord).where(ConsentRecord.contact_id == _CONTACT_ID),
            "overview_consent_records",
        ),
    ).where(contact.c.id == _CONTACT_ID, scopes["contact"])


_CONTACTS = MultiScopedStatements(
    _contact_with_counts,
    {
        "contact": contacts_store.contacts.scope("read"),
        "interaction": interactions.scope("read"),
        "company": companies.scope("read"),
        **_timeline_scopes(),
    },
)

_COMPANIES = MultiScopedStatements(
    lambda scopes: (
        select(
            CompanyPersonLink.company_id,
            Company.name.label("company_name"),
            CompanyPersonLink.role,
            CompanyPersonLink.title,
            CompanyPersonLink.is_primary,
            CompanyPersonLink.created_at,
        )
        .join(Company, Company.id == CompanyPersonLink.company_id)
        .where(CompanyPersonLink.contact_id == _CONTACT_ID, Company.archived_at.is_(None), scopes["company"])
        .order_by(CompanyPersonLink.created_at, CompanyPersonLink.id)
        .limit(MAX_COMPANIES)
    ),
    {"company": companies.scope("read")},
)

_TIMELINE = MultiScopedStatements(
    lambda scopes: (
        select(TimelineEntry.__table__)
        .where(TimelineEntry.contact_id == _CONTACT_ID, _visible_entries(scopes))
        .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())
        .limit(bindparam("timeline_limit"))
    ),
    _timeline_scopes(),
)

# Consent follows the contact: whoever reads the contact reads its consents.
_CONSENTS = (
    select(ConsentRecord.__table__)
    .where(ConsentRecord.contact_id == _CONTACT_ID)
    .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
)


@dataclass(frozen=True)
class Overview:
    """The rows of a contact's overview, as the caller may see them."""

    contact: Any  # the contacts row, with the counts as overview_* columns
    companies: list[Any]
    consent_records: list[Any]
    timeline: list[Any]


def overview(
    connection: Connection, contact_id: str, caller: CallerContext | None, timeline_limit: int
) -> Overview:
    """NOT_FOUND when the caller may not read the contact (MOVED to the survivor of a merge they may
    read, as GetContact answers)."""
    row = _CONTACTS.execute(connection, caller, contact_id=contact_id).one_or_none()
    if row is None:
        raise NotFound(f"contact {contact_id} not found", resource_type="contact", resource_name=contact_id)
    if row.merged_into is not None:
        raise moved(connection, contacts_store.contacts, row, caller)
    return Overview(
        contact=row,
        companies=_rows(connection, _COMPANIES, caller, row.overview_companies, contact_id=contact_id),
        consent_records=(
            list(connection.execute(_CONSENTS, {"contact_id": contact_id}))
            if row.overview_consent_records
            else []
        ),
        timeline=_rows(
            connection,
            _TIMELINE,
            caller,
            row.overview_timeline,
            contact_id=contact_id,
            timeline_limit=timeline_limit,
        ),
    )


def _rows(
    connection: Connection,
    statements: MultiScopedStatements[Any],
    caller: CallerContext | None,
    count: int,
    **parameters: Any,
) -> list[Any]:
    if not count:
        return []
    return list(statements.execute(connection, caller, **parameters))

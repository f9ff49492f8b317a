"""Merging companies: what is particular to them (contacts.merge.execution runs it).

- The survivor's fields come from the choices (a source's domain moves with it when chosen: the source's
  tombstone releases it first, since a domain is unique in its book).
- The sources' people move to the survivor: a person linked to both keeps one link (primary if either
  was), and the survivor keeps at most one primary person (its own, else the first source's).
- The sources' subsidiaries become the survivor's; a survivor whose parent would make it its own
  ancestor loses its parent: the parent is a source or the survivor, or one of them is above it (a
  survivor under a source's subsidiary would otherwise close a cycle when that subsidiary becomes the
  survivor's).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contacts.companies import events as company_events
from contacts.companies import store
from contacts.companies.api import apply_company_rules
from contacts.companies.domain import MAX_PARENT_DEPTH
from contacts.custom_fields.catalogue import Catalogue
from contacts.custom_fields.records import RecordCustomFields
from contacts.merge import events
from contacts.merge.execution import Kind
from contacts.merge.plan import Policy
from crm.contacts.v1 import companies_pb2


def _move_people(session: Session, survivor_id: str, sources: Sequence[str]) -> None:
    found = store.links_locked(session, store.CompanyPersonLink.company_id, [survivor_id, *sources])
    held = {link.contact_id: link for link in found if link.company_id == survivor_id}
    has_primary = any(link.is_primary for link in held.values())
    for link in (link for link in found if link.company_id != survivor_id):
        kept = held.get(link.contact_id)
        primary = link.is_primary and not has_primary
        has_primary = has_primary or primary
        if kept is None:
            link.company_id, link.is_primary = survivor_id, primary
            held[link.contact_id] = link
        else:
            kept.is_primary = kept.is_primary or primary
            session.delete(link)
    session.flush()


def move_children(session: Session, survivor: Any, sources: Sequence[str]) -> None:
    _move_people(session, survivor.id, sources)
    companies = store.Company
    session.execute(
        update(companies)
        .where(companies.parent_company_id.in_(sources), companies.id != survivor.id)
        .values(parent_company_id=survivor.id)
        .execution_options(synchronize_session=False)
    )


def _adjust(session: Session, merged: companies_pb2.Company, sources: Sequence[str]) -> None:
    """No cycle of parents: the planned parent loses its place when the survivor or a source is on the
    chain above it, read as it is (the sources' subsidiaries are re-parented to the survivor after)."""
    merging = {merged.id, *sources}
    current = merged.parent_company_id
    for _ in range(MAX_PARENT_DEPTH):
        if not current:
            return
        if current in merging:
            break
        parent = select(store.Company.parent_company_id).where(store.Company.id == current)
        # Share-locked, as an update's walk is (contacts.companies.store): nobody re-parents the chain
        # under this merge's feet.
        current = session.execute(parent.with_for_update(read=True)).scalar() or ""
    merged.parent_company_id = ""  # a chain deeper than MAX_PARENT_DEPTH counts as a cycle, as updates do


COMPANIES = Kind(
    repository=store.companies,
    policy=Policy(keyed=frozenset({"custom_fields"})),
    bury=lambda row: {"domain": None},
    check=lambda session, sources: None,
    move_children=move_children,
    adjust=_adjust,
    update=store.update_company,
    prepare=apply_company_rules,
    custom_fields=RecordCustomFields(
        "companies", store.Company, store.LIST_SPEC, Catalogue(), request_field="company"
    ),
    record_updated=company_events.record_company_updated,
    record_merged=events.record_company_merged,
)

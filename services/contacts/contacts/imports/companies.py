"""Companies as an import writes them (the Adapter of resource `companies`): rows upserted by external
id, then by domain, within the caller's book, through CompaniesServicer's own create and update: new
companies checked by CreateCompany's checks as they come and written together (`check_create`,
`add_checked`; rows.py's batch), updates one row at a time through UpdateCompany, but for rows that
would change nothing: those are told without it and counted `skipped` (unchanged.py: the chunk's
matched companies, read whole by the query that finds them, merged with UpdateCompany's rules)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import Session

from contacts import external_ids
from contacts.companies import api as companies_api
from contacts.companies import store as companies_store
from contacts.companies.domain import normalise_domain
from contacts.imports.adapter import EXTERNAL_ID, Adapter, Found
from contacts.imports.unchanged import UnchangedRows
from crm.contacts.v1 import companies_pb2
from crm_platform.access import CallerContext
from crm_platform.errors import DomainError
from crm_platform.resources import Change
from crm_platform.resources.etag import etag_of
from crm_platform.service import Runtime


def _external_id_taken(value: str) -> external_ids.ExternalIdTaken:
    return external_ids.ExternalIdTaken(companies_store.companies.resource_type, value)


def _matching(domains: Collection[str], external: Collection[str]) -> ColumnElement[bool] | None:
    """The live companies holding any of `domains` or `external` ids, in any book (None: no keys)."""
    table = companies_store.Company.__table__
    matches = []
    if domains:
        matches.append(table.c.domain.in_(domains))
    if external:
        matches.append(table.c.external_id.in_(external) & table.c.external_id.is_not(None))
    return or_(*matches) & table.c.merged_into.is_(None) if matches else None


def _update_rules(row: Any, merged: companies_pb2.Company, paths: Sequence[str]) -> None:
    """What UpdateCompany does to a merged company before comparing it (`store.normalise_merged` with
    the domain's rules, `api.apply_company_rules`, as update_company calls it), for unchanged.py. Its
    other checks (parent, taken domain or external id, a move of book) look only at what changes, so a
    row that changes nothing never meets them."""
    companies_store.normalise_merged(merged, companies_api.apply_company_rules)


class Companies(Adapter):
    name = "companies"
    noun = "company"
    create_request = companies_pb2.CreateCompanyRequest
    record = companies_pb2.Company
    natural_key = "domain"
    repository = companies_store.companies
    create_method, update_method = "CreateCompany", "UpdateCompany"
    update_request = companies_pb2.UpdateCompanyRequest
    taken = {"domain": companies_store.DomainTaken, EXTERNAL_ID: _external_id_taken}
    normalisers = {"domain": normalise_domain, EXTERNAL_ID: external_ids.clean}
    batch = True

    def __init__(self, caller: CallerContext) -> None:
        super().__init__(caller)
        self.matched: UnchangedRows = UnchangedRows(caller, companies_store.companies, _update_rules)
        self._definitions: Any = None  # the custom fields' catalogue, read by a chunk's first create

    def begin_chunk(self) -> None:
        self._definitions = None

    def servicer(self, runtime: Runtime) -> companies_api.CompaniesServicer:
        return companies_api.CompaniesServicer(runtime)

    def existing(self, session: Session, wanted: Mapping[str, Collection[str]]) -> list[Found]:
        rows = self.matched.load(session, _matching(wanted.get("domain", ()), wanted.get(EXTERNAL_ID, ())))
        found = []
        for row in rows:
            keys = [
                (row.uniqueness_book, name, value)
                for name, value in (("domain", row.domain), (EXTERNAL_ID, row.external_id))
                if value
            ]
            found.append(Found(row.id, etag_of(row.id, row.version), tuple(keys)))
        return found

    def check_create(
        self, servicer: companies_api.CompaniesServicer, session: Session, request: Any, prepared: Any = None
    ) -> companies_store.NewCompany:
        if self._definitions is None:
            self._definitions = servicer.custom_fields.definitions(session)
        return servicer.check_create(session, request, self._definitions)

    def add_checked(
        self,
        servicer: companies_api.CompaniesServicer,
        session: Session,
        checked: Sequence[Any],
        actor_id: str,
    ) -> list[Change[Any] | DomainError]:
        return servicer.add_checked(session, checked, actor_id)

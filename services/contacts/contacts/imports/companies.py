"""Companies as an import writes them (the Adapter of resource `companies`): rows upserted by external
id, then by domain, within the caller's book, through CompaniesServicer's own create and update: new
companies checked by CreateCompany's checks as they come and written together (`check_create`,
`add_checked`; rows.py's batch), updates one row at a time through UpdateCompany (one that changes
nothing writes nothing there, and is counted `skipped`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from contacts import external_ids
from contacts.companies import api as companies_api
from contacts.companies import store as companies_store
from contacts.companies.domain import normalise_domain
from contacts.imports.adapter import EXTERNAL_ID, Adapter, Found
from crm.contacts.v1 import companies_pb2
from crm_platform.access import CallerContext
from crm_platform.errors import DomainError
from crm_platform.resources import Change
from crm_platform.resources.etag import etag_of
from crm_platform.service import Runtime


def _external_id_taken(value: str) -> external_ids.ExternalIdTaken:
    return external_ids.ExternalIdTaken(companies_store.companies.resource_type, value)


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
        self._definitions: Any = None  # the custom fields' catalogue, read by a chunk's first create

    def begin_chunk(self) -> None:
        self._definitions = None

    def servicer(self, runtime: Runtime) -> companies_api.CompaniesServicer:
        return companies_api.CompaniesServicer(runtime)

    def existing(self, session: Session, wanted: Mapping[str, Collection[str]]) -> list[Found]:
        company = companies_store.Company
        matches = []
        if wanted.get("domain"):
            matches.append(company.domain.in_(wanted["domain"]))
        if wanted.get(EXTERNAL_ID):
            matches.append(company.external_id.in_(wanted[EXTERNAL_ID]) & company.external_id.is_not(None))
        if not matches:
            return []
        rows = session.execute(
            select(
                company.id,
                company.version,
                company.uniqueness_book,
                company.domain,
                company.external_id,
            ).where(or_(*matches), company.merged_into.is_(None))
        ).all()
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

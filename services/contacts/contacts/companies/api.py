"""The companies gRPC servicer (`crm.contacts.v1.CompaniesService`), served by the contacts service.

Standard methods on the chassis (crm_platform.resources.StandardMethods: idempotency, etags, history,
scope, outbox events), with what is particular to companies: the domain's rules and normalisation, the
parent company (readable by the caller, no cycles) and the domain unique within its book (store). The
people routes link contacts to companies: the caller must read both and update the company.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import grpc
from google.protobuf import empty_pb2
from sqlalchemy.orm import Session

from contacts.companies import domain, events, store
from contacts.custom_fields.catalogue import Catalogue
from contacts.custom_fields.domain import Definition, clean_values
from contacts.custom_fields.records import RecordCustomFields, values_of
from contacts.merge.guard import contention_aborts, refuse_deleting_merged
from contacts.merge.tombstones import read_live
from crm.common.v1 import history_pb2
from crm.contacts.v1 import companies_pb2, companies_pb2_grpc
from crm_platform.access import CallerContext, Ownership
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading, reading_connection
from crm_platform.errors import DomainError, InvalidArgument
from crm_platform.listing import CursorCodec, ListRequest
from crm_platform.resources import Change, ResourceEvents, StandardMethods, idempotent_write, service_secret
from crm_platform.resources.methods import ownership_for_create
from crm_platform.service import Runtime, ServiceDefinition
from crm_platform.validation import FieldViolations, checks_own_contract, contract_violations


def _fields(message: Any) -> domain.CompanyFields:
    """The domain's rules over a Create request or a merged Company (same field names)."""
    return domain.validate_company(
        name=message.name,
        domain=message.domain,
        industry=message.industry,
        website=message.website,
        phone=message.phone,
        description=message.description,
        address=store.clean_address(message.address),
    )


def apply_company_rules(company: companies_pb2.Company) -> None:
    """The domain's rules on an updated company, normalising it in place (as Create does)."""
    clean = _fields(company)
    company.name, company.domain, company.industry = clean.name, clean.domain, clean.industry
    company.website, company.phone, company.description = clean.website, clean.phone, clean.description
    if company.HasField("address"):
        address = clean.address
        company.address.CopyFrom(
            companies_pb2.Address(
                street=address.street,
                city=address.city,
                region=address.region,
                postal_code=address.postal_code,
                country=address.country,
            )
        )
        if not company.address.ByteSize():
            company.ClearField("address")


def _new_company(
    request: companies_pb2.CreateCompanyRequest,
    fields: domain.CompanyFields,
    ownership: Ownership | None,
    custom_values: dict[str, Any],
) -> store.NewCompany:
    return store.NewCompany(
        fields,
        size=request.size,
        parent_company_id=request.parent_company_id,
        ownership=ownership,
        custom_fields=custom_values,
        external_id=request.external_id,
    )


class CompaniesServicer(companies_pb2_grpc.CompaniesServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions
        self.custom_fields = RecordCustomFields(
            "companies", store.Company, store.LIST_SPEC, Catalogue(), request_field="company"
        )
        self.companies = StandardMethods(
            runtime.sessions,
            store.companies,
            companies_pb2.Company,
            list_spec=self.custom_fields.list_spec,
            listed=store.active_companies,
            events=ResourceEvents(
                created=events.record_company_created,
                updated=events.record_company_updated,
                archived=events.record_company_archived,
            ),
        )

    # --- standard methods ----------------------------------------------------------------------------

    @checks_own_contract  # every bad field at once: the contract's, the domain's, the custom fields'
    @contention_aborts  # a wait for a parent company a merge holds
    def CreateCompany(
        self, request: companies_pb2.CreateCompanyRequest, context: grpc.ServicerContext
    ) -> companies_pb2.Company:
        fields = self.custom_fields.check_create(self.sessions, request, lambda: _fields(request))

        def add(session: Session, actor_id: str, ownership: Ownership | None) -> Change[Any]:
            values = self.custom_fields.check_new(session, request.custom_fields)
            new = _new_company(request, fields, ownership, values)
            change = store.add_company(session, new, actor_id=actor_id, caller=current_caller_or_none())
            self.custom_fields.save(session, change.row.id, values)
            return change

        return self.companies.create(context, request, add=add)

    # --- many creates at once: imports (contacts.imports.companies). Keep in step with CreateCompany. --

    def check_create(
        self,
        session: Session,
        request: companies_pb2.CreateCompanyRequest,
        definitions: Mapping[str, Definition],
    ) -> store.NewCompany:
        """What CreateCompany checks before it writes, in its order: the contract's field rules, the
        domain's (with every bad custom field when they refuse), the caller's right to the ownership
        asked for, the custom fields against `definitions` (the catalogue's, read once per batch:
        `self.custom_fields.definitions(session)`), the parent company. The DomainError CreateCompany
        would answer, or what `add_checked` writes. Taken domains and external ids are `add_checked`'s
        to tell (the rows before this one may not be written yet)."""
        violations = contract_violations(request)
        if violations:
            raise InvalidArgument("the company breaks the contract's field rules", violations)
        problems = FieldViolations()
        with problems.collecting():
            fields = _fields(request)
        if problems:
            with problems.collecting():
                self._custom_values(request, definitions)
            problems.raise_any(f"invalid {self.custom_fields.resource} fields")
        ownership = ownership_for_create(store.companies, request)
        values = self._custom_values(request, definitions)
        caller = current_caller_or_none()
        store.check_parent(session, "", request.parent_company_id, caller, "parent_company_id")
        return _new_company(request, fields, ownership, values)

    def add_checked(
        self, session: Session, checked: Sequence[store.NewCompany], actor_id: str
    ) -> list[Change[Any] | DomainError]:
        """CreateCompany's writes for many checked companies in `session`'s transaction
        (store.add_companies, their custom field values, and one `companies_imported` event announcing
        them): per company its Change or its refusal (a taken domain or external id), as if created
        one after the other."""
        outcomes = store.add_companies(session, checked, actor_id, current_caller_or_none())
        created = []
        for outcome, new in zip(outcomes, checked, strict=True):
            if isinstance(outcome, Change):
                if new.custom_fields:
                    self.custom_fields.save(session, outcome.row.id, new.custom_fields)
                created.append(outcome)
        events.record_companies_imported(session, created)
        return list(outcomes)

    def _custom_values(
        self, request: companies_pb2.CreateCompanyRequest, definitions: Mapping[str, Definition]
    ) -> dict[str, Any]:
        """`self.custom_fields.check_new` against definitions already read."""
        return clean_values(values_of(request.custom_fields), definitions, self.custom_fields.resource)

    def GetCompany(
        self, request: companies_pb2.GetCompanyRequest, context: grpc.ServicerContext
    ) -> companies_pb2.Company:
        # A merged company answers MOVED to its survivor (contacts.merge.tombstones).
        with reading_connection(self.sessions) as connection:
            return store.to_message(
                read_live(connection, store.companies, request.id, current_caller_or_none())
            )

    def ListCompanies(
        self, request: companies_pb2.ListCompaniesRequest, context: grpc.ServicerContext
    ) -> companies_pb2.ListCompaniesResponse:
        return companies_pb2.ListCompaniesResponse(**self.companies.list(request))

    @contention_aborts
    def UpdateCompany(
        self, request: companies_pb2.UpdateCompanyRequest, context: grpc.ServicerContext
    ) -> companies_pb2.Company:
        return self.companies.update(
            context,
            request,
            request.company,
            apply=self.custom_fields.updating(store.update_company),
            prepare=apply_company_rules,
        )

    @contention_aborts
    def DeleteCompany(
        self, request: companies_pb2.DeleteCompanyRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        refuse_deleting_merged(self.sessions, store.companies, request.id, current_caller_or_none())
        return self.companies.delete(context, request)

    def ListCompanyHistory(
        self, request: companies_pb2.ListCompanyHistoryRequest, context: grpc.ServicerContext
    ) -> history_pb2.ListHistoryResponse:
        return self.companies.history(request)  # type: ignore[arg-type]

    # --- people --------------------------------------------------------------------------------------

    @contention_aborts
    def AddCompanyPerson(
        self, request: companies_pb2.AddCompanyPersonRequest, context: grpc.ServicerContext
    ) -> companies_pb2.CompanyPerson:
        title = domain.clean_title(request.title)
        with idempotent_write(self.sessions, context, request, companies_pb2.CompanyPerson) as write:
            if write.replay is not None:
                return write.replay
            link = store.add_person(
                write.session,
                request.company_id,
                request.contact_id,
                role=request.role,
                title=title,
                is_primary=request.is_primary,
                caller=current_caller_or_none(),
            )
            return write.respond(link)

    @contention_aborts
    def RemoveCompanyPerson(
        self, request: companies_pb2.RemoveCompanyPersonRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        with idempotent_write(self.sessions, context, request, empty_pb2.Empty) as write:
            if write.replay is not None:
                return write.replay
            store.remove_person(
                write.session, request.company_id, request.contact_id, caller=current_caller_or_none()
            )
            return write.respond(empty_pb2.Empty())

    def ListCompanyPeople(
        self, request: companies_pb2.ListCompanyPeopleRequest, context: grpc.ServicerContext
    ) -> companies_pb2.ListCompanyPeopleResponse:
        caller = current_caller_or_none()
        asked, codec = self._page_request(request)
        with reading(self.sessions) as session:
            company, page = store.company_people(session, request.company_id, asked, codec, caller)
            items = [store.link_message(link, company, contact) for link, contact in page.items]
        return companies_pb2.ListCompanyPeopleResponse(items=items, next_cursor=page.next_cursor)

    def ListContactCompanies(
        self, request: companies_pb2.ListContactCompaniesRequest, context: grpc.ServicerContext
    ) -> companies_pb2.ListContactCompaniesResponse:
        caller = current_caller_or_none()
        asked, codec = self._page_request(request)
        with reading(self.sessions) as session:
            contact, page = store.contact_companies(session, request.contact_id, asked, codec, caller)
            items = [store.link_message(link, company, contact) for link, company in page.items]
        return companies_pb2.ListContactCompaniesResponse(items=items, next_cursor=page.next_cursor)

    def _page_request(self, request: Any) -> tuple[ListRequest, CursorCodec]:
        asked = ListRequest(
            cursor=request.cursor, limit=request.limit, caller=_cursor_owner(current_caller_or_none())
        )
        return asked, CursorCodec(service_secret(self.sessions, "cursor"))


def _cursor_owner(caller: CallerContext | None) -> str:
    # Everything that changes what a caller sees (as the chassis binds list cursors): a cursor is only
    # good for the same view.
    if caller is None:
        return ""
    return "|".join((caller.subject, caller.partner_account_id or "", ",".join(sorted(caller.team_ids))))


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    companies_pb2_grpc.add_CompaniesServiceServicer_to_server(CompaniesServicer(runtime), server)
    return [companies_pb2.DESCRIPTOR.services_by_name["CompaniesService"].full_name]


def install(definition: ServiceDefinition) -> ServiceDefinition:
    """Serve companies from `definition`'s process too."""
    return definition.include(register)

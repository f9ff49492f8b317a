"""ContactOverviewService: a contact's overview in one call (the customer-360's contacts section), each
part as the caller may see it (contacts.overview.store)."""

from __future__ import annotations

from typing import Any

import grpc

from contacts import store as contacts_store
from contacts.consent import domain as consent_domain
from contacts.consent.api import state_message
from contacts.overview import store
from contacts.timeline.api import to_message as timeline_message
from crm.contacts.v1 import companies_pb2, overview_pb2, overview_pb2_grpc
from crm_platform import protojson
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading_connection
from crm_platform.protobuf import timestamp
from crm_platform.service import Runtime, ServiceDefinition

DEFAULT_TIMELINE_LIMIT = 5
_ROLES = protojson.enum_numbers(companies_pb2.CompanyPersonRole.DESCRIPTOR)


def company_link(row: Any) -> overview_pb2.ContactCompanyLink:
    return overview_pb2.ContactCompanyLink(
        company_id=row.company_id,
        company_name=row.company_name,
        role=_ROLES.get(row.role or "", 0),
        title=row.title or "",
        is_primary=row.is_primary,
        created_at=timestamp(row.created_at),
    )


def counts(row: Any) -> overview_pb2.ContactOverviewCounts:
    message = overview_pb2.ContactOverviewCounts(
        interactions=row.overview_interactions,
        timeline_entries=row.overview_timeline,
        companies=row.overview_companies,
    )
    if row.overview_last_at is not None:
        message.last_interaction_at.CopyFrom(timestamp(row.overview_last_at))
    return message


class ContactOverviewServicer(overview_pb2_grpc.ContactOverviewServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def GetContactOverview(
        self, request: overview_pb2.GetContactOverviewRequest, context: grpc.ServicerContext
    ) -> overview_pb2.ContactOverview:
        limit = request.timeline_limit or DEFAULT_TIMELINE_LIMIT
        with reading_connection(self.sessions) as connection:
            found = store.overview(connection, request.id, current_caller_or_none(), limit)
        return overview_pb2.ContactOverview(
            contact=contacts_store.to_message(found.contact),
            companies=[company_link(row) for row in found.companies],
            consents=[state_message(s) for s in consent_domain.current_state(found.consent_records)],
            timeline=[timeline_message(row) for row in found.timeline],
            counts=counts(found.contact),
        )


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    overview_pb2_grpc.add_ContactOverviewServiceServicer_to_server(ContactOverviewServicer(runtime), server)
    return [overview_pb2.DESCRIPTOR.services_by_name["ContactOverviewService"].full_name]


def install(definition: ServiceDefinition) -> ServiceDefinition:
    """`definition` serving ContactOverviewService too."""
    return definition.include(register)

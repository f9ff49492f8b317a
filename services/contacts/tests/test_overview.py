"""ContactOverviewService over a real gRPC server (SQLite and PostgreSQL): the profile as GetContact
answers it, and each part (companies, interactions, timeline) as the caller's own lists show it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from contacts.main import DEFINITION
from crm.contacts.v1 import (
    companies_pb2,
    companies_pb2_grpc,
    consent_pb2,
    consent_pb2_grpc,
    contacts_pb2,
    contacts_pb2_grpc,
    interactions_pb2,
    interactions_pb2_grpc,
    overview_pb2,
    overview_pb2_grpc,
    timeline_pb2,
    timeline_pb2_grpc,
)
from crm_platform.service import Runtime
from crm_platform.testing.callers import caller_metadata
from crm_platform.testing.migrated import open_migrated_runtime
from crm_platform.testing.service_server import served_channel

ADMIN = caller_metadata("admin", "admin")
REP_A = caller_metadata("rep-a", "sales_rep", team_ids=("team-a",))
REP_B = caller_metadata("rep-b", "sales_rep", team_ids=("team-b",))
PARTNER = caller_metadata("partner-user", "partner", partner_account_id="p1")


@pytest.fixture
def channel(database_url: str) -> Iterator[grpc.Channel]:
    runtime: Runtime = open_migrated_runtime(DEFINITION, database_url)
    with served_channel(DEFINITION, runtime) as channel:
        yield channel
    runtime.engine.dispose()


def _overview(
    channel: grpc.Channel, md: Any, contact_id: str, limit: int = 0
) -> overview_pb2.ContactOverview:
    return overview_pb2_grpc.ContactOverviewServiceStub(channel).GetContactOverview(
        overview_pb2.GetContactOverviewRequest(id=contact_id, timeline_limit=limit), metadata=md, timeout=10
    )


def _code(call: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value.code()


def _interaction(channel: grpc.Channel, md: Any, contact_id: str, subject: str, **owner: str) -> None:
    interactions_pb2_grpc.InteractionsServiceStub(channel).CreateInteraction(
        interactions_pb2.CreateInteractionRequest(
            contact_id=contact_id, kind=interactions_pb2.INTERACTION_KIND_CALL, subject=subject, **owner
        ),
        metadata=md,
        timeout=10,
    )


def _company(channel: grpc.Channel, md: Any, name: str, contact_id: str) -> companies_pb2.Company:
    stub = companies_pb2_grpc.CompaniesServiceStub(channel)
    company = stub.CreateCompany(companies_pb2.CreateCompanyRequest(name=name), metadata=md, timeout=10)
    stub.AddCompanyPerson(
        companies_pb2.AddCompanyPersonRequest(
            company_id=company.id,
            contact_id=contact_id,
            role=companies_pb2.COMPANY_PERSON_ROLE_DECISION_MAKER,
            title="Buyer",
        ),
        metadata=ADMIN,
        timeout=10,
    )
    return company


def _lists(channel: grpc.Channel, md: Any, contact_id: str) -> tuple[int, list[str], set[str]]:
    """What the caller's own list RPCs show: interactions, timeline entry ids newest first, company ids."""
    interactions = interactions_pb2_grpc.InteractionsServiceStub(channel).ListInteractions(
        interactions_pb2.ListInteractionsRequest(contact_id=contact_id, limit=200), metadata=md, timeout=10
    )
    timeline = timeline_pb2_grpc.TimelineServiceStub(channel).ListTimelineEntries(
        timeline_pb2.ListTimelineEntriesRequest(contact_id=contact_id, limit=200), metadata=md, timeout=10
    )
    companies = companies_pb2_grpc.CompaniesServiceStub(channel).ListContactCompanies(
        companies_pb2.ListContactCompaniesRequest(contact_id=contact_id, limit=200), metadata=md, timeout=10
    )
    return (
        len(interactions.items),
        [e.id for e in timeline.items],
        {link.company_id for link in companies.items},
    )


def test_the_overview_shows_each_part_as_the_callers_lists_do(channel: grpc.Channel) -> None:
    marker = secrets.token_hex(4)
    contacts = contacts_pb2_grpc.ContactsServiceStub(channel)
    contact = contacts.CreateContact(
        contacts_pb2.CreateContactRequest(first_name="Ada", last_name=marker, email=f"{marker}@example.com"),
        metadata=REP_A,
        timeout=10,
    )
    fresh = _overview(channel, REP_A, contact.id)
    assert fresh.contact == contacts.GetContact(contacts_pb2.GetContactRequest(id=contact.id), metadata=REP_A)
    assert (fresh.counts.interactions, fresh.counts.timeline_entries, fresh.counts.companies) == (0, 0, 0)
    assert not fresh.counts.HasField("last_interaction_at") and not fresh.timeline and not fresh.companies
    assert {s.status for s in fresh.consents} == {consent_pb2.CONSENT_STATUS_UNKNOWN}
    assert len(fresh.consents) == 8  # every channel x purpose

    mine = _company(channel, REP_A, f"Mine {marker}", contact.id)
    _company(channel, REP_B, f"Theirs {marker}", contact.id)  # team-b's: rep A may not read it
    consent_pb2_grpc.ConsentServiceStub(channel).RecordConsent(
        consent_pb2.RecordConsentRequest(
            contact_id=contact.id,
            channel=consent_pb2.CONSENT_CHANNEL_EMAIL,
            purpose=consent_pb2.CONSENT_PURPOSE_MARKETING,
            status=consent_pb2.CONSENT_STATUS_GRANTED,
            source="web_form",
        ),
        metadata=REP_A,
        timeout=10,
    )
    _interaction(channel, REP_A, contact.id, "first")
    _interaction(channel, REP_A, contact.id, "second")
    _interaction(channel, ADMIN, contact.id, "team-b's", owner_id="rep-b", team_id="team-b")

    for md, interactions, companies in ((REP_A, 2, 1), (ADMIN, 3, 2)):
        seen = _overview(channel, md, contact.id)
        listed_interactions, timeline_ids, company_ids = _lists(channel, md, contact.id)
        assert seen.counts.interactions == listed_interactions == interactions
        assert seen.counts.timeline_entries == len(timeline_ids) == interactions
        assert [e.id for e in seen.timeline] == timeline_ids[:5]
        assert seen.counts.companies == len(company_ids) == companies
        assert {link.company_id for link in seen.companies} == company_ids
        assert seen.counts.HasField("last_interaction_at")
    as_rep = _overview(channel, REP_A, contact.id, limit=1)
    assert [e.id for e in as_rep.timeline] == _lists(channel, REP_A, contact.id)[1][:1]
    (link,) = as_rep.companies
    assert (link.company_id, link.company_name, link.title) == (mine.id, f"Mine {marker}", "Buyer")
    assert link.role == companies_pb2.COMPANY_PERSON_ROLE_DECISION_MAKER
    granted = [s for s in as_rep.consents if s.status == consent_pb2.CONSENT_STATUS_GRANTED]
    assert [(s.channel, s.purpose, s.source) for s in granted] == [
        (consent_pb2.CONSENT_CHANNEL_EMAIL, consent_pb2.CONSENT_PURPOSE_MARKETING, "web_form")
    ]


def test_a_contact_the_caller_may_not_read_is_not_found(channel: grpc.Channel) -> None:
    marker = secrets.token_hex(4)
    contact = contacts_pb2_grpc.ContactsServiceStub(channel).CreateContact(
        contacts_pb2.CreateContactRequest(first_name="Ada", last_name=marker, email=f"{marker}@example.com"),
        metadata=REP_A,
        timeout=10,
    )
    for md in (REP_B, PARTNER):
        assert _code(lambda md=md: _overview(channel, md, contact.id)) is grpc.StatusCode.NOT_FOUND
    assert _code(lambda: _overview(channel, ADMIN, "no-such-contact")) is grpc.StatusCode.NOT_FOUND
    assert _code(lambda: _overview(channel, ADMIN, contact.id, limit=21)) is grpc.StatusCode.INVALID_ARGUMENT
    assert _code(lambda: _overview(channel, ADMIN, "")) is grpc.StatusCode.INVALID_ARGUMENT

"""Converting a lead against a real contacts gRPC server (its own database, of the same kind): the
contact and company are created through contacts as the converting user, or linked when contacts already
has them (deduplicated by email, domain or name), a deal is made on request, and converting again answers
the same ids without creating anything."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from crm.common.v1 import money_pb2
from crm.contacts.v1 import companies_pb2, companies_pb2_grpc, contacts_pb2, contacts_pb2_grpc
from crm.sales.v1 import deals_pb2, leads_pb2
from crm_platform.testing.callers import caller_metadata

REP = caller_metadata("rep-1", "sales_rep", team_ids=("team-a",))


def _convert(sales: Any, lead_id: str, **fields: Any) -> leads_pb2.ConvertLeadResponse:
    return sales.leads.ConvertLead(leads_pb2.ConvertLeadRequest(id=lead_id, **fields), metadata=REP)


def test_convert_links_the_existing_contact_creates_the_company_and_a_deal_and_is_idempotent(
    contacts_channel: grpc.Channel, sales: Any
) -> None:
    contacts = contacts_pb2_grpc.ContactsServiceStub(contacts_channel)
    companies = companies_pb2_grpc.CompaniesServiceStub(contacts_channel)
    existing = contacts.CreateContact(
        contacts_pb2.CreateContactRequest(first_name="Ada", last_name="Lovelace", email="ada@example.com"),
        metadata=REP,
    )
    lead = sales.leads.CreateLead(
        leads_pb2.CreateLeadRequest(
            first_name="Ada",
            last_name="Lovelace",
            email="ADA@example.com",
            company="Analytical Engines",
            company_domain="analytical-engines.com",
            title="Countess",
        ),
        metadata=REP,
    )
    amount = money_pb2.Money(amount_minor=250000, currency="EUR")
    first = _convert(sales, lead.id, create_deal=True, deal_amount=amount)
    assert first.contact_id == existing.id  # linked, not duplicated
    company = companies.GetCompany(companies_pb2.GetCompanyRequest(id=first.company_id), metadata=REP)
    assert (company.name, company.domain, company.owner_id) == (
        "Analytical Engines",
        "analytical-engines.com",
        "rep-1",
    )
    people = companies.ListCompanyPeople(
        companies_pb2.ListCompanyPeopleRequest(company_id=company.id), metadata=REP
    ).items
    assert [(p.contact_id, p.title) for p in people] == [(existing.id, "Countess")]
    deal = sales.deals.GetDeal(deals_pb2.GetDealRequest(id=first.deal_id), metadata=REP)
    assert (deal.contact_id, deal.company_id, deal.lead_id, deal.title) == (
        existing.id,
        company.id,
        lead.id,
        "Analytical Engines",
    )
    assert deal.amount == amount and deal.owner_id == "rep-1"

    again = _convert(sales, lead.id, create_deal=True)
    assert again == first
    converted = sales.leads.GetLead(leads_pb2.GetLeadRequest(id=lead.id), metadata=REP)
    assert converted.status == leads_pb2.LEAD_STATUS_CONVERTED
    assert (converted.converted_contact_id, converted.converted_deal_id) == (existing.id, first.deal_id)
    assert len(sales.outbox("deal_created")) == 1
    [event] = sales.outbox("lead_converted")
    assert (event["contact_id"], event["company_id"], event["deal_id"], event["actor_id"]) == (
        existing.id,
        company.id,
        first.deal_id,
        "rep-1",
    )
    listed = contacts.ListContacts(
        contacts_pb2.ListContactsRequest(filter='email = "ada@example.com"'), metadata=REP
    )
    assert [c.id for c in listed.items] == [existing.id]

    # A second lead of the same organisation (found by domain) and a new person: a new contact, the
    # same company, no deal.
    colleague = sales.leads.CreateLead(
        leads_pb2.CreateLeadRequest(
            first_name="Charles",
            last_name="Babbage",
            email="charles@example.com",
            company="Analytical Engines Ltd",
            company_domain="analytical-engines.com",
        ),
        metadata=REP,
    )
    second = _convert(sales, colleague.id)
    assert second.company_id == company.id and second.deal_id == ""
    assert second.contact_id not in ("", existing.id)


def test_a_lead_that_cannot_become_a_contact_is_refused_before_anything_is_created(
    contacts_channel: grpc.Channel, sales: Any
) -> None:
    lead = sales.leads.CreateLead(leads_pb2.CreateLeadRequest(last_name="Nameless"), metadata=REP)
    with pytest.raises(grpc.RpcError) as refused:
        _convert(sales, lead.id, create_deal=True)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "first_name, email" in refused.value.details()
    assert sales.outbox("deal_created") == []
    other = caller_metadata("rep-2", "sales_rep", team_ids=("team-b",))
    with pytest.raises(grpc.RpcError) as out_of_scope:
        sales.leads.ConvertLead(leads_pb2.ConvertLeadRequest(id=lead.id), metadata=other)
    assert out_of_scope.value.code() == grpc.StatusCode.NOT_FOUND

    # A marketer may convert their lead into a contact but has no right to create deals: asking for one
    # is refused before contacts is called.
    marketer = caller_metadata("mkt-1", "marketer", team_ids=("team-m",))
    theirs = sales.leads.CreateLead(
        leads_pb2.CreateLeadRequest(first_name="Grace", last_name="Hopper", email="grace@example.com"),
        metadata=marketer,
    )
    with pytest.raises(grpc.RpcError) as no_deals:
        sales.leads.ConvertLead(
            leads_pb2.ConvertLeadRequest(id=theirs.id, create_deal=True), metadata=marketer
        )
    assert no_deals.value.code() == grpc.StatusCode.PERMISSION_DENIED
    contacts = contacts_pb2_grpc.ContactsServiceStub(contacts_channel)
    by_email = contacts_pb2.ListContactsRequest(filter='email = "grace@example.com"')
    admin = caller_metadata("admin-1", "admin")
    assert contacts.ListContacts(by_email, metadata=admin).items == []
    converted = sales.leads.ConvertLead(leads_pb2.ConvertLeadRequest(id=theirs.id), metadata=marketer)
    assert converted.contact_id and converted.deal_id == ""
    assert [c.id for c in contacts.ListContacts(by_email, metadata=admin).items] == [converted.contact_id]

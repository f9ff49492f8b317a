"""Partner deal registrations through the real sales server and a real contacts server (each on its own
database, SQLite then PostgreSQL): the company is found or created in the partner's book by contacts'
dedupe, staff approve or reject, an approval protects the company against other partners' registrations
and approvals (also when they race), a deal is created or linked for joint work, and the registration
follows company merges."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from sqlalchemy import select, update

from crm.common.v1 import history_pb2, money_pb2
from crm.contacts.v1 import companies_pb2, companies_pb2_grpc, contacts_pb2, contacts_pb2_grpc
from crm.sales.v1 import deals_pb2, registrations_pb2, registrations_pb2_grpc
from crm_platform.db import transaction
from crm_platform.errors import details_from
from crm_platform.events.wire import Event
from crm_platform.testing.callers import caller_metadata
from sales.main import DEFINITION
from sales.registrations.store import DealRegistration, Protection
from sales.store import messaging

ADMIN = caller_metadata("admin-1", "admin", team_ids=("team-a",))
MANAGER_B = caller_metadata("manager-b", "manager", team_ids=("team-b",))
P1 = caller_metadata("user-of-P1", "partner", partner_account_id="P1")
P2 = caller_metadata("user-of-P2", "partner", partner_account_id="P2")
APPROVED = registrations_pb2.DEAL_REGISTRATION_STATUS_APPROVED
REJECTED = registrations_pb2.DEAL_REGISTRATION_STATUS_REJECTED
SUBMITTED = registrations_pb2.DEAL_REGISTRATION_STATUS_SUBMITTED


def _stub(sales: Any) -> registrations_pb2_grpc.DealRegistrationsServiceStub:
    return registrations_pb2_grpc.DealRegistrationsServiceStub(sales.channel)


def _register(sales: Any, who: Any, **fields: Any) -> registrations_pb2.DealRegistration:
    fields.setdefault("title", "Acme: 200 seats")
    request = registrations_pb2.CreateDealRegistrationRequest(**fields)
    return _stub(sales).CreateDealRegistration(request, metadata=who, timeout=10)


def _approve(sales: Any, who: Any, registration_id: str, **fields: Any) -> registrations_pb2.DealRegistration:
    request = registrations_pb2.ApproveDealRegistrationRequest(id=registration_id, **fields)
    return _stub(sales).ApproveDealRegistration(request, metadata=who, timeout=10)


def _refusal(error: grpc.RpcError) -> tuple[grpc.StatusCode, str]:
    return error.code(), details_from(error).reason  # type: ignore[attr-defined]


def _events(sales: Any, event_type: str) -> list[dict[str, Any]]:
    outbox = messaging.outbox
    with sales.runtime.engine.connect() as conn:
        rows = conn.execute(select(outbox).where(outbox.c.routing_key == event_type)).all()
    return [json.loads(row.payload) for row in rows]


def test_register_approve_with_a_deal_and_another_partner_is_refused(
    contacts_channel: grpc.Channel, sales: Any
) -> None:
    people = contacts_pb2_grpc.ContactsServiceStub(contacts_channel)
    companies = companies_pb2_grpc.CompaniesServiceStub(contacts_channel)
    ada = people.CreateContact(
        contacts_pb2.CreateContactRequest(first_name="Ada", last_name="Byron", email="ada@acme.com"),
        metadata=P1,
    )
    amount = money_pb2.Money(amount_minor=1_500_000, currency="EUR")
    mine = _register(
        sales,
        P1,
        company_name="Acme",
        company_domain="WWW.Acme.COM.",
        contact_id=ada.id,
        expected_amount=amount,
        expected_close_date="2027-03-31",
        notes="met at the fair",
    )
    # The company is contacts': created in P1's book, its domain as contacts keeps it.
    company = companies.GetCompany(companies_pb2.GetCompanyRequest(id=mine.company_id), metadata=P1)
    assert (company.name, company.domain, company.partner_account_id) == ("Acme", "acme.com", "P1")
    assert (mine.company_domain, mine.status, mine.partner_account_id, mine.owner_id) == (
        "acme.com",
        SUBMITTED,
        "P1",
        "user-of-P1",
    )
    # A second registration of P1 finds the same company (contacts' dedupe: one domain per book).
    again = _register(sales, P1, title="Acme: services", company_name="ACME Ltd", company_domain="acme.com")
    assert again.company_id == mine.company_id and again.company_name == "Acme"
    # Pending registrations hold nothing: P2 may register the same company (its own book's record).
    theirs = _register(sales, P2, company_name="Acme Corp", company_domain="acme.com")
    assert theirs.company_id != mine.company_id and theirs.company_domain == "acme.com"

    with pytest.raises(grpc.RpcError) as partner_review:
        _approve(sales, P1, mine.id)
    assert partner_review.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as stale:
        _approve(sales, ADMIN, mine.id, etag='"stale"')
    assert stale.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    approved = _approve(sales, ADMIN, mine.id, reason="first to register", create_deal=True, etag=mine.etag)
    assert (approved.status, approved.reviewed_by, approved.decision_reason) == (
        APPROVED,
        "admin-1",
        "first to register",
    )
    until = approved.protected_until.ToDatetime(UTC)
    assert abs(until - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=5)
    assert _approve(sales, ADMIN, mine.id) == approved  # the same decision again: as it is

    # The deal is staff's, with P1's account: both sides read it, the other partner does not.
    deals = sales.deals
    deal = deals.GetDeal(deals_pb2.GetDealRequest(id=approved.deal_id), metadata=P1)
    assert (deal.owner_id, deal.team_id, deal.partner_account_id, deal.company_id, deal.contact_id) == (
        "admin-1",
        "team-a",
        "P1",
        mine.company_id,
        ada.id,
    )
    assert (deal.title, deal.amount, deal.expected_close_date) == ("Acme: 200 seats", amount, "2027-03-31")
    with pytest.raises(grpc.RpcError) as hidden_deal:
        deals.GetDeal(deals_pb2.GetDealRequest(id=deal.id), metadata=P2)
    assert hidden_deal.value.code() == grpc.StatusCode.NOT_FOUND

    # While P1 holds acme.com, P2 can neither register it nor have its earlier registration approved.
    with pytest.raises(grpc.RpcError) as conflict:
        _register(sales, P2, company_name="Acme", company_domain="www.acme.com")
    assert _refusal(conflict.value) == (grpc.StatusCode.FAILED_PRECONDITION, "REGISTRATION_CONFLICT")
    assert "P1" not in conflict.value.details() and mine.id not in conflict.value.details()
    with pytest.raises(grpc.RpcError) as late:
        _approve(sales, ADMIN, theirs.id)
    assert _refusal(late.value) == (grpc.StatusCode.FAILED_PRECONDITION, "REGISTRATION_CONFLICT")
    # P1's own second registration is no conflict: approving it renews P1's protection.
    assert _approve(sales, ADMIN, again.id).status == APPROVED

    rejected = _stub(sales).RejectDealRegistration(
        registrations_pb2.RejectDealRegistrationRequest(id=theirs.id, reason="registered by another partner"),
        metadata=ADMIN,
    )
    assert (rejected.status, rejected.decision_reason) == (REJECTED, "registered by another partner")
    with pytest.raises(grpc.RpcError) as undo:
        _approve(sales, ADMIN, theirs.id)
    assert undo.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    # Each partner reads only its own account's registrations.
    listed = _stub(sales).ListDealRegistrations(registrations_pb2.ListDealRegistrationsRequest(), metadata=P2)
    assert [r.id for r in listed.items] == [theirs.id]
    with pytest.raises(grpc.RpcError) as hidden:
        _stub(sales).GetDealRegistration(
            registrations_pb2.GetDealRegistrationRequest(id=mine.id), metadata=P2
        )
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
    everyone = _stub(sales).ListDealRegistrations(
        registrations_pb2.ListDealRegistrationsRequest(filter='company_domain = "acme.com"'), metadata=ADMIN
    )
    assert {r.id for r in everyone.items} == {mine.id, again.id, theirs.id}

    history = _stub(sales).ListDealRegistrationHistory(
        registrations_pb2.ListDealRegistrationHistoryRequest(id=mine.id), metadata=P1
    )
    assert [e.action for e in history.items] == [
        history_pb2.CHANGE_ACTION_UPDATED,
        history_pb2.CHANGE_ACTION_CREATED,
    ]
    assert {c.field for c in history.items[0].changes} >= {"status", "protected_until", "deal_id"}

    [submitted, *_] = _events(sales, "deal_registration_submitted")
    assert (submitted["registration_id"], submitted["contact_id"], submitted["actor_id"]) == (
        mine.id,
        ada.id,
        "user-of-P1",
    )
    approvals = {e["registration_id"]: e for e in _events(sales, "deal_registration_approved")}
    assert approvals[mine.id]["actor_id"] == "admin-1" and approvals[mine.id]["deal_id"] == deal.id
    assert {"status", "protected_until", "deal_id"} <= set(approvals[mine.id]["changed_fields"])
    [rejection] = _events(sales, "deal_registration_rejected")
    assert (rejection["registration_id"], rejection["reason"]) == (theirs.id, "registered by another partner")
    assert [e["deal_id"] for e in _events(sales, "deal_created")] == [deal.id]


def test_protection_runs_out_and_an_existing_deal_is_linked(
    contacts_channel: grpc.Channel, sales: Any
) -> None:
    first = _register(sales, P1, company_name="Globex", company_domain="globex.com")
    _approve(sales, ADMIN, first.id)
    with transaction(sales.runtime.sessions) as session:  # 90 days later
        past = datetime.now(UTC) - timedelta(seconds=1)
        session.execute(update(Protection).values(protected_until=past))
    second = _register(sales, P2, company_name="Globex", company_domain="globex.com")
    deal = sales.deals.CreateDeal(deals_pb2.CreateDealRequest(title="Globex renewal"), metadata=ADMIN)
    approved = _approve(sales, ADMIN, second.id, deal_id=deal.id)
    assert approved.status == APPROVED and approved.deal_id == deal.id
    linked = sales.deals.GetDeal(deals_pb2.GetDealRequest(id=deal.id), metadata=P2)
    assert linked.partner_account_id == "P2"
    [updated] = _events(sales, "deal_updated")
    assert updated["changed_fields"] == ["partner_account_id"] and updated["actor_id"] == "admin-1"
    # A manager of another team may not review what it cannot update (out of scope: not found).
    third = _register(sales, P2, company_name="Globex", company_domain="globex.com")
    with pytest.raises(grpc.RpcError) as refused:
        _approve(sales, MANAGER_B, third.id)
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND


def test_how_a_registration_names_its_company(contacts_channel: grpc.Channel, sales: Any) -> None:
    companies = companies_pb2_grpc.CompaniesServiceStub(contacts_channel)
    nameless = companies.CreateCompany(companies_pb2.CreateCompanyRequest(name="No Domain"), metadata=P1)
    others = companies.CreateCompany(
        companies_pb2.CreateCompanyRequest(name="Initech", domain="initech.com"), metadata=P2
    )
    held = companies.CreateCompany(
        companies_pb2.CreateCompanyRequest(name="Hooli", domain="hooli.com"), metadata=P1
    )
    cases = [
        ({"company_name": "Nowhere"}, "company_domain"),
        ({"company_domain": "nowhere.com"}, "company_name"),
        ({"company_id": held.id, "company_domain": "hooli.com"}, "company_id"),
        ({"company_id": nameless.id}, "company_id"),  # no domain: nothing to recognise it by
        ({"company_id": others.id}, "company_id"),  # another partner's book: not P1's to read
    ]
    for fields, field in cases:
        with pytest.raises(grpc.RpcError) as refused:
            _register(sales, P1, **fields)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, fields
        assert field in refused.value.details() or any(
            name == field for name, _ in details_from(refused.value).field_violations
        ), (fields, refused.value.details())
    by_id = _register(sales, P1, company_id=held.id)
    assert (by_id.company_name, by_id.company_domain) == ("Hooli", "hooli.com")
    # Staff registering for a partner: the company goes to that partner's book.
    for_p2 = _register(
        sales, ADMIN, company_name="Umbrella", company_domain="umbrella.com", partner_account_id="P2"
    )
    assert (
        companies.GetCompany(
            companies_pb2.GetCompanyRequest(id=for_p2.company_id), metadata=P2
        ).partner_account_id
        == "P2"
    )
    # A registration without a partner account protects nobody: it cannot be approved.
    house = _register(sales, ADMIN, company_name="House", company_domain="house.com")
    with pytest.raises(grpc.RpcError) as nobody:
        _approve(sales, ADMIN, house.id)
    assert nobody.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_registrations_follow_company_merges(contacts_channel: grpc.Channel, sales: Any) -> None:
    mine = _register(sales, P1, company_name="Stark", company_domain="stark.com")
    [handler] = [
        s.handler
        for s in DEFINITION.subscriptions
        if (s.source_service, s.event_type) == ("contacts", "company_merged")
    ]
    data = {"company_id": mine.company_id, "survivor_id": "co-survivor", "merged_ids": [mine.company_id]}
    with transaction(sales.runtime.sessions) as session:
        handler(session, Event("ev-merge", "company_merged", "contacts", datetime.now(UTC), 1, data))
    with transaction(sales.runtime.sessions) as session:
        assert session.get(DealRegistration, mine.id).company_id == "co-survivor"  # type: ignore[union-attr]


def test_concurrent_approvals_of_one_company_for_two_partners_let_exactly_one_win(
    contacts_channel: grpc.Channel, sales: Any
) -> None:
    """Per company one registration of each partner, all approved at once: per company exactly one
    approval passes and the other is refused as a conflict, on both databases. Twice: first racing to
    make the company's protection row, then (once those protections ran out) to lock the existing one."""
    domains = [f"race{n}.example.com" for n in range(6)]

    def approve(registration: registrations_pb2.DealRegistration) -> str:
        try:
            return registrations_pb2.DealRegistrationStatus.Name(
                _approve(sales, ADMIN, registration.id).status
            )
        except grpc.RpcError as error:
            code, reason = _refusal(error)
            return reason or code.name

    for _round in range(2):
        pairs = [
            (
                _register(sales, P1, company_name=d, company_domain=d),
                _register(sales, P2, company_name=d, company_domain=d),
            )
            for d in domains
        ]
        with ThreadPoolExecutor(max_workers=12) as pool:
            outcomes = list(pool.map(approve, [r for pair in pairs for r in pair]))
        for n, domain in enumerate(domains):
            pair = sorted(outcomes[2 * n : 2 * n + 2])
            assert pair == ["DEAL_REGISTRATION_STATUS_APPROVED", "REGISTRATION_CONFLICT"], (domain, pair)
        winners = {
            pair[outcomes[2 * n : 2 * n + 2].index("DEAL_REGISTRATION_STATUS_APPROVED")].id
            for n, pair in enumerate(pairs)
        }
        with transaction(sales.runtime.sessions) as session:
            held = {p.company_domain: p.registration_id for p in session.scalars(select(Protection))}
            assert set(held.values()) == winners and set(held) == set(domains)
            session.execute(
                update(Protection).values(protected_until=datetime.now(UTC) - timedelta(seconds=1))
            )

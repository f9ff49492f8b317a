"""DealRegistrationsService: registering a customer for a partner account (its company found or created
through the contacts service), reading and listing registrations in the caller's scope, and the review
(`:approve`, `:reject`: update rights on the registration, each with its history entry and event).

Ownership: the caller and their primary team unless the request names others (checked against the
caller's `deal_registration` create level); a partner user's registrations always belong to their own
account.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import grpc
from sqlalchemy.orm import Session

from crm.common.v1 import history_pb2
from crm.sales.v1 import deals_pb2, registrations_pb2, registrations_pb2_grpc
from crm_platform.access import CallerContext, Ownership, assign_ownership
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import utcnow
from crm_platform.errors import FailedPrecondition, InvalidArgument
from crm_platform.resources import (
    Action,
    Change,
    FieldChange,
    ResourceEvents,
    StandardMethods,
    actor_of,
    check_etag,
    compare_and_set,
    idempotent_write,
    record_change,
)
from crm_platform.resources.history import jsonable
from crm_platform.resources.methods import ownership_for_create
from crm_platform.service import Runtime, ServiceDefinition
from sales.deals import store as deal_store
from sales.deals import writes as deal_writes
from sales.deals.api import amount_of
from sales.deals.domain import Amount, check_close_date
from sales.leads.contacts_link import ContactsLink, forwarded_caller
from sales.registrations import customer, domain, events, store
from sales.registrations.domain import APPROVED, REJECTED, SUBMITTED
from sales.registrations.store import DealRegistration, registrations

Message = registrations_pb2.DealRegistration


def _write_review(
    session: Session, row: DealRegistration, values: dict[str, Any], actor_id: str, now: datetime
) -> Change[DealRegistration]:
    """Compare-and-set the reviewed columns and record their history (old -> new)."""
    changes = [
        FieldChange(name, jsonable(getattr(row, name)), jsonable(value))
        for name, value in values.items()
        if getattr(row, name) != value
    ]
    version = compare_and_set(session, DealRegistration, row.id, row.version, {**values, "updated_at": now})
    record_change(
        session, registrations.resource_type, row.id, Action.UPDATED, actor_id, changes, occurred_at=now
    )
    session.refresh(row)
    return Change(row, actor_id, version, changes)


def _deal_for(
    session: Session,
    row: DealRegistration,
    request: registrations_pb2.ApproveDealRegistrationRequest,
    caller: CallerContext | None,
    actor_id: str,
) -> str | None:
    """The deal the approval creates or links, with the registration's partner account (None: neither
    asked). A created deal is owned by staff (the approver unless named), within their deal create rights;
    a linked one must be the approver's to update and not another partner account's."""
    partner = row.partner_account_id
    if request.create_deal and request.deal_id:
        raise InvalidArgument("invalid approval", {"deal_id": "create a deal or link one, not both"})
    if request.create_deal:
        asked = {"owner_id": request.deal_owner_id or None, "team_id": request.deal_team_id or None}
        ownership = (
            assign_ownership(caller, "deal", "create", partner_account_id=partner, **asked)
            if caller is not None
            else Ownership(asked["owner_id"], asked["team_id"], partner)
        )
        new = deal_writes.NewDeal(
            title=row.title,
            amount=Amount(row.expected_amount_minor or 0, row.currency) if row.currency else None,
            expected_close_date=row.expected_close_date or "",
            contact_id=row.contact_id or "",
            company_id=row.company_id,
            description=row.notes or "",
        )
        change = deal_writes.add_deal(session, new, actor_id, ownership)
        deal_writes.announce_created(session, change)
        return change.row.id
    if not request.deal_id:
        return None
    deal = deal_store.deals.get(session, request.deal_id, for_update=True, caller=caller, action="update")
    if deal.partner_account_id not in (None, partner):
        raise FailedPrecondition(f"deal {deal.id} belongs to another partner account")
    if deal.partner_account_id is None:
        change = deal_store.deals.update(
            session,
            deal.id,
            deals_pb2.Deal(id=deal.id, partner_account_id=partner),
            ["partner_account_id"],
            etag="",
            actor_id=actor_id,
            caller=caller,
        )
        deal_writes.announce_updated(session, change)
    return deal.id


class DealRegistrationsServicer(registrations_pb2_grpc.DealRegistrationsServiceServicer):
    def __init__(self, runtime: Runtime, contacts: ContactsLink | None = None) -> None:
        self.sessions = runtime.sessions
        self.contacts = contacts or ContactsLink()
        self.methods = StandardMethods(
            runtime.sessions,
            registrations,
            Message,
            list_spec=store.LIST_SPEC,
            listed=store.listed,
            events=ResourceEvents(created=events.record_submitted),
        )

    def CreateDealRegistration(
        self, request: registrations_pb2.CreateDealRegistrationRequest, context: grpc.ServicerContext
    ) -> Message:
        asked = domain.check_company(request.company_id, request.company_name, request.company_domain)
        amount = amount_of(request, "expected_amount")
        close_date = check_close_date(request.expected_close_date)
        # The rights first (no company is made for a request refused anyway), then the customer in
        # contacts, outside the write transaction: a remote call never holds this database's writers.
        ownership = ownership_for_create(registrations, request) or Ownership(
            request.owner_id or None, request.team_id or None, request.partner_account_id or None
        )
        metadata = forwarded_caller(context)
        found = customer.resolve(self.contacts, asked, request.contact_id, ownership, metadata)

        def add(session: Session, actor_id: str, given: Ownership | None) -> Change[Any]:
            mine = given or ownership
            now = utcnow()
            if mine.partner_account_id:  # a registration of no partner protects, and conflicts with, nobody
                held = store.protection(session, found.company_domain)
                domain.refuse_if_held(found.company_domain, held, mine.partner_account_id, now)
            row = DealRegistration(
                id=str(uuid.uuid4()),
                title=request.title.strip(),
                company_id=found.company_id,
                company_name=found.company_name,
                company_domain=found.company_domain,
                contact_id=found.contact_id or None,
                expected_amount_minor=amount.amount_minor if amount else None,
                currency=amount.currency if amount else None,
                expected_close_date=close_date or None,
                notes=request.notes or None,
                status=SUBMITTED,
                owner_id=mine.owner_id,
                team_id=mine.team_id,
                partner_account_id=mine.partner_account_id,
                created_at=now,
                updated_at=now,
            )
            return registrations.create(session, row, actor_id)

        return self.methods.create(context, request, add=add)

    def GetDealRegistration(
        self, request: registrations_pb2.GetDealRegistrationRequest, context: grpc.ServicerContext
    ) -> Message:
        return self.methods.get(request.id)

    def ListDealRegistrations(
        self, request: registrations_pb2.ListDealRegistrationsRequest, context: grpc.ServicerContext
    ) -> registrations_pb2.ListDealRegistrationsResponse:
        return registrations_pb2.ListDealRegistrationsResponse(**self.methods.list(request))

    def ListDealRegistrationHistory(
        self, request: registrations_pb2.ListDealRegistrationHistoryRequest, context: grpc.ServicerContext
    ) -> history_pb2.ListHistoryResponse:
        return self.methods.history(
            history_pb2.ListHistoryRequest(id=request.id, limit=request.limit, cursor=request.cursor)
        )

    def ApproveDealRegistration(
        self, request: registrations_pb2.ApproveDealRegistrationRequest, context: grpc.ServicerContext
    ) -> Message:
        def approve(
            session: Session, row: DealRegistration, caller: CallerContext | None, actor: str, now: datetime
        ) -> dict[str, Any]:
            partner = domain.require_partner(row.id, row.partner_account_id)
            # Every approval of this company waits here for the one before it, and then sees it.
            held = store.lock_protection(session, row.company_domain)
            domain.refuse_if_held(row.company_domain, held, partner, now)
            until = domain.protected_until(now, domain.PROTECTION_DAYS.get())
            held.registration_id, held.partner_account_id, held.protected_until = row.id, partner, until
            return {
                "decision_reason": request.reason.strip() or None,
                "protected_until": until,
                "deal_id": _deal_for(session, row, request, caller, actor),
            }

        return self._review(context, request, APPROVED, approve)

    def RejectDealRegistration(
        self, request: registrations_pb2.RejectDealRegistrationRequest, context: grpc.ServicerContext
    ) -> Message:
        return self._review(
            context, request, REJECTED, lambda *_: {"decision_reason": request.reason.strip()}
        )

    def _review(
        self,
        context: grpc.ServicerContext,
        request: Any,
        target: str,
        decide: Callable[[Session, DealRegistration, CallerContext | None, str, datetime], dict[str, Any]],
    ) -> Message:
        """A review of one registration: locked, in the caller's update scope (404 out of it, 403 without
        the right), idempotent. The same decision again answers it as it is; otherwise `decide` gives
        the columns the decision sets beside its status and reviewer, in the same transaction."""
        caller = current_caller_or_none()
        with idempotent_write(self.sessions, context, request, Message) as write:
            if write.replay is not None:
                return write.replay
            session = write.session
            row = registrations.get(session, request.id, for_update=True, caller=caller, action="update")
            if domain.check_review(row.id, row.status, target):
                check_etag(row.id, row.version, request.etag)
                actor, now = actor_of(context), utcnow()
                values = {"status": target, "reviewed_by": actor or None, "reviewed_at": now}
                change = _write_review(
                    session, row, {**values, **decide(session, row, caller, actor, now)}, actor, now
                )
                events.record_reviewed(session, change)
            return write.respond(store.to_message(row))


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    registrations_pb2_grpc.add_DealRegistrationsServiceServicer_to_server(
        DealRegistrationsServicer(runtime), server
    )
    return [registrations_pb2.DESCRIPTOR.services_by_name["DealRegistrationsService"].full_name]


def install(definition: ServiceDefinition) -> ServiceDefinition:
    """Serve deal registrations from `definition`'s process too."""
    return definition.include(register)

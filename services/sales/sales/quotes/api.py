"""QuotesService: drafting and changing quotes (priced by the catalogue), reading and listing them in the
caller's scope, the status flow (custom methods, each with its history entry and event), the approval of
discounts over the author's allowance, and the PDF.

Ownership: the author and their primary team unless the request names others (checked against the
caller's `quote` create level). A quote for a partner account is priced from the list of its terms.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import grpc
from google.api import httpbody_pb2
from sqlalchemy.orm import Session

from crm.common.v1 import history_pb2
from crm.sales.v1 import quotes_pb2, quotes_pb2_grpc
from crm_platform import protojson
from crm_platform.access import CallerContext, Ownership
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading_connection, utcnow
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
    merge_update,
    record_change,
)
from crm_platform.resources.history import jsonable
from crm_platform.service import Runtime, ServiceDefinition
from sales import approvals
from sales.catalog.pricing import PriceResolver, partner_price_list
from sales.deals.store import deals
from sales.links import linked_record
from sales.money import BASIS_POINTS, money
from sales.quotes import acceptance, domain, events, expiry, parties, pdf, store
from sales.quotes.domain import ACCEPTED, DRAFT, REJECTED, SENT
from sales.quotes.store import APPROVAL_COLUMNS, Quote, approval_of, quotes


def _today() -> date:
    return utcnow().astimezone(UTC).date()


def _allowed(caller: CallerContext | None) -> int:
    """The largest line discount `caller` may give without approval (trusted internal code: any)."""
    if caller is None:
        return BASIS_POINTS
    return domain.allowance(caller.roles, domain.DISCOUNT_ALLOWANCES.get())


def _approval_values(caller: CallerContext | None, max_discount_bp: int, now: datetime) -> dict[str, Any]:
    """A quote's approval columns after its lines were (re)written by `caller`, its author."""
    allowed = _allowed(caller)
    pending = domain.approval_needed(max_discount_bp, allowed) == domain.PENDING
    return {
        **approvals.requested(pending, caller.subject if caller is not None else None, now),
        "max_discount_bp": max_discount_bp,
        "allowed_discount_bp": allowed,
    }


def _price_list_of(session: Session, partner: str | None, asked: str) -> str:
    """The list a quote is priced from: a partner account's terms' list (naming another is refused),
    else the one asked for."""
    if partner is None:
        if not asked:
            raise InvalidArgument(
                "invalid quote", {"price_list_id": "is required for a quote without a partner account"}
            )
        return asked
    listed = partner_price_list(session, partner)
    if asked and asked != listed:
        raise InvalidArgument(
            "invalid quote", {"price_list_id": "a partner account's quotes use the price list of its terms"}
        )
    return listed


def _priced(session: Session, price_list_id: str, lines: Any) -> domain.PricedQuote:
    resolver = PriceResolver(session, price_list_id, _today())
    return domain.price_quote(lines, resolver.resolve)


def _customer(session: Session, request: quotes_pb2.CreateQuoteRequest) -> tuple[str | None, str | None]:
    """The quote's contact and company: those it names, else its deal's (a quote made from a deal is
    about the deal's customer, so it and its order reach that customer's timeline and 360). The deal
    must be one the caller may read."""
    contact_id, company_id = request.contact_id or None, request.company_id or None
    if request.deal_id:
        deal = linked_record(session, deals, request.deal_id, "deal_id")
        if contact_id is None and company_id is None:
            contact_id, company_id = deal.contact_id, deal.company_id
    return contact_id, company_id


@dataclass
class Step:
    """One move of a quote: the columns it writes, the event announcing it and its reason."""

    values: dict[str, Any]
    event_type: str
    reason: str = ""
    changes: list[FieldChange] = field(default_factory=list)


class QuotesServicer(quotes_pb2_grpc.QuotesServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions
        self.parties = parties.Parties()
        self.methods = StandardMethods(
            runtime.sessions,
            quotes,
            quotes_pb2.Quote,
            list_spec=store.LIST_SPEC,
            listed=store.listed,
            events=ResourceEvents(created=events.record_created, updated=events.record_updated),
        )

    # --- standard methods --------------------------------------------------------------------------

    def CreateQuote(
        self, request: quotes_pb2.CreateQuoteRequest, context: grpc.ServicerContext
    ) -> quotes_pb2.Quote:
        last_day = domain.valid_until(request.valid_until, _today())
        caller = current_caller_or_none()

        def add(session: Session, actor_id: str, ownership: Ownership | None) -> Change[Any]:
            if ownership is None:  # trusted internal code: the request's ownership as given
                ownership = Ownership(
                    request.owner_id or None, request.team_id or None, request.partner_account_id or None
                )
            partner = ownership.partner_account_id
            priced = _priced(session, _price_list_of(session, partner, request.price_list_id), request.lines)
            now = utcnow()
            contact_id, company_id = _customer(session, request)
            quote_id = str(uuid.uuid4())
            row = Quote(
                id=quote_id,
                number="QT-" + quote_id[:8].upper(),
                contact_id=contact_id,
                company_id=company_id,
                deal_id=request.deal_id or None,
                status=DRAFT,
                price_list_id=priced.price_list_id,
                currency=priced.currency,
                lines=[protojson.encode(line) for line in priced.lines],
                subtotal_minor=priced.totals.subtotal,
                discount_minor=priced.totals.discount,
                net_minor=priced.totals.net,
                tax_minor=priced.totals.tax,
                total_minor=priced.totals.grand_total,
                valid_until=last_day.isoformat(),
                notes=request.notes or None,
                owner_id=ownership.owner_id,
                team_id=ownership.team_id,
                partner_account_id=partner,
                **_approval_values(caller, priced.max_discount_bp, now),
            )
            return quotes.create(session, row, actor_id)

        return self.methods.create(context, request, add=add)

    def GetQuote(
        self, request: quotes_pb2.GetQuoteRequest, context: grpc.ServicerContext
    ) -> quotes_pb2.Quote:
        return self.methods.get(request.id)

    def ListQuotes(
        self, request: quotes_pb2.ListQuotesRequest, context: grpc.ServicerContext
    ) -> quotes_pb2.ListQuotesResponse:
        return quotes_pb2.ListQuotesResponse(**self.methods.list(request))

    def ListQuoteHistory(
        self, request: quotes_pb2.ListQuoteHistoryRequest, context: grpc.ServicerContext
    ) -> history_pb2.ListHistoryResponse:
        return self.methods.history(
            history_pb2.ListHistoryRequest(id=request.id, limit=request.limit, cursor=request.cursor)
        )

    def UpdateQuote(
        self, request: quotes_pb2.UpdateQuoteRequest, context: grpc.ServicerContext
    ) -> quotes_pb2.Quote:
        return self.methods.update(context, request, request.quote, apply=self._update)

    def _update(
        self,
        session: Session,
        resource_id: str,
        partial: quotes_pb2.Quote,
        paths: list[str],
        *,
        etag: str,
        actor_id: str,
        prepare: Callable[..., None] | None,
        caller: CallerContext | None,
    ) -> Change[Any]:
        """A draft's fields merged as the repository's update does; new lines, a new list or another
        partner account are priced again, and new lines ask for an approval anew when their discount is
        over the author's allowance (the editor is then the author). One version, one history entry,
        approval included."""
        row = quotes.get(session, resource_id, for_update=True, caller=caller, action="update")
        repriced: list[domain.PricedQuote] = []

        def reprice(merged: quotes_pb2.Quote) -> None:
            if row.status != DRAFT:
                raise FailedPrecondition(f"quote {row.id} is {row.status}: only a draft can be changed")
            domain.valid_until(merged.valid_until, min(_today(), date.fromisoformat(row.valid_until)))
            changed = {path.split(".")[0] for path in paths}
            if {"lines", "price_list_id", "partner_account_id"} & changed:
                # Another partner account prices from its own terms' list unless the change names one.
                partner = merged.partner_account_id or None
                asked = merged.price_list_id if partner is None or "price_list_id" in changed else ""
                priced = _priced(session, _price_list_of(session, partner, asked), merged.lines)
                merged.price_list_id, merged.currency = priced.price_list_id, priced.currency
                del merged.lines[:]
                merged.lines.extend(priced.lines)
                totals, currency = priced.totals, priced.currency
                merged.total.CopyFrom(
                    quotes_pb2.QuoteTotals(
                        subtotal=money(totals.subtotal, currency),
                        discount=money(totals.discount, currency),
                        net=money(totals.net, currency),
                        tax=money(totals.tax, currency),
                        grand_total=money(totals.grand_total, currency),
                    )
                )
                repriced.append(priced)

        merged = merge_update(quotes.to_message(row), partial, paths, request_field="quote", prepare=reprice)
        check_etag(resource_id, row.version, etag)
        if not merged.changes:
            return Change(row, actor_id, row.version)
        now = utcnow()
        values = {**store.to_columns(merged.message), "updated_at": now}
        changes = list(merged.changes)
        if repriced and "lines" in merged.changed_fields:
            approval = _approval_values(caller, repriced[0].max_discount_bp, now)
            change = approvals.change(row, APPROVAL_COLUMNS, approval_of, approval)
            if change.old != change.new:
                values.update(approval)
                changes.append(change)
        quotes.check_ownership_change(caller, row, values)
        version = compare_and_set(session, Quote, row.id, row.version, values)
        record_change(
            session, quotes.resource_type, row.id, Action.UPDATED, actor_id, changes, occurred_at=now
        )
        session.refresh(row)
        return Change(row, actor_id, version, changes)

    # --- the status flow and approvals ---------------------------------------------------------------

    def SendQuote(
        self, request: quotes_pb2.SendQuoteRequest, context: grpc.ServicerContext
    ) -> quotes_pb2.Quote:
        def send(session: Session, row: Any, now: datetime, actor_id: str) -> Step | None:
            if row.status == SENT:
                return None
            domain.check_transition(row.id, row.status, SENT)
            domain.check_sendable(row.id, row.approval_state)
            return Step({"status": SENT, "sent_at": now}, events.QUOTE_SENT)

        return self._act(context, request, send)

    def AcceptQuote(
        self, request: quotes_pb2.AcceptQuoteRequest, context: grpc.ServicerContext
    ) -> quotes_pb2.Quote:
        def accept(session: Session, row: Any, now: datetime, actor_id: str) -> Step | None:
            if row.status == ACCEPTED:
                return None
            domain.check_transition(row.id, row.status, ACCEPTED)
            domain.check_not_expired(row.id, row.status, date.fromisoformat(row.valid_until), _today())
            order = acceptance.place_order(session, row, actor_id)
            return Step(
                {"status": ACCEPTED, "decided_at": now, "order_id": order.row.id}, events.QUOTE_ACCEPTED
            )

        return self._act(context, request, accept)

    def RejectQuote(
        self, request: quotes_pb2.RejectQuoteRequest, context: grpc.ServicerContext
    ) -> quotes_pb2.Quote:
        def reject(session: Session, row: Any, now: datetime, actor_id: str) -> Step | None:
            if row.status == REJECTED:
                return None
            domain.check_transition(row.id, row.status, REJECTED)
            values = {"status": REJECTED, "decided_at": now, "reject_reason": request.reason or None}
            return Step(values, events.QUOTE_REJECTED, request.reason)

        return self._act(context, request, reject)

    def ApproveQuote(
        self, request: quotes_pb2.ApproveQuoteRequest, context: grpc.ServicerContext
    ) -> quotes_pb2.Quote:
        return self._decide(context, request, domain.APPROVED)

    def RejectQuoteApproval(
        self, request: quotes_pb2.RejectQuoteApprovalRequest, context: grpc.ServicerContext
    ) -> quotes_pb2.Quote:
        return self._decide(context, request, domain.REFUSED)

    def _decide(self, context: grpc.ServicerContext, request: Any, decision: str) -> quotes_pb2.Quote:
        """An approver's decision on a pending approval, kept in the quote's approval and history."""
        caller = current_caller_or_none()

        def decide(session: Session, row: Any, now: datetime, actor_id: str) -> Step | None:
            if approvals.is_repeat(row, decision, actor_id):
                return None  # the same decision again: answered as it is
            domain.check_approver(
                row.id, row.approval_state, row.approval_requested_by, actor_id, _allowed(caller),
                row.max_discount_bp,
            )  # fmt: skip
            values = approvals.decided(decision, actor_id, now, request.reason)
            change = approvals.change(row, APPROVAL_COLUMNS, approval_of, values)
            return Step(values, events.APPROVAL_DECIDED, request.reason, [change])

        return self._act(context, request, decide)

    def _act(
        self,
        context: grpc.ServicerContext,
        request: Any,
        step: Callable[[Session, Any, datetime, str], Step | None],
    ) -> quotes_pb2.Quote:
        """One move of a quote, needing update rights on it (404 out of scope, 403 beyond the caller's
        level): `step` says what it writes (None: nothing, the quote is already there), recorded with
        its history entry and event in the same transaction."""
        caller = current_caller_or_none()
        with idempotent_write(self.sessions, context, request, quotes_pb2.Quote) as write:
            if write.replay is not None:
                return write.replay
            session = write.session
            row = quotes.get(session, request.id, for_update=True, caller=caller, action="update")
            check_etag(row.id, row.version, request.etag)
            now = utcnow()
            actor = actor_of(context)
            move = step(session, row, now, actor)
            if move is None:
                return write.respond(quotes.to_message(row))
            changes = move.changes or [
                FieldChange(name, jsonable(getattr(row, name)), jsonable(value))
                for name, value in move.values.items()
            ]
            version = compare_and_set(session, Quote, row.id, row.version, {**move.values, "updated_at": now})
            record_change(
                session, quotes.resource_type, row.id, Action.UPDATED, actor, changes, occurred_at=now
            )
            session.refresh(row)
            events.record_quote_event(
                session, move.event_type, Change(row, actor, version, changes), move.reason
            )
            return write.respond(quotes.to_message(row))

    # --- the document --------------------------------------------------------------------------------

    def RenderQuotePdf(
        self, request: quotes_pb2.RenderQuotePdfRequest, context: grpc.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        with reading_connection(self.sessions) as connection:
            row = quotes.read(connection, request.id, caller=current_caller_or_none())
            quote = quotes.to_message(row)
        customer = self.parties.customer(quote, context)
        return httpbody_pb2.HttpBody(content_type=pdf.CONTENT_TYPE, data=pdf.render(quote, customer))


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    quotes_pb2_grpc.add_QuotesServiceServicer_to_server(QuotesServicer(runtime), server)
    return [quotes_pb2.DESCRIPTOR.services_by_name["QuotesService"].full_name]


def install(definition: ServiceDefinition) -> ServiceDefinition:
    """QuotesService, and the worker's sweep of sent quotes past their last day."""
    return definition.include(register, background=(expiry.run_sweeps,))

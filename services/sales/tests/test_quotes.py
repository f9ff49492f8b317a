"""Quotes through the real sales server (SQLite and PostgreSQL): pricing with discounts, the approval of
a discount over the author's allowance, the status flow into an order, expiry, scope, the PDF."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import grpc
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from crm.common.v1 import history_pb2
from crm.contacts.v1 import contacts_pb2, contacts_pb2_grpc
from crm.sales.v1 import deals_pb2, orders_pb2, quotes_pb2, quotes_pb2_grpc
from crm_platform.testing.callers import caller_metadata
from sales.quotes import domain, expiry
from sales.store import messaging

from .commerce import ADMIN, Commerce, partner_user, reason_of

REP = caller_metadata("rep-1", "sales_rep", team_ids=("T1",))
OTHER_REP = caller_metadata("rep-2", "sales_rep", team_ids=("T1",))
ANOTHER_TEAMS_REP = caller_metadata("rep-3", "sales_rep", team_ids=("T2",))
MANAGER = caller_metadata("manager-1", "manager", team_ids=("T1",))
OTHER_MANAGER = caller_metadata("manager-2", "manager", team_ids=("T2",))


class Quoting(Commerce):
    def __init__(self, channel: grpc.Channel) -> None:
        super().__init__(channel)
        self.quotes = quotes_pb2_grpc.QuotesServiceStub(channel)

    def quote(self, metadata: Any, lines: list[tuple[str, int, int]], **fields: Any) -> quotes_pb2.Quote:
        request = quotes_pb2.CreateQuoteRequest(
            lines=[quotes_pb2.QuoteLine(product_id=p, quantity=q, discount_bp=d) for p, q, d in lines],
            **fields,
        )
        return self.quotes.CreateQuote(request, metadata=metadata, timeout=30)

    def act(self, method: str, metadata: Any, quote_id: str, **fields: Any) -> quotes_pb2.Quote:
        request = getattr(quotes_pb2, f"{method}Request")(id=quote_id, **fields)
        return getattr(self.quotes, method)(request, metadata=metadata, timeout=30)


@pytest.fixture
def shop(shared_sales: Any) -> Quoting:
    return Quoting(shared_sales.channel)


def _catalogue(shop: Quoting, accounts: tuple[str, ...] = ()) -> tuple[str, str, str]:
    """Two products (20% and 5.5% tax) on one list (assigned to `accounts`); (widget, book, list)."""
    run = uuid.uuid4().hex[:8]  # skus are unique, and the module's tests share one database
    widget = shop.product(f"W-{run}", tax_rate_bp=2000)
    book = shop.product(f"B-{run}", tax_rate_bp=550)
    listed = shop.price_list(
        [(widget.id, 1999, 1), (widget.id, 1799, 10), (book.id, 1250, 1)], partners=accounts
    )
    return widget.id, book.id, listed.id


def _events(sales: Any, event_type: str, quote_id: str) -> list[dict[str, Any]]:
    outbox = messaging.outbox
    with sales.runtime.engine.connect() as conn:
        rows = conn.execute(select(outbox).where(outbox.c.routing_key == event_type)).all()
    payloads = [json.loads(row.payload) for row in rows]
    return [p for p in payloads if quote_id in (p.get("quote_id"), p.get("order", {}).get("quote_id"))]


def _code(call: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as refused:
        call()
    return refused.value.code(), reason_of(refused.value)


def test_lines_are_priced_with_their_discounts_and_the_quote_accepted_becomes_the_order(
    shop: Quoting, shared_sales: Any
) -> None:
    widget, book, listed = _catalogue(shop)
    quote = shop.quote(ADMIN, [(widget, 12, 1000), (book, 3, 0)], price_list_id=listed, contact_id="c-1")
    assert (quote.status, quote.currency, quote.number[:3]) == (quotes_pb2.QUOTE_STATUS_DRAFT, "EUR", "QT-")
    first = quote.lines[0]
    # 12 x 17.99 (the break at 10) = 215.88; 10% off = 21.588 -> 21.59 (half-even); net 194.29; tax 38.858
    # -> 38.86; the book: 37.50 + 5.5% = 2.0625 -> 2.06.
    assert (first.unit_price.amount_minor, first.subtotal.amount_minor, first.discount.amount_minor) == (
        1799,
        21588,
        2159,
    )
    assert (first.net.amount_minor, first.tax.amount_minor, first.total.amount_minor) == (19429, 3886, 23315)
    total = quote.total
    assert (total.subtotal.amount_minor, total.discount.amount_minor, total.net.amount_minor) == (
        25338,
        2159,
        23179,
    )
    assert (total.tax.amount_minor, total.grand_total.amount_minor) == (3886 + 206, 23179 + 4092)
    assert quote.approval.state == quotes_pb2.QUOTE_APPROVAL_STATE_NOT_REQUIRED  # an admin's allowance
    assert quote.valid_until == (datetime.now(UTC).date() + timedelta(days=30)).isoformat()

    code, _ = _code(lambda: shop.act("AcceptQuote", ADMIN, quote.id))
    assert code == grpc.StatusCode.FAILED_PRECONDITION  # a draft is not accepted
    sent = shop.act("SendQuote", ADMIN, quote.id, etag=quote.etag)
    assert sent.status == quotes_pb2.QUOTE_STATUS_SENT and sent.HasField("sent_at")
    code, _ = _code(lambda: shop.quotes.UpdateQuote(_patch(sent, notes="late"), metadata=ADMIN, timeout=10))
    assert code == grpc.StatusCode.FAILED_PRECONDITION  # only a draft changes

    accepted = shop.act("AcceptQuote", ADMIN, quote.id)
    assert accepted.status == quotes_pb2.QUOTE_STATUS_ACCEPTED and accepted.order_id
    assert shop.act("AcceptQuote", ADMIN, quote.id).order_id == accepted.order_id  # again: as it is
    order = shop.orders.GetOrder(orders_pb2.GetOrderRequest(id=accepted.order_id), metadata=ADMIN, timeout=10)
    assert order.quote_id == quote.id and order.contact_id == "c-1"
    assert order.total.grand_total.amount_minor == total.grand_total.amount_minor
    assert order.total.net.amount_minor == total.net.amount_minor
    assert [(line.product_id, line.discount.amount_minor, line.net.amount_minor) for line in order.lines] == [
        (widget, 2159, 19429),
        (book, 0, 3750),
    ]
    assert [e["actor_id"] for e in _events(shared_sales, "quote_accepted", quote.id)] == ["admin-1"]
    assert len(_events(shared_sales, "order_placed", quote.id)) == 1
    sent_event = _events(shared_sales, "quote_sent", quote.id)[0]
    assert sent_event["changed_fields"] == ["status", "sent_at"] and sent_event["contact_id"] == "c-1"


def _patch(quote: quotes_pb2.Quote, **fields: Any) -> quotes_pb2.UpdateQuoteRequest:
    request = quotes_pb2.UpdateQuoteRequest(quote=quotes_pb2.Quote(id=quote.id, etag=quote.etag))
    for name, value in fields.items():
        if name == "lines":
            request.quote.lines.extend(value)
        else:
            setattr(request.quote, name, value)
        request.update_mask.paths.append(name)
    return request


def test_a_discount_over_the_authors_allowance_waits_for_a_managers_approval(
    shop: Quoting, shared_sales: Any
) -> None:
    widget, _, listed = _catalogue(shop)
    quote = shop.quote(REP, [(widget, 2, 1500)], price_list_id=listed)  # 15% > a rep's 10%
    approval = quote.approval
    assert approval.state == quotes_pb2.QUOTE_APPROVAL_STATE_PENDING
    assert (approval.max_discount_bp, approval.allowed_discount_bp, approval.requested_by) == (
        1500,
        1000,
        "rep-1",
    )
    assert len(_events(shared_sales, "approval_requested", quote.id)) == 1

    code, reason = _code(lambda: shop.act("SendQuote", REP, quote.id))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "APPROVAL_REQUIRED")
    # The approver's queue: pending approvals in their scope only.
    queue = shop.quotes.ListQuotes(
        quotes_pb2.ListQuotesRequest(filter='approval_state = "pending"'), metadata=MANAGER, timeout=10
    )
    assert quote.id in {q.id for q in queue.items}
    assert all(q.approval.state == quotes_pb2.QUOTE_APPROVAL_STATE_PENDING for q in queue.items)
    elsewhere = shop.quotes.ListQuotes(
        quotes_pb2.ListQuotesRequest(filter='approval_state = "pending"'), metadata=OTHER_MANAGER, timeout=10
    )
    assert quote.id not in {q.id for q in elsewhere.items}

    code, _ = _code(lambda: shop.act("ApproveQuote", REP, quote.id))
    assert code == grpc.StatusCode.PERMISSION_DENIED  # not their own request
    code, _ = _code(lambda: shop.act("ApproveQuote", OTHER_REP, quote.id))
    assert code == grpc.StatusCode.PERMISSION_DENIED  # a colleague's quote: read, not update
    code, _ = _code(lambda: shop.act("ApproveQuote", OTHER_MANAGER, quote.id))
    assert code == grpc.StatusCode.NOT_FOUND  # another team's
    refused = shop.act("RejectQuoteApproval", MANAGER, quote.id, reason="too generous")
    assert refused.approval.state == quotes_pb2.QUOTE_APPROVAL_STATE_REJECTED
    assert _code(lambda: shop.act("SendQuote", REP, quote.id))[1] == "APPROVAL_REQUIRED"

    # The rep asks again with 12%; the manager approves; then it can be sent.
    again = shop.quotes.UpdateQuote(
        _patch(refused, lines=[quotes_pb2.QuoteLine(product_id=widget, quantity=2, discount_bp=1200)]),
        metadata=REP,
        timeout=10,
    )
    assert again.approval.state == quotes_pb2.QUOTE_APPROVAL_STATE_PENDING
    assert again.total.discount.amount_minor == 480  # 39.98 x 12% = 4.7976 -> 4.80
    approved = shop.act("ApproveQuote", MANAGER, quote.id, reason="strategic account", etag=again.etag)
    assert (approved.approval.state, approved.approval.decided_by) == (
        quotes_pb2.QUOTE_APPROVAL_STATE_APPROVED,
        "manager-1",
    )
    assert shop.act("SendQuote", REP, quote.id).status == quotes_pb2.QUOTE_STATUS_SENT

    history = shop.quotes.ListQuoteHistory(
        quotes_pb2.ListQuoteHistoryRequest(id=quote.id), metadata=REP, timeout=10
    )
    approvals = [
        (entry.actor_id, change.new_value.struct_value["state"])
        for entry in reversed(history.items)
        for change in entry.changes
        if change.field == "approval"
    ]
    assert approvals == [
        ("manager-1", "rejected"),
        ("rep-1", "pending"),
        ("manager-1", "approved"),
    ]
    decided = _events(shared_sales, "approval_decided", quote.id)
    assert [(e["approval"]["state"], e["reason"]) for e in decided] == [
        ("rejected", "too generous"),
        ("approved", "strategic account"),
    ]


def test_a_manager_approves_only_within_their_own_allowance(shop: Quoting) -> None:
    widget, _, listed = _catalogue(shop)
    quote = shop.quote(REP, [(widget, 1, 4000)], price_list_id=listed)
    code, _ = _code(lambda: shop.act("ApproveQuote", MANAGER, quote.id))
    assert code == grpc.StatusCode.PERMISSION_DENIED  # 40% is over a manager's 25% as well
    assert (
        shop.act("ApproveQuote", ADMIN, quote.id).approval.state == quotes_pb2.QUOTE_APPROVAL_STATE_APPROVED
    )


def test_a_partner_quote_uses_its_terms_and_its_credit_limit_on_acceptance(shop: Quoting) -> None:
    widget, _, listed = _catalogue(shop, accounts=("QP1", "QP2"))
    shop.set_terms("QP1", listed, 5000)
    shop.set_terms("QP2", listed, 10_000_000)
    big = shop.quote(ADMIN, [(widget, 5, 0)], partner_account_id="QP1")  # 119.94 incl. tax > 50.00
    small = shop.quote(ADMIN, [(widget, 1, 0)], partner_account_id="QP2")
    assert big.price_list_id == listed
    shop.act("SendQuote", ADMIN, big.id)
    code, reason = _code(lambda: shop.act("AcceptQuote", ADMIN, big.id))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "CREDIT_LIMIT_EXCEEDED")
    after = shop.quotes.GetQuote(quotes_pb2.GetQuoteRequest(id=big.id), metadata=ADMIN, timeout=10)
    assert after.status == quotes_pb2.QUOTE_STATUS_SENT and not after.order_id  # nothing half-done

    # A partner user reads their own account's quotes only.
    mine = shop.quotes.ListQuotes(quotes_pb2.ListQuotesRequest(), metadata=partner_user("QP1"), timeout=10)
    assert {q.id for q in mine.items} == {big.id}
    code, _ = _code(
        lambda: shop.quotes.GetQuote(
            quotes_pb2.GetQuoteRequest(id=small.id), metadata=partner_user("QP1"), timeout=10
        )
    )
    assert code == grpc.StatusCode.NOT_FOUND
    code, _ = _code(lambda: shop.act("AcceptQuote", partner_user("QP2"), small.id))
    assert code == grpc.StatusCode.PERMISSION_DENIED  # partners read quotes; staff record the answer


def test_a_quote_made_from_a_deal_is_about_the_deals_customer_and_the_deal_must_be_readable(
    shop: Quoting, shared_sales: Any
) -> None:
    widget, _, listed = _catalogue(shop)
    run = uuid.uuid4().hex[:8]
    ours = shared_sales.deals.CreateDeal(
        deals_pb2.CreateDealRequest(title="Ours", contact_id=f"c-{run}", company_id=f"co-{run}"), metadata=REP
    )
    quote = shop.quote(OTHER_REP, [(widget, 1, 0)], price_list_id=listed, deal_id=ours.id)
    assert (quote.deal_id, quote.contact_id, quote.company_id) == (ours.id, f"c-{run}", f"co-{run}")
    shop.act("SendQuote", OTHER_REP, quote.id)
    order_id = shop.act("AcceptQuote", OTHER_REP, quote.id).order_id
    order = shop.orders.GetOrder(orders_pb2.GetOrderRequest(id=order_id), metadata=ADMIN, timeout=10)
    assert (order.contact_id, order.company_id) == (f"c-{run}", f"co-{run}")  # the customer's 360
    # A quote naming its own customer keeps it.
    named = shop.quote(REP, [(widget, 1, 0)], price_list_id=listed, deal_id=ours.id, contact_id="c-other")
    assert (named.contact_id, named.company_id) == ("c-other", "")

    # Another team's deal is not the rep's to quote from (nor to learn about): an invalid field.
    theirs = shared_sales.deals.CreateDeal(
        deals_pb2.CreateDealRequest(title="Theirs", contact_id=f"c2-{run}"), metadata=ANOTHER_TEAMS_REP
    )
    for deal_id in (theirs.id, str(uuid.uuid4())):
        code, _ = _code(lambda d=deal_id: shop.quote(REP, [(widget, 1, 0)], price_list_id=listed, deal_id=d))
        assert code == grpc.StatusCode.INVALID_ARGUMENT


def test_a_sent_quote_past_its_last_day_expires_and_cannot_be_accepted(
    shop: Quoting, shared_sales: Any
) -> None:
    widget, _, listed = _catalogue(shop)
    today = datetime.now(UTC).date()
    quote = shop.quote(ADMIN, [(widget, 1, 0)], price_list_id=listed, valid_until=today.isoformat())
    shop.act("SendQuote", ADMIN, quote.id)
    code, _ = _code(
        lambda: shop.quote(ADMIN, [(widget, 1, 0)], price_list_id=listed, valid_until="2020-01-01")
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT

    tomorrow = datetime.now(UTC) + timedelta(days=1)
    while expiry.sweep(shared_sales.runtime.sessions, now=tomorrow):
        pass
    expired = shop.quotes.GetQuote(quotes_pb2.GetQuoteRequest(id=quote.id), metadata=ADMIN, timeout=10)
    assert expired.status == quotes_pb2.QUOTE_STATUS_EXPIRED
    assert expiry.sweep(shared_sales.runtime.sessions, now=tomorrow) == 0  # once
    assert [e["status"] for e in _events(shared_sales, "quote_expired", quote.id)] == ["expired"]
    code, _ = _code(lambda: shop.act("AcceptQuote", ADMIN, quote.id))
    assert code == grpc.StatusCode.FAILED_PRECONDITION


def test_an_update_reprices_the_draft_and_a_stale_etag_is_refused(shop: Quoting) -> None:
    widget, book, listed = _catalogue(shop)
    quote = shop.quote(ADMIN, [(widget, 1, 0)], price_list_id=listed)
    changed = shop.quotes.UpdateQuote(
        _patch(quote, lines=[quotes_pb2.QuoteLine(product_id=book, quantity=2, discount_bp=500)]),
        metadata=ADMIN,
        timeout=10,
    )
    assert [(line.product_id, line.net.amount_minor) for line in changed.lines] == [(book, 2375)]
    assert changed.total.grand_total.amount_minor == 2375 + 131  # 23.75 x 5.5% = 1.30625 -> 1.31
    code, _ = _code(lambda: shop.quotes.UpdateQuote(_patch(quote, notes="x"), metadata=ADMIN, timeout=10))
    assert code in (grpc.StatusCode.ABORTED, grpc.StatusCode.FAILED_PRECONDITION)
    history = shop.quotes.ListQuoteHistory(
        quotes_pb2.ListQuoteHistoryRequest(id=quote.id), metadata=ADMIN, timeout=10
    )
    assert isinstance(history, history_pb2.ListHistoryResponse)
    assert [c.field for c in history.items[0].changes] == ["lines", "approval"]  # its max discount


def test_the_pdf_names_both_parties_and_holds_the_totals(
    contacts_channel: grpc.Channel, sales: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALES_QUOTE_SELLER", "Acme Trading Ltd|1 Market Street")
    shop = Quoting(sales.channel)
    person = contacts_pb2_grpc.ContactsServiceStub(contacts_channel).CreateContact(
        contacts_pb2.CreateContactRequest(first_name="Zoë", last_name="Kowalska", email="zoe@example.com"),
        metadata=ADMIN,
        timeout=10,
    )
    widget, book, listed = _catalogue(shop)
    quote = shop.quote(
        ADMIN, [(widget, 12, 1000), (book, 3, 0)], price_list_id=listed, contact_id=person.id, notes="Net 30"
    )
    document = shop.quotes.RenderQuotePdf(
        quotes_pb2.RenderQuotePdfRequest(id=quote.id), metadata=ADMIN, timeout=30
    )
    assert document.content_type == "application/pdf" and document.data.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document.data)).pages)
    for expected in (
        quote.number,
        "Acme Trading Ltd",
        "Zoë Kowalska",
        "zoe@example.com",
        "253.38 EUR",  # subtotal
        "21.59 EUR",  # discount
        "40.92 EUR",  # tax
        "272.71 EUR",  # total
        quote.valid_until,
    ):
        assert expected in text, expected
    code, _ = _code(
        lambda: shop.quotes.RenderQuotePdf(
            quotes_pb2.RenderQuotePdfRequest(id=quote.id), metadata=partner_user("QP9"), timeout=10
        )
    )
    assert code == grpc.StatusCode.NOT_FOUND


def test_expiry_is_by_day() -> None:
    assert not domain.is_expired("sent", date(2026, 1, 31), date(2026, 1, 31))
    assert domain.is_expired("sent", date(2026, 1, 31), date(2026, 2, 1))
    assert not domain.is_expired("accepted", date(2026, 1, 31), date(2026, 2, 1))


def test_lists_filter_and_order_by_the_last_day_and_a_draft_moves_to_another_partner(shop: Quoting) -> None:
    widget, _, listed = _catalogue(shop, accounts=("QP5", "QP6"))
    shop.set_terms("QP5", listed, 10_000_000)
    shop.set_terms("QP6", listed, 10_000_000)
    today = datetime.now(UTC).date()
    days = [(today + timedelta(days=n)).isoformat() for n in (3, 1, 2)]
    made = [shop.quote(ADMIN, [(widget, 1, 0)], partner_account_id="QP5", valid_until=day) for day in days]
    listed_quotes = shop.quotes.ListQuotes(
        quotes_pb2.ListQuotesRequest(
            filter=f'partner_account_id = "QP5" AND valid_until >= "{days[2]}"',
            order_by="valid_until desc",
            limit=1,
        ),
        metadata=ADMIN,
        timeout=10,
    )
    assert [q.id for q in listed_quotes.items] == [made[0].id] and listed_quotes.next_cursor
    rest = shop.quotes.ListQuotes(
        quotes_pb2.ListQuotesRequest(
            filter=f'partner_account_id = "QP5" AND valid_until >= "{days[2]}"',
            order_by="valid_until desc",
            limit=1,
            cursor=listed_quotes.next_cursor,
        ),
        metadata=ADMIN,
        timeout=10,
    )
    assert [q.id for q in rest.items] == [made[2].id]

    moved = shop.quotes.UpdateQuote(_patch(made[1], partner_account_id="QP6"), metadata=ADMIN, timeout=10)
    assert (moved.partner_account_id, moved.price_list_id) == ("QP6", listed)
    mine = shop.quotes.ListQuotes(quotes_pb2.ListQuotesRequest(), metadata=partner_user("QP6"), timeout=10)
    assert [q.id for q in mine.items] == [made[1].id]

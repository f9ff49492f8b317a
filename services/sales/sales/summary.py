"""The contact's sales section of the customer-360 (SalesService.GetSalesSummary), read on one
read-only connection: deals as the caller may read deals, orders as it may read orders and tasks as it
may read tasks (a caller without the order or task read right sees none of them, not an error: the
section is about deals first).

Orders that were cancelled are no purchase: purchase history, lifetime value and the outstanding balance
count the others; amounts stay per currency.

This is the 360 view's hot path, and most contacts have no deal, order or task. So the first statement
counts everything as scalar subqueries, each in its own record type's scope, and the rest is read only
where a count says there is something to read: a contact with nothing costs one round trip. Statements
are built once per combination of the caller's scope shapes and run with its values
(crm_platform.access.scope.MultiScopedStatements): building and cache-keying them per call was most of
the section's CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, bindparam, case, extract, func, select
from sqlalchemy.orm import Session

from crm.sales.v1 import sales_pb2
from crm_platform.access import CallerContext
from crm_platform.access.scope import MultiScopedStatements
from sales.activities import store as activity_store
from sales.activities.store import TaskRow
from sales.deals import store as deal_store
from sales.deals.domain import OPEN, WON
from sales.deals.store import Deal
from sales.money import money
from sales.orders import store as order_store
from sales.orders.store import CANCELLED, Order

SHOWN = 5  # open deals and last orders listed
OPEN_ORDER_STATUSES = ("submitted", "confirmed", "shipped")

_CONTACT_ID = bindparam("contact_id")
_SCOPES = {
    "deal": deal_store.deals.scope("read"),
    "order": order_store.orders.scope("read"),
    "task": activity_store.tasks.scope("read"),
}


@dataclass
class Counts:
    open_deals: int
    won_deals: int
    orders: int  # every order the caller may read, cancelled ones included
    open_tasks: int


@dataclass
class OrderFigures:
    open_orders: int = 0
    years: dict[tuple[int, str], tuple[int, int]] = field(default_factory=dict)  # -> (orders, total)
    outstanding: dict[str, int] = field(default_factory=dict)
    lifetime: dict[str, int] = field(default_factory=dict)


def _live_deals(scopes: dict[str, ColumnElement[bool]], *columns: Any) -> Select[Any]:
    return select(*columns).where(Deal.contact_id == _CONTACT_ID, Deal.archived_at.is_(None), scopes["deal"])


def _counts_statement(scopes: dict[str, ColumnElement[bool]]) -> Select[Any]:
    def count_of(query: Select[Any], label: str) -> Any:
        return query.scalar_subquery().label(label)

    return select(
        count_of(_live_deals(scopes, func.count()).where(Deal.status == OPEN), "open_deals"),
        count_of(_live_deals(scopes, func.count()).where(Deal.status == WON), "won_deals"),
        count_of(
            select(func.count()).select_from(Order).where(Order.contact_id == _CONTACT_ID, scopes["order"]),
            "orders",
        ),
        count_of(
            select(func.count())
            .select_from(TaskRow)
            .where(
                TaskRow.contact_id == _CONTACT_ID,
                TaskRow.status == activity_store.OPEN,
                TaskRow.archived_at.is_(None),
                scopes["task"],
            ),
            "open_tasks",
        ),
    )


def _open_values_statement(scopes: dict[str, ColumnElement[bool]]) -> Select[Any]:
    return (
        _live_deals(scopes, Deal.currency, func.sum(Deal.amount_minor))
        .where(Deal.status == OPEN, Deal.currency.is_not(None))
        .group_by(Deal.currency)
        .order_by(Deal.currency)
    )


def _order_figures_statement(scopes: dict[str, ColumnElement[bool]]) -> Select[Any]:
    """One grouped query over the contact's orders (ix_orders_contact), cancelled ones left out."""
    year = extract("year", Order.placed_at)
    return (
        select(
            year,
            Order.currency,
            func.count(),
            func.sum(Order.total_minor),
            func.sum(Order.total_minor - Order.paid_minor),
            func.sum(case((Order.status.in_(OPEN_ORDER_STATUSES), 1), else_=0)),
        )
        .where(Order.contact_id == _CONTACT_ID, Order.status != CANCELLED, scopes["order"])
        .group_by(year, Order.currency)
    )


_COUNTS = MultiScopedStatements(_counts_statement, _SCOPES)
_OPEN_VALUES = MultiScopedStatements(_open_values_statement, {"deal": _SCOPES["deal"]})
_ORDER_FIGURES = MultiScopedStatements(_order_figures_statement, {"order": _SCOPES["order"]})


def counts(connection: Connection, contact_id: str, caller: CallerContext | None) -> Counts:
    row = _COUNTS.execute(connection, caller, contact_id=contact_id).one()
    return Counts(int(row.open_deals), int(row.won_deals), int(row.orders), int(row.open_tasks))


def open_values(connection: Connection, contact_id: str, caller: CallerContext | None) -> list[Any]:
    """The open deals' amounts per currency."""
    rows = _OPEN_VALUES.execute(connection, caller, contact_id=contact_id)
    return [money(int(total or 0), currency) for currency, total in rows]


def order_figures(connection: Connection, contact_id: str, caller: CallerContext | None) -> OrderFigures:
    figures = OrderFigures()
    for placed, currency, count, total, owed, still_open in _ORDER_FIGURES.execute(
        connection, caller, contact_id=contact_id
    ):
        figures.years[(int(placed), currency)] = (int(count), int(total or 0))
        figures.open_orders += int(still_open or 0)
        figures.lifetime[currency] = figures.lifetime.get(currency, 0) + int(total or 0)
        if owed:
            figures.outstanding[currency] = figures.outstanding.get(currency, 0) + int(owed)
    return figures


def open_deals(session: Session, contact_id: str, caller: CallerContext | None) -> list[Deal]:
    query = deal_store.deals.scoped(
        deal_store.active_deals()
        .where(Deal.contact_id == contact_id, Deal.status == OPEN)
        .order_by(Deal.expected_close_date.is_(None), Deal.expected_close_date, Deal.created_at, Deal.id)
        .limit(SHOWN),
        caller,
    )
    return list(session.scalars(query))


def last_orders(session: Session, contact_id: str, caller: CallerContext | None) -> list[Order]:
    query = order_store.orders.scoped(
        order_store.listed()
        .where(Order.contact_id == contact_id)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(SHOWN),
        caller,
    )
    return list(session.scalars(query))


def next_task(session: Session, contact_id: str, caller: CallerContext | None) -> TaskRow | None:
    """The contact's open task the caller may read that is due first (undated last)."""
    query = activity_store.tasks.scoped(
        activity_store.active_tasks()
        .where(TaskRow.contact_id == contact_id, TaskRow.status == activity_store.OPEN)
        .order_by(TaskRow.due_at.is_(None), TaskRow.due_at, TaskRow.id)
        .limit(1),
        caller,
    )
    return session.scalars(query).first()


def sales_summary(
    connection: Connection, contact_id: str, caller: CallerContext | None
) -> sales_pb2.SalesSummary:
    """The whole section. Lists whose count says they are empty are not queried; the records listed are
    read through an ORM session on the same connection (their messages are made from the rows)."""
    found = counts(connection, contact_id, caller)
    summary = sales_pb2.SalesSummary(
        contact_id=contact_id,
        open_deals=found.open_deals,
        won_deals=found.won_deals,
        open_tasks=found.open_tasks,
    )
    if not (found.open_deals or found.orders or found.open_tasks):
        return summary
    session = Session(bind=connection)
    try:
        if found.open_deals:
            summary.open_pipeline_value.extend(open_values(connection, contact_id, caller))
            summary.open_deal_list.extend(
                deal_store.to_message(d) for d in open_deals(session, contact_id, caller)
            )
        if found.orders:
            _fill_orders(summary, connection, session, caller)
        if found.open_tasks:
            task = next_task(session, contact_id, caller)
            if task is not None:
                summary.next_task.CopyFrom(activity_store.task_message(task))
    finally:
        session.close()
    return summary


def _fill_orders(
    summary: sales_pb2.SalesSummary, connection: Connection, session: Session, caller: CallerContext | None
) -> None:
    contact_id = summary.contact_id
    summary.last_orders.extend(order_store.to_message(o) for o in last_orders(session, contact_id, caller))
    figures = order_figures(connection, contact_id, caller)
    summary.open_orders = figures.open_orders
    for (year, currency), (count, total) in sorted(figures.years.items(), key=lambda i: (-i[0][0], i[0][1])):
        summary.purchase_history.append(
            sales_pb2.PurchaseYear(year=year, orders=count, total=money(total, currency))
        )
    summary.outstanding_balance.extend(money(v, c) for c, v in sorted(figures.outstanding.items()))
    summary.lifetime_value.extend(money(v, c) for c, v in sorted(figures.lifetime.items()))

"""The contact's sales section of the customer-360 (SalesService.GetSalesSummary), read on one
read-only session: deals as the caller may read deals, orders as it may read orders and tasks as it may
read tasks (a caller without the order or task read right sees none of them, not an error: the section
is about deals first).

Orders that were cancelled are no purchase: purchase history, lifetime value and the outstanding balance
count the others; amounts stay per currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, extract, func, select
from sqlalchemy.orm import Session

from crm.sales.v1 import sales_pb2
from crm_platform.access import CallerContext
from sales.activities import store as activity_store
from sales.activities.store import TaskRow
from sales.deals import store as deal_store
from sales.deals.domain import OPEN
from sales.money import money
from sales.orders import store as order_store
from sales.orders.store import CANCELLED, Order

SHOWN = 5  # open deals and last orders listed
OPEN_ORDER_STATUSES = ("submitted", "confirmed", "shipped")


@dataclass
class OrderFigures:
    placed: int = 0  # every order the caller may read, cancelled ones included
    open_orders: int = 0
    years: dict[tuple[int, str], tuple[int, int]] = field(default_factory=dict)  # -> (orders, total)
    outstanding: dict[str, int] = field(default_factory=dict)
    lifetime: dict[str, int] = field(default_factory=dict)


def open_deals(session: Session, contact_id: str, caller: CallerContext | None) -> list[deal_store.Deal]:
    query = deal_store.deals.scoped(
        deal_store.active_deals()
        .where(deal_store.Deal.contact_id == contact_id, deal_store.Deal.status == OPEN)
        .order_by(
            deal_store.Deal.expected_close_date.is_(None),
            deal_store.Deal.expected_close_date,
            deal_store.Deal.created_at,
            deal_store.Deal.id,
        )
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


def order_figures(session: Session, contact_id: str, caller: CallerContext | None) -> OrderFigures:
    """One grouped query over the contact's orders (ix_orders_contact). Cancelled orders are counted in
    `placed` only (so the section knows whether there is any order to list) and left out of the rest."""
    year = extract("year", Order.placed_at)
    kept = Order.status != CANCELLED

    def when_kept(value: object) -> object:
        return func.sum(case((kept, value), else_=0))

    query = order_store.orders.scoped(
        select(
            year,
            Order.currency,
            func.count(),
            when_kept(1),
            when_kept(Order.total_minor),
            when_kept(Order.total_minor - Order.paid_minor),
            func.sum(case((Order.status.in_(OPEN_ORDER_STATUSES), 1), else_=0)),
        )
        .where(Order.contact_id == contact_id)
        .group_by(year, Order.currency),
        caller,
    )
    figures = OrderFigures()
    for placed, currency, every, count, total, owed, still_open in session.execute(query):
        figures.placed += int(every)
        if not count:
            continue  # a year of cancelled orders only: no purchase
        figures.years[(int(placed), currency)] = (int(count), int(total or 0))
        figures.open_orders += int(still_open or 0)
        figures.lifetime[currency] = figures.lifetime.get(currency, 0) + int(total or 0)
        if owed:
            figures.outstanding[currency] = figures.outstanding.get(currency, 0) + int(owed)
    return figures


def open_tasks(session: Session, contact_id: str, caller: CallerContext | None) -> tuple[int, TaskRow | None]:
    """How many open tasks about the contact the caller may read, and the one due first."""
    about = (TaskRow.contact_id == contact_id, TaskRow.status == activity_store.OPEN)
    count = session.scalar(
        activity_store.tasks.scoped(
            select(func.count()).select_from(TaskRow).where(TaskRow.archived_at.is_(None), *about), caller
        )
    )
    if not count:
        return 0, None
    first = activity_store.tasks.scoped(
        activity_store.active_tasks()
        .where(*about)
        .order_by(TaskRow.due_at.is_(None), TaskRow.due_at, TaskRow.id)
        .limit(1),
        caller,
    )
    return int(count), session.scalars(first).first()


def fill(summary: sales_pb2.SalesSummary, session: Session, caller: CallerContext | None) -> None:
    """Adds the deals and orders listed in the section to `summary` (its counts already set). A list
    whose count says it is empty is not queried: most contacts have no deal, order or task, and this is
    the 360 view's hot path."""
    contact_id = summary.contact_id
    if summary.open_deals:
        deals = open_deals(session, contact_id, caller)
        summary.open_deal_list.extend(deal_store.to_message(d) for d in deals)
    figures = order_figures(session, contact_id, caller)
    if figures.placed:
        orders = last_orders(session, contact_id, caller)
        summary.last_orders.extend(order_store.to_message(o) for o in orders)
    summary.open_orders = figures.open_orders
    for (year, currency), (count, total) in sorted(figures.years.items(), key=lambda i: (-i[0][0], i[0][1])):
        summary.purchase_history.append(
            sales_pb2.PurchaseYear(year=year, orders=count, total=money(total, currency))
        )
    summary.outstanding_balance.extend(money(v, c) for c, v in sorted(figures.outstanding.items()))
    summary.lifetime_value.extend(money(v, c) for c, v in sorted(figures.lifetime.items()))
    summary.open_tasks, task = open_tasks(session, contact_id, caller)
    if task is not None:
        summary.next_task.CopyFrom(activity_store.task_message(task))

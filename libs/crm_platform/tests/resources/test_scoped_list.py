"""Lists of a scope in branches (Repository.list_page: one ordered, limited subquery per branch, merged)
give exactly what the single scope clause gives: the same rows in the same order, page by page through
the cursor, with no record twice (one both owned by the caller and in their team) and none missed; on
SQLite and PostgreSQL, whatever the order, filter and page size."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Index, Integer, String, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from crm.contacts.v1 import contacts_pb2
from crm_platform.access import CallerContext, Level
from crm_platform.access.rights import ACTIONS
from crm_platform.db import UtcDateTime, make_engine
from crm_platform.listing import STRING, TIMESTAMP, CursorCodec, Field, ListRequest, ListSpec, list_page
from crm_platform.resources import Repository
from crm_platform.resources import repository as repository_module


class Base(DeclarativeBase):
    pass


class Deal(Base):
    __tablename__ = "deals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(50), nullable=True)  # NULLs and ties
    company: Mapped[str | None] = mapped_column(String(50), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    owner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    partner_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = tuple(
        Index(f"ix_deals_{name}_created_at", name, "created_at", "id")
        for name in ("owner_id", "team_id", "partner_account_id")
    )


def _unused(_: Any) -> Any:
    raise AssertionError("not called by lists")


deals = Repository(
    Deal, "contact", to_message=lambda deal: contacts_pb2.Contact(id=deal.id), to_columns=_unused
)

SPEC = ListSpec(
    name="deals",
    fields={
        "name": Field(Deal.name, STRING),
        "company": Field(Deal.company, STRING),
        "owner_id": Field(Deal.owner_id, STRING),
        "team_id": Field(Deal.team_id, STRING),
        "created_at": Field(Deal.created_at, TIMESTAMP),
    },
    orderable={"name", "company", "created_at"},
    default_order="created_at",
    tie_breaker=Deal.id,
)
CODEC = CursorCodec(b"k" * 32)


def _caller(level: Level, user: str = "me", teams: tuple[str, ...] = (), partner: str | None = None):
    return CallerContext(
        subject=user,
        team_ids=teams,
        primary_team_id=teams[0] if teams else None,
        partner_account_id=partner,
        rights={"contact": dict.fromkeys(ACTIONS, level)},
    )


CALLERS = {
    "team rep in two teams": _caller(Level.TEAM, teams=("t1", "t2")),
    "team rep in one team": _caller(Level.TEAM, teams=("t1",)),
    "team rep in no team": _caller(Level.TEAM),
    "team partner user": _caller(Level.TEAM, teams=("t1",), partner="p1"),
    "own": _caller(Level.OWN, teams=("t1",)),
    "all": _caller(Level.ALL),
}
# The callers whose scope has several branches (their teams, then their own records).
BRANCHED = {"team rep in two teams", "team rep in one team", "team partner user"}
ORDERS = ("", "created_at desc", "name", "name desc,created_at", "company desc")
FILTERS = ("", 'company = "c1"', 'name != "n2" AND created_at > "2026-01-01T00:20:00Z"')


@pytest.fixture
def sessions(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    Base.metadata.create_all(engine)
    rng = random.Random(11)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for n, (owner, team, partner) in enumerate(
        itertools.product(("me", "other", None), ("t1", "t2", "t3", None), (None, "p1"))
    ):
        for copy in range(12):
            rows.append(
                {
                    "id": f"d{n:02}-{copy:02}",
                    "name": rng.choice(("n1", "n2", "n3", None)),
                    "company": rng.choice(("c1", "c2", None)),
                    "version": 1,
                    # Many ties on created_at: the id tie-breaker decides, across branches too.
                    "created_at": start + timedelta(minutes=rng.randrange(40)),
                    "updated_at": start,
                    "archived_at": start if rng.random() < 0.1 else None,
                    "owner_id": owner,
                    "team_id": team,
                    "partner_account_id": partner,
                }
            )
    with engine.begin() as conn:
        conn.execute(insert(Deal.__table__), rows)
    with Session(engine) as session:
        yield session
    engine.dispose()


def _pages(list_one, order_by: str, filter_: str, limit: int) -> list[tuple[list[str], str]]:
    pages, cursor = [], ""
    while True:
        request = ListRequest(filter=filter_, order_by=order_by, cursor=cursor, limit=limit, caller="c")
        page = list_one(request)
        pages.append(([deal.id for deal in page.items], page.next_cursor))
        cursor = page.next_cursor
        if not cursor:
            return pages


def test_branched_lists_equal_the_single_clause_page_by_page(sessions, monkeypatch) -> None:
    # PostgreSQL lists use the single clause (it plans the OR well); the branches must be right there too.
    monkeypatch.setattr(repository_module, "BRANCHED_DIALECTS", frozenset({"sqlite", "postgresql"}))
    branched_plans = []  # the branched path plans the list itself
    real_plan_listing = repository_module.plan_listing
    monkeypatch.setattr(
        repository_module, "plan_listing", lambda *args: branched_plans.append(1) or real_plan_listing(*args)
    )
    active = select(Deal).where(Deal.archived_at.is_(None))
    for (label, caller), order_by, filter_, limit in itertools.product(
        CALLERS.items(), ORDERS, FILTERS, (4, 50)
    ):
        case = (label, order_by, filter_, limit)
        expected = _pages(
            lambda r, caller=caller: list_page(sessions, deals.scoped(active, caller), SPEC, r, CODEC),
            order_by,
            filter_,
            limit,
        )
        plans_before = len(branched_plans)
        actual = _pages(
            lambda r, caller=caller: deals.list_page(sessions, active, SPEC, r, CODEC, caller=caller),
            order_by,
            filter_,
            limit,
        )
        assert actual == expected, case
        listed = [deal for ids, _ in actual for deal in ids]
        assert len(listed) == len(set(listed)), case
        assert (len(branched_plans) > plans_before) == (label in BRANCHED), case


def test_a_record_both_owned_and_in_the_callers_team_is_listed_once(sessions) -> None:
    caller = CALLERS["team rep in one team"]
    active = select(Deal).where(Deal.archived_at.is_(None))
    both = set(
        sessions.scalars(
            select(Deal.id).where(Deal.archived_at.is_(None), Deal.owner_id == "me", Deal.team_id == "t1")
        )
    )
    assert both
    listed = [
        deal
        for ids, _ in _pages(
            lambda r: deals.list_page(sessions, active, SPEC, r, CODEC, caller=caller), "", "", 5
        )
        for deal in ids
    ]
    expected = sessions.scalars(
        deals.scoped(select(Deal.id), caller).where(Deal.archived_at.is_(None)).order_by(None)
    ).all()
    assert both <= set(listed)
    assert sorted(listed) == sorted(expected)

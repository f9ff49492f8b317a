"""`MultiScopedStatements`: one statement scoping two resource types (each at its own level for the same
caller) selects what the two `scope_clause`s select, on SQLite and PostgreSQL; callers of one combination
of shapes share one built statement."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import Column, MetaData, String, Table, func, insert, select

from crm_platform.access import CallerContext, Level, OwnershipColumns, scope_clause
from crm_platform.access.rights import ACTIONS
from crm_platform.access.scope import MultiScopedStatements
from crm_platform.db import make_engine

USERS = ("u1", "u2")
TEAMS = ("t1", "t2")
PARTNERS = (None, "p1")


@pytest.fixture
def tables(database_url):
    metadata = MetaData()
    made = [
        Table(
            name,
            metadata,
            Column("id", String, primary_key=True),
            Column("owner_id", String),
            Column("team_id", String),
            Column("partner_account_id", String),
        )
        for name in ("deals", "tickets")
    ]
    engine = make_engine(database_url)
    metadata.create_all(engine)
    rows = [
        {"id": f"{o}-{t}-{p}", "owner_id": o, "team_id": t, "partner_account_id": p}
        for o, t, p in itertools.product((*USERS, None), (*TEAMS, None), PARTNERS)
    ]
    with engine.begin() as conn:
        for table in made:
            conn.execute(insert(table), rows)
    yield engine, made
    engine.dispose()


def _columns(table: Table) -> OwnershipColumns:
    return OwnershipColumns(table.c.owner_id, table.c.team_id, table.c.partner_account_id)


def test_each_type_keeps_its_own_scope_in_one_statement(tables) -> None:
    engine, (deals, tickets) = tables
    built: list[object] = []

    def build(scopes):
        built.append(scopes)
        return select(
            select(func.count()).select_from(deals).where(scopes["deals"]).scalar_subquery(),
            select(func.count()).select_from(tickets).where(scopes["tickets"]).scalar_subquery(),
        )

    statements = MultiScopedStatements(
        build,
        {"deals": ("deal", "read", _columns(deals)), "tickets": ("ticket", "read", _columns(tickets))},
    )
    with engine.connect() as conn:

        def count(table: Table, where) -> int:
            return conn.execute(select(func.count()).select_from(table).where(where)).scalar_one()

        for deal_level, ticket_level, user, teams, partner in itertools.product(
            Level, Level, USERS, ((), TEAMS), PARTNERS
        ):
            caller = CallerContext(
                subject=user,
                team_ids=teams,
                primary_team_id=teams[0] if teams else None,
                partner_account_id=partner,
                rights={
                    "deal": dict.fromkeys(ACTIONS, deal_level),
                    "ticket": dict.fromkeys(ACTIONS, ticket_level),
                },
            )
            expected = (
                count(deals, scope_clause(caller, "deal", "read", _columns(deals))),
                count(tickets, scope_clause(caller, "ticket", "read", _columns(tickets))),
            )
            query, values = statements.statement(caller)
            assert tuple(conn.execute(query, values).one()) == expected, (deal_level, ticket_level, user)
        query, values = statements.statement(None)
        assert tuple(conn.execute(query, values).one()) == (count(deals, True), count(tickets, True))
    # One statement per combination of the two types' shapes, not one per caller (160 callers here).
    assert len(built) <= 50

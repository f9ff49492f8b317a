"""`scope_branches` renders the same rule as `scope_clause`: for every kind of caller, each branch lies
inside the scope and together they are the scope; on SQLite and PostgreSQL (NULL owners, teams and
partner accounts included)."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import Column, MetaData, String, Table, insert, select

from crm_platform.access import CallerContext, Level, OwnershipColumns, ScopedStatements, scope_clause
from crm_platform.access.rights import ACTIONS
from crm_platform.access.scope import MAX_TEAM_BRANCHES, scope_branches
from crm_platform.db import make_engine

USERS = ("u1", "u2", "u3")
TEAMS = ("t1", "t2", "t3")
PARTNERS = (None, "p1", "p2")
# Duplicates, and more teams than get a branch each (they then share one).
TEAM_SETS = (
    (),
    ("t1",),
    ("t1", "t2"),
    ("t2", "t1", "t2"),
    TEAMS,
    tuple(f"t{n}" for n in range(1, MAX_TEAM_BRANCHES + 2)),
)


def _caller(level: Level, user: str, teams: tuple[str, ...], partner: str | None) -> CallerContext:
    return CallerContext(
        subject=user,
        team_ids=teams,
        primary_team_id=teams[0] if teams else None,
        partner_account_id=partner,
        rights={"contact": dict.fromkeys(ACTIONS, level)},
    )


@pytest.fixture
def records(database_url):
    metadata = MetaData()
    table = Table(
        "records",
        metadata,
        Column("id", String, primary_key=True),
        Column("owner_id", String),
        Column("team_id", String),
        Column("partner_account_id", String),
    )
    engine = make_engine(database_url)
    metadata.create_all(engine)
    rows = [
        {"id": f"{o}-{t}-{p}", "owner_id": o, "team_id": t, "partner_account_id": p}
        for o, t, p in itertools.product((*USERS, None), (*TEAMS, None), PARTNERS)
    ]
    with engine.begin() as conn:
        conn.execute(insert(table), rows)
    yield engine, table
    engine.dispose()


def test_branches_cover_the_scope_and_nothing_else_for_every_caller(records) -> None:
    engine, table = records
    columns = OwnershipColumns(table.c.owner_id, table.c.team_id, table.c.partner_account_id)
    with engine.connect() as conn:

        def ids(where) -> list[str]:
            return list(conn.execute(select(table.c.id).where(where)).scalars())

        for level, user, teams, partner in itertools.product(Level, USERS, TEAM_SETS, PARTNERS):
            caller = _caller(level, user, teams, partner)
            scope = set(ids(scope_clause(caller, "contact", "read", columns)))
            branches = [set(ids(branch)) for branch in scope_branches(caller, "contact", "read", columns)]
            for branch in branches:
                assert branch <= scope, (level, user, teams, partner)
            assert set().union(*branches) == scope, (level, user, teams, partner)


def test_a_team_caller_gets_one_branch_per_team_then_their_own_records() -> None:
    columns = OwnershipColumns(Column("owner_id", String), Column("team_id", String), None)
    assert (
        len(scope_branches(_caller(Level.TEAM, "u1", ("t1", "t2", "t1"), None), "contact", "read", columns))
        == 3
    )
    assert len(scope_branches(_caller(Level.TEAM, "u1", (), None), "contact", "read", columns)) == 1
    assert len(scope_branches(_caller(Level.OWN, "u1", TEAMS, None), "contact", "read", columns)) == 1
    assert len(scope_branches(_caller(Level.ALL, "u1", TEAMS, None), "contact", "read", columns)) == 1
    assert scope_branches(_caller(Level.NONE, "u1", TEAMS, None), "contact", "read", columns) == []
    many = tuple(f"t{n}" for n in range(MAX_TEAM_BRANCHES + 1))
    assert len(scope_branches(_caller(Level.TEAM, "u1", many, None), "contact", "read", columns)) == 2


def test_scoped_statements_select_what_the_clause_selects_for_every_caller(records) -> None:
    """`ScopedStatements` (built once per shape, bound per caller) is the same rule as `scope_clause`;
    callers of one shape share one statement object."""
    engine, table = records
    columns = OwnershipColumns(table.c.owner_id, table.c.team_id, table.c.partner_account_id)
    built: list[object] = []

    def build(scope, variant):
        built.append(variant)
        return select(table.c.id).where(scope)

    statements = ScopedStatements(build, "contact", "read", columns)
    with engine.connect() as conn:
        for level, user, teams, partner in itertools.product(Level, USERS, TEAM_SETS, PARTNERS):
            caller = _caller(level, user, teams, partner)
            expected = set(
                conn.execute(
                    select(table.c.id).where(scope_clause(caller, "contact", "read", columns))
                ).scalars()
            )
            query, values = statements.statement(caller)
            assert set(conn.execute(query, values).scalars()) == expected, (level, user, teams, partner)
        unscoped, values = statements.statement(None)
        assert len(set(conn.execute(unscoped, values).scalars())) == len(
            conn.execute(select(table.c.id)).all()
        )
    # Shapes: nothing, everything, partner or not x owner x the distinct team counts, not one per caller.
    assert len(built) < 40

"""Record-level scope: the SQL clause and the in-memory rule agree with each other and with the matrix,
on SQLite and PostgreSQL, for every kind of caller."""

from __future__ import annotations

import itertools
import random

import pytest
from sqlalchemy import Column, MetaData, String, Table, insert, select

from crm_platform.access import (
    CallerContext,
    Level,
    OwnershipColumns,
    assign_ownership,
    in_scope,
    require,
    scope_clause,
)
from crm_platform.access.rights import ACTIONS
from crm_platform.db import make_engine
from crm_platform.errors import InvalidArgument, PermissionDenied

USERS = ("u1", "u2", "u3")
TEAMS = ("t1", "t2", "t3")
PARTNERS = (None, "p1", "p2")


def _caller(level: Level, *, user="u1", teams=("t1",), partner=None) -> CallerContext:
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
        Column("owner_id", String, index=True),
        Column("team_id", String, index=True),
        Column("partner_account_id", String, index=True),
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


def test_sql_clause_and_in_memory_rule_select_the_same_records(records) -> None:
    engine, table = records
    columns = OwnershipColumns(table.c.owner_id, table.c.team_id, table.c.partner_account_id)
    rng = random.Random(7)
    with engine.connect() as conn:
        every = conn.execute(select(table)).all()
        for level, user, partner in itertools.product(Level, USERS, PARTNERS):
            teams = tuple(rng.sample(TEAMS, rng.randint(0, 2)))
            caller = _caller(level, user=user, teams=teams, partner=partner)
            selected = set(
                conn.execute(
                    select(table.c.id).where(scope_clause(caller, "contact", "read", columns))
                ).scalars()
            )
            expected = {row.id for row in every if in_scope(caller, "contact", "read", row)}
            assert selected == expected, (level, user, teams, partner)


def test_levels_mean_what_they_say(records) -> None:
    engine, table = records
    columns = OwnershipColumns(table.c.owner_id, table.c.team_id, table.c.partner_account_id)

    def visible(caller: CallerContext) -> list:
        with engine.connect() as conn:
            return conn.execute(select(table).where(scope_clause(caller, "contact", "read", columns))).all()

    assert visible(_caller(Level.NONE)) == []
    assert {r.owner_id for r in visible(_caller(Level.OWN))} == {"u1"}
    assert all(r.owner_id == "u1" or r.team_id == "t1" for r in visible(_caller(Level.TEAM)))
    assert len(visible(_caller(Level.ALL))) == 4 * 4 * 3
    partner_rows = visible(_caller(Level.ALL, partner="p1"))
    assert partner_rows and {r.partner_account_id for r in partner_rows} == {"p1"}


def test_an_action_without_rights_is_permission_denied() -> None:
    with pytest.raises(PermissionDenied):
        require(_caller(Level.NONE), "contact", "delete")
    assert require(_caller(Level.TEAM), "contact", "delete") is Level.TEAM


def test_ownership_defaults_to_the_caller_and_is_bounded_by_the_level() -> None:
    own = _caller(Level.OWN, teams=("t1",))
    assert (
        assign_ownership(
            own, "contact", "create", owner_id=None, team_id=None, partner_account_id=None
        ).owner_id
        == "u1"
    )
    with pytest.raises(PermissionDenied):
        assign_ownership(own, "contact", "create", owner_id="u2", team_id=None, partner_account_id=None)
    team = _caller(Level.TEAM, teams=("t1", "t2"))
    assert (
        assign_ownership(
            team, "contact", "update", owner_id="u2", team_id="t2", partner_account_id=None
        ).team_id
        == "t2"
    )
    with pytest.raises(PermissionDenied):
        assign_ownership(team, "contact", "update", owner_id="u2", team_id="t3", partner_account_id=None)
    anyone = _caller(Level.ALL)
    assert (
        assign_ownership(
            anyone, "contact", "update", owner_id="u3", team_id="t3", partner_account_id=None
        ).owner_id
        == "u3"
    )
    partner = _caller(Level.ALL, partner="p1")
    assert (
        assign_ownership(
            partner, "contact", "create", owner_id=None, team_id=None, partner_account_id=None
        ).partner_account_id
        == "p1"
    )
    with pytest.raises(InvalidArgument):
        assign_ownership(partner, "contact", "create", owner_id=None, team_id=None, partner_account_id="p2")

"""Record-level scope, written once: caller + resource type + action -> a SQLAlchemy WHERE clause.

Every store filters its reads (get, list, count, filter, history, summaries) and its writes through
`scope_clause`, so what a caller may see is decided in the service's own query and a record out of scope
looks exactly like a record that does not exist (NOT_FOUND, never PERMISSION_DENIED: that would reveal
it). `require` answers PERMISSION_DENIED for an action the caller has no right to at any level.

The rule, in order:
1. A partner user sees only records of their own partner account, whatever their role says.
2. Then the level of the caller's rights for that type and action: `all` -> every record; `team` -> records
   whose team is one of the caller's teams, or that the caller owns; `own` -> records the caller owns;
   `none` -> nothing.
The columns are indexed in every table that carries them, so the clause stays an index lookup.

`_decide` is that rule; it has three renderings. `scope_clause` is one WHERE clause (get, count, history,
writes, and lists where the database plans an OR well). `ScopedStatements` is the same clause with bound
parameters in place of the caller's values, so a statement is built once per shape of decision and
reused with each caller's values (hot reads: building and cache-keying a statement per call was about
60% of a Get's database CPU). `scope_branches` is the same set of records as
branches, each one index range: each of a `team` caller's teams (`team_id = t`), then what the caller
owns (`owner_id = me`). A list can take the first page of each branch in its order, each a walk of that
column's (column, created_at, id) index, and the first page of those (crm_platform.resources.repository),
where SQLite plans `team_id IN (...) OR owner_id = me` as two index lookups OR-ed and every match sorted.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from threading import Lock
from typing import Any, Generic, TypeVar

from sqlalchemy import BindParameter, ColumnElement, Connection, Executable, and_, bindparam, false, or_, true

from crm_platform.access.caller import CallerContext
from crm_platform.access.rights import Level, resource_type
from crm_platform.errors import InvalidArgument, PermissionDenied


@dataclass(frozen=True)
class OwnershipColumns:
    """The columns of a table that scope decides on."""

    owner_id: Any
    team_id: Any
    partner_account_id: Any | None = None


@dataclass(frozen=True)
class _Decision:
    """What the rule decided for one caller, type and action (None from `_decide`: nothing)."""

    partner_account_id: str | None  # a partner user: only this account's records
    owner_id: str | None  # `own` / `team`: the records this caller owns (None: every record)
    team_ids: tuple[str, ...]  # `team`: and the records of these teams (distinct, in order)


def _decide(
    caller: CallerContext, type_name: str, action: str, columns: OwnershipColumns
) -> _Decision | None:
    level = caller.level(type_name, action)
    if level is Level.NONE:
        return None
    partner = None
    if caller.is_partner:
        if columns.partner_account_id is None or not resource_type(type_name).partner_scoped:
            return None
        partner = caller.partner_account_id
    if level is Level.OWN:
        return _Decision(partner, caller.subject, ())
    if level is Level.TEAM:
        return _Decision(partner, caller.subject, tuple(dict.fromkeys(caller.team_ids)))
    return _Decision(partner, None, ())


def _partner_clauses(decision: _Decision, columns: OwnershipColumns) -> list[ColumnElement[bool]]:
    if decision.partner_account_id is None:
        return []
    return [columns.partner_account_id == decision.partner_account_id]


def scope_clause(
    caller: CallerContext, type_name: str, action: str, columns: OwnershipColumns
) -> ColumnElement[bool]:
    decision = _decide(caller, type_name, action, columns)
    if decision is None:
        return false()
    return _render(decision.partner_account_id, decision.owner_id, decision.team_ids, columns)


def _render(
    partner: Any | None, owner: Any | None, teams: tuple[Any, ...], columns: OwnershipColumns
) -> ColumnElement[bool]:
    """The clause of a decision whose values are literals or bound parameters (None: no such condition)."""
    clauses: list[ColumnElement[bool]] = []
    if partner is not None:
        clauses.append(columns.partner_account_id == partner)
    if owner is not None:
        mine = columns.owner_id == owner
        clauses.append(or_(columns.team_id.in_(teams), mine) if teams else mine)
    if not clauses:
        return true()
    return and_(*clauses) if len(clauses) > 1 else clauses[0]


@dataclass(frozen=True)
class _Shape:
    """A decision without its values: what a reusable statement depends on."""

    nothing: bool
    partner: bool
    owner: bool
    teams: int


_NOTHING = _Shape(True, False, False, 0)
_MEMO = "scope shape"  # the first part of the keys this module keeps in CallerContext.memo
_EVERYTHING = _Shape(False, False, False, 0)  # also: no caller (trusted internal code)
_S = TypeVar("_S", bound=Executable)


class ScopedStatements(Generic[_S]):
    """Statements narrowed by scope, built once per shape of decision (and `variant`: what else the caller
    of `statement` varies, e.g. whether a cursor is given) and run with each caller's values.

    `build(scope, variant)` makes the statement around the scope clause; its own parameters are bound by
    name at execution, beside the scope's (`scope_partner`, `scope_owner`, `scope_team_<n>`). Shapes are
    few (the number of teams is the only open dimension, and callers are in a handful of teams), so the
    cache needs no bound beyond that.
    """

    def __init__(
        self,
        build: Callable[[ColumnElement[bool], Hashable], _S],
        type_name: str,
        action: str,
        columns: OwnershipColumns | None,
    ) -> None:
        self._build = build
        self._type_name = type_name
        self._action = action
        self._columns = columns
        self._built: dict[tuple[_Shape, Hashable], _S] = {}
        self._lock = Lock()

    def statement(self, caller: CallerContext | None, variant: Hashable = None) -> tuple[_S, dict[str, Any]]:
        """The statement for `caller` and its scope's parameters (no caller, or a table without ownership
        columns: unscoped)."""
        shape, values = self._shape(caller)
        key = (shape, variant)
        built = self._built.get(key)
        if built is None:
            with self._lock:
                built = self._built.get(key)
                if built is None:
                    built = self._built[key] = self._build(self._clause(shape), variant)
        return built, dict(values)  # the caller's to add its own parameters to

    def _shape(self, caller: CallerContext | None) -> tuple[_Shape, dict[str, Any]]:
        """The caller's shape and values for this type and action; decided once per caller context (a
        contact's overview asks some fifteen of them per call), kept in its memo. The values are shared
        through that memo: read them, never change them."""
        if caller is None or self._columns is None:
            return _EVERYTHING, {}
        key = (_MEMO, self._type_name, self._action, self._columns.partner_account_id is None)
        found = caller.memo.get(key)
        if found is None:
            found = caller.memo[key] = self._decide_shape(caller, self._columns)
        return found

    def _decide_shape(
        self, caller: CallerContext, columns: OwnershipColumns
    ) -> tuple[_Shape, dict[str, Any]]:
        decision = _decide(caller, self._type_name, self._action, columns)
        if decision is None:
            return _NOTHING, {}
        values: dict[str, Any] = {}
        if decision.partner_account_id is not None:
            values["scope_partner"] = decision.partner_account_id
        if decision.owner_id is not None:
            values["scope_owner"] = decision.owner_id
        for n, team in enumerate(decision.team_ids):
            values[f"scope_team_{n}"] = team
        partner, owner = decision.partner_account_id is not None, decision.owner_id is not None
        return _Shape(False, partner, owner, len(decision.team_ids)), values

    def _clause(self, shape: _Shape) -> ColumnElement[bool]:
        if shape.nothing:
            return false()
        if self._columns is None or shape == _EVERYTHING:
            return true()
        param: Callable[[str], BindParameter[Any]] = bindparam
        return _render(
            param("scope_partner") if shape.partner else None,
            param("scope_owner") if shape.owner else None,
            tuple(param(f"scope_team_{n}") for n in range(shape.teams)),
            self._columns,
        )


class MultiScopedStatements(Generic[_S]):
    """`ScopedStatements` for one statement that scopes several resource types at once (a contact's
    overview counting its interactions and its companies in one SELECT): built once per combination of
    their shapes. `scopes` names each scope: label -> (resource type, action, ownership columns); `build`
    gets label -> clause. The scopes share their parameters (`scope_partner`, `scope_owner`,
    `scope_team_<n>`): each is the caller's own, whatever the type, and a type only decides which of
    them its clause uses."""

    def __init__(
        self,
        build: Callable[[dict[str, ColumnElement[bool]]], _S],
        scopes: dict[str, tuple[str, str, OwnershipColumns]],
    ) -> None:
        self._build = build
        self._scopes = {
            label: ScopedStatements(_unbuilt, type_name, action, columns)
            for label, (type_name, action, columns) in scopes.items()
        }
        self._built: dict[tuple[_Shape, ...], _S] = {}
        self._lock = Lock()

    def statement(self, caller: CallerContext | None) -> tuple[_S, dict[str, Any]]:
        """The statement for `caller` and the parameters of its scopes (shared: read, never change)."""
        key, values = self._shapes(caller)
        built = self._built.get(key)
        if built is None:
            with self._lock:
                built = self._built.get(key)
                if built is None:
                    clauses = {
                        label: scoped._clause(shape)
                        for (label, scoped), shape in zip(self._scopes.items(), key, strict=True)
                    }
                    built = self._built[key] = self._build(clauses)
        return built, values

    def _shapes(self, caller: CallerContext | None) -> tuple[tuple[_Shape, ...], dict[str, Any]]:
        """Each scope's shape and their values together, kept in the caller's memo (read, never change)."""
        memo_key = (_MEMO, self)
        found = caller.memo.get(memo_key) if caller is not None else None
        if found is None:
            shapes, values = [], {}
            for scoped in self._scopes.values():
                shape, scope_values = scoped._shape(caller)
                shapes.append(shape)
                values.update(scope_values)
            found = (tuple(shapes), values)
            if caller is not None:
                caller.memo[memo_key] = found
        return found

    def execute(self, connection: Connection, caller: CallerContext | None, **parameters: Any) -> Any:
        """Runs the statement for `caller` on `connection` with `parameters` and its scope's values."""
        query, values = self.statement(caller)
        return connection.execute(query, {**parameters, **values})


def _unbuilt(_scope: ColumnElement[bool], _variant: Hashable) -> Any:
    raise AssertionError("a MultiScopedStatements part only decides shapes")


# Past this many teams, the teams share one `team_id IN (...)` branch (still exact; SQLite allows 500
# UNION members, and that many sorted subqueries would cost more than one unordered range).
MAX_TEAM_BRANCHES = 32


def scope_branches(
    caller: CallerContext, type_name: str, action: str, columns: OwnershipColumns
) -> list[ColumnElement[bool]]:
    """The records of `scope_clause` as branches, each one index range (none: nothing; one: no split):
    a `team` caller's teams one by one, then the records they own. Each branch holds only records in
    scope and together they hold them all; they overlap where an owned record is in one of the teams,
    so whoever merges them keeps each record once. For lists, which take the first N of each branch in
    the list's order and the first N of those (crm_platform.resources.repository)."""
    decision = _decide(caller, type_name, action, columns)
    if decision is None:
        return []
    partner = _partner_clauses(decision, columns)
    if decision.owner_id is None:
        return [partner[0] if partner else true()]
    branches: list[ColumnElement[bool]] = []
    teams = decision.team_ids
    if len(teams) > MAX_TEAM_BRANCHES:
        branches.append(columns.team_id.in_(teams))
    else:
        branches += [columns.team_id == team for team in teams]
    branches.append(columns.owner_id == decision.owner_id)
    return [and_(*partner, branch) if partner else branch for branch in branches]


def require(caller: CallerContext, type_name: str, action: str) -> Level:
    """The caller's level for the action; PERMISSION_DENIED when it is `none`."""
    level = caller.level(type_name, action)
    if level is Level.NONE:
        raise PermissionDenied(f"you may not {action} {type_name} records")
    return level


def in_scope(caller: CallerContext, type_name: str, action: str, record: Any) -> bool:
    """The same rule as `scope_clause`, for a record already loaded (attributes owner_id, team_id and,
    when the type is partner-scoped, partner_account_id)."""
    level = caller.level(type_name, action)
    if level is Level.NONE:
        return False
    if caller.is_partner and getattr(record, "partner_account_id", None) != caller.partner_account_id:
        return False
    if level is Level.OWN:
        return record.owner_id == caller.subject
    if level is Level.TEAM:
        return record.owner_id == caller.subject or record.team_id in caller.team_ids
    return True


@dataclass(frozen=True)
class Ownership:
    owner_id: str | None
    team_id: str | None
    partner_account_id: str | None


def assign_ownership(
    caller: CallerContext,
    type_name: str,
    action: str,
    *,
    owner_id: str | None,
    team_id: str | None,
    partner_account_id: str | None,
) -> Ownership:
    """The ownership a created (action `create`) or reassigned (`update`) record gets: what the caller asked
    for, defaulting to the caller and their primary team; refused beyond the caller's level.

    `own` may only assign to themselves; `team` to themselves or one of their teams (a service cannot
    check another user's team membership, so a `team` caller keeps the team it names among its own);
    `all` to anyone. Partner users' records always belong to their partner account.
    """
    level = require(caller, type_name, action)
    owner = owner_id or (caller.subject if caller.kind == "user" else None)
    team = team_id or caller.primary_team_id
    if caller.is_partner:
        if partner_account_id not in (None, caller.partner_account_id):
            raise InvalidArgument(
                "a partner user's records belong to their own partner account",
                {"partner_account_id": "must be your own partner account or left out"},
            )
        partner_account_id = caller.partner_account_id
    if level is Level.OWN and owner != caller.subject:
        raise PermissionDenied(f"you may only {action} {type_name} records you own")
    if level is Level.TEAM and owner != caller.subject and team not in caller.team_ids:
        raise PermissionDenied(f"you may only {action} {type_name} records of your teams")
    if level is Level.TEAM and team is not None and team not in caller.team_ids:
        raise PermissionDenied(f"you may only assign {type_name} records to your own teams")
    return Ownership(owner, team, partner_account_id)

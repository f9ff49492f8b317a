"""The authorization matrix, generated from the route table (issue 8's headline test).

Every REST route the gateway serves (the transcoded ones, walked from the descriptor set it loaded, and
its own Flask routes under /api/v1) is called over real HTTP by every caller (one per built-in role,
a rep of another team, users of two partner accounts, the bootstrap admin) and the answer is compared
with the oracle, crm_platform.access: effective rights are the union of the roles' built-in rights,
and a record is visible per `in_scope` (partner boundary first, then own/team/all). Out of scope is 404
(existence is not revealed), readable but beyond the action's level is 403.

Resources nested below another's record (a contact's interactions) are found by shape too and checked
like top-level ones below every parent: a nested record is visible only when its parent is readable as
well, and takes its parent's partner account. Other routes below a record (a contact's timeline and
companies, a company's people) answer 404 for a record out of scope, and for one in scope show nothing
of any record the caller may not read; writes there change the record (read and update rights on it,
and read rights on every record they name).

Every mismatch is collected and reported together, so one run shows the whole picture. Cases of a known
bug (KNOWN_BUGS) are checked and counted the same, but fail in that bug's own strict xfail test.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from crm_platform.access import ACTIONS, Level, resource_types
from gateway.customer360 import SECTION_RESOURCES, SECTIONS
from gateway.transcoding.contracts import PLATFORM_CONTRACTS, Contracts
from gateway.transcoding.rules import Route, routes_of

from .conftest import World
from .matrix import (
    OWNERSHIP_FIELDS,
    Caller,
    Record,
    ResourceRoutes,
    can_read,
    expected_assignment,
    expected_change,
    expected_nested_create,
    expected_nested_write,
    expected_write,
    fill,
    harmless_change,
    listed_fields,
    named_records,
    referenced_type,
    references,
    resources_of,
    sample_create_body,
    sample_write_body,
)

TIMEOUT = 10
# Identity routes every signed-in user may call (issue 8: "/me" for everyone, own password change).
FOR_EVERYONE = {("GET", "/api/v1/me"), ("POST", "/api/v1/me:change-password")}
# Partner accounts are readable by staff; a partner user reads only their own (404 for the others).
STAFF_READ = {("GET", "/api/v1/partner-accounts"), ("GET", "/api/v1/partner-accounts/<account_id>")}
# Customer views keyed by a contact: scoped by the contact (checked per record, not as identity routes).
CUSTOMER_VIEW = re.compile(r"<contact_id>")


@dataclass
class Checks:
    """Every (route, caller, case) compared with the oracle, and the mismatches."""

    counted: Counter[str] = field(default_factory=Counter)
    routes: set[str] = field(default_factory=set)
    callers: set[str] = field(default_factory=set)
    callers_of: dict[str, set[str]] = field(default_factory=dict)  # route -> who was checked on it
    leaks: list[str] = field(default_factory=list)
    # route -> expected status -> how many checks expected it: shows the matrix is not all one answer.
    outcomes: dict[str, Counter[int]] = field(default_factory=dict)
    # Known bugs (KNOWN_BUGS): bug -> the checks of its cases that failed, and how many were made.
    known: dict[str, list[str]] = field(default_factory=dict)
    known_checked: Counter[str] = field(default_factory=Counter)

    def expect(
        self,
        route: str,
        caller: Caller | None,
        case: str,
        ok: bool,
        detail: str = "",
        outcome: int = 0,
        bug: str = "",
    ) -> None:
        """One check; `outcome` is the status the oracle expects, 0 for a check of an answer's content
        (for the per-route summary). A check of a case a known bug (KNOWN_BUGS) breaks is counted like
        any other, but its failure is the bug's (its own strict xfail test), not the matrix's."""
        who = caller.name if caller else "anonymous"
        self.counted[route] += 1
        self.routes.add(route)
        self.callers.add(who)
        self.callers_of.setdefault(route, set()).add(who)
        self.outcomes.setdefault(route, Counter())[outcome] += 1
        if bug:
            self.known_checked[bug] += 1
            self.known.setdefault(bug, [])
        if not ok:
            (self.known[bug] if bug else self.leaks).append(f"{route} as {who}: {case}: {detail}")

    def status(
        self, route: str, caller: Caller | None, case: str, reply: requests.Response, expected: set[int] | int
    ) -> bool:
        wanted = {expected} if isinstance(expected, int) else expected
        ok = reply.status_code in wanted
        detail = f"expected {sorted(wanted)}, got {reply.status_code} {reply.text[:200]}"
        self.expect(route, caller, case, ok, detail, outcome=min(wanted))
        return ok

    @property
    def total(self) -> int:
        return sum(self.counted.values())


def _case(record: Record | None) -> tuple[Any, ...]:
    if record is None:
        return ()
    return (record.owner_id, record.team_id, record.partner_account_id, _case(record.parent))


def representatives(records: Iterable[Record]) -> list[Record]:
    """One record per ownership (owner, team, partner account; and its parent's, for a nested record):
    to the oracle, records that share it are the same case, so the costlier checks (customer views,
    per-record filters, nested records' reads and writes) run once per case."""
    seen: dict[tuple[Any, ...], Record] = {}
    for record in records:
        seen.setdefault(_case(record), record)
    return list(seen.values())


def _relation(caller: Caller, record: Record | None) -> tuple[Any, ...]:
    """What the oracle knows of a record when `caller` acts on it: whether the caller owns it, whether
    its team is one of the caller's, whether it is of the caller's partner account (each also: unset),
    whether it is archived; and the same of the record it is nested below."""
    if record is None:
        return ()
    partner = record.partner_account_id
    return (
        record.owner_id is None,
        record.owner_id == caller.user_id,
        record.team_id is None,
        record.team_id in caller.team_ids,
        None if partner is None else partner == caller.partner_account_id,
        record.archived,
        _relation(caller, record.parent),
    )


def as_seen_by(caller: Caller, records: Iterable[Record], keep: Record | None = None) -> list[Record]:
    """One record per relation to `caller` (and `keep`, if among them): the oracle decides by rights
    and that relation only, so records that share it are one case for this caller. The per-record
    checks of every caller (reads, updates, custom methods, deletes, the routes below a record) run on
    these: each case of each caller, instead of every record for every caller (a third of the matrix's
    requests)."""
    chosen: dict[tuple[Any, ...], Record] = {}
    for record in records:
        chosen.setdefault(_relation(caller, record), record)
    picked = list(chosen.values())
    if keep is not None and keep not in picked and any(r is keep for r in records):
        picked.append(keep)
    return picked


def spread(records: Iterable[Record], most: int = 10) -> list[Record]:
    """Live records that between them have every owner, team and partner account the records have
    (at most `most`): the parents nested records are made below."""
    chosen: list[Record] = []
    seen: set[tuple[str, str | None]] = set()
    for record in representatives(r for r in records if not r.archived):
        values = {
            ("owner", record.owner_id),
            ("team", record.team_id),
            ("partner", record.partner_account_id),
        }
        if values - seen and len(chosen) < most:
            chosen.append(record)
            seen |= values
    return chosen


def _label(route: Route) -> str:
    return f"{route.http_method} {route.template}"


def _path(route: Route, record: Record | str) -> str:
    """The route's URL for one record: its parent's id then its own for a nested record's route, the
    id in every variable for a top-level one's (or a made-up id for no record)."""
    return fill(route.openapi_path, record.chain if isinstance(record, Record) else [record])


def _missing_parent(parent: Record) -> Record:
    """A record where `parent` is, that does not exist (a nested collection's path below nothing)."""
    return Record(parent.resource, "no-such-id", {}, parent.parent)


class Api:
    """HTTP as one caller (or nobody)."""

    def __init__(self, world: World, caller: Caller | None) -> None:
        self.base = world.url
        self.caller = caller
        self.http = world.http(caller)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, f"{self.base}{path}", timeout=TIMEOUT, **kwargs)

    def list_ids(self, path: str, params: dict[str, Any], limit: int) -> tuple[int, list[str], str]:
        """Every id of a list, following next_cursor; (status of the failing page or 200, ids, body)."""
        status, items, text = self.list_items(path, params, limit)
        return status, [item["id"] for item in items], text if status != 200 else ""

    def list_items(
        self, path: str, params: dict[str, Any], limit: int, paged: bool = True
    ) -> tuple[int, list[Any], str]:
        """Every item of a list, following next_cursor; (status of the failing page or 200, items, the
        failing page's body or every page's text). A list that is not paged (no `limit` and `cursor` in
        its request: a contact's current consents) is asked once, without them: the gateway answers a
        query parameter the request does not have with a 400."""
        items: list[Any] = []
        cursor, texts = "", []
        for _ in range(500):
            query = {**params, **({"limit": limit} if paged else {})}
            if cursor:
                query["cursor"] = cursor
            reply = self.call("GET", path, params=query)
            if reply.status_code != 200:
                return reply.status_code, items, reply.text[:200]
            texts.append(reply.text)
            body = reply.json()
            items.extend(body["items"])
            cursor = body.get("next_cursor") or ""
            if not cursor:
                return 200, items, "".join(texts)
        raise AssertionError(f"{path} {params}: the cursor never ends")


# --- the route table ------------------------------------------------------------------------------


def _transcoded(world: World) -> list[Route]:
    return [served.route for served in world.app.extensions["crm_gateway"].routes]


def _gateway_rules(world: World) -> list[tuple[str, str]]:
    """(method, rule) of the gateway's own routes under /api/v1 that need a token."""
    transcoded = {(r.http_method, r.flask_rule) for r in _transcoded(world)}
    found = []
    for rule in world.app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = world.app.view_functions[rule.endpoint]
        if getattr(view, "is_public", False):
            continue  # sign-in and the OpenAPI document: no caller to authorize
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if (method, rule.rule) not in transcoded:
                found.append((method, rule.rule))
    return sorted(found)


def _fill(rule: str, values: dict[str, str]) -> str:
    # A variable the matrix has no target for gets an id that names nothing: still a refusal to check.
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: values.get(m.group(1), "no-such-id"), rule)


# --- the checks -----------------------------------------------------------------------------------


def check_unauthenticated(world: World, checks: Checks) -> None:
    nobody = Api(world, None)
    for route in _transcoded(world):
        reply = nobody.call(route.http_method, _path(route, "some-id"), json={} if route.body else None)
        checks.status(_label(route), None, "no token", reply, 401)
    for method, rule in _gateway_rules(world):
        reply = nobody.call(method, _fill(rule, world.victims), json={} if method != "GET" else None)
        checks.status(f"{method} {rule}", None, "no token", reply, 401)


def check_me(world: World, checks: Checks) -> None:
    """/me works for everyone and says what the oracle says the caller may do."""
    for caller in world.everyone:
        reply = Api(world, caller).call("GET", "/api/v1/me")
        if not checks.status("GET /api/v1/me", caller, "read /me", reply, 200):
            continue
        body = reply.json()
        context = caller.context
        # A type a custom role leaves out is absent from /me rather than "none" (built-in roles list
        # every type); both mean no right, so absent reads as "none" here.
        said = {t: {a: body["rights"].get(t, {}).get(a, "none") for a in ACTIONS} for t in resource_types()}
        wrong = [
            f"{t}.{a}: {said[t][a]} != {context.level(t, a).label}"
            for t in resource_types()
            for a in ACTIONS
            if said[t][a] != context.level(t, a).label
        ]
        checks.expect(
            "GET /api/v1/me", caller, "effective rights = union of the roles", not wrong, str(wrong[:5])
        )
        partner = (body.get("partner_account") or {}).get("id")
        same = (
            body["id"] == caller.user_id
            and partner == caller.partner_account_id
            and [t["id"] for t in body["teams"]] == list(caller.team_ids)
        )
        checks.expect("GET /api/v1/me", caller, "who I am", same, str(body)[:300])


def create_records(
    world: World, checks: Checks, resource: ResourceRoutes, serial: Iterable[int]
) -> list[Record]:
    """Create as every caller: with default ownership and asking for someone else's owner, team or
    partner account. Status and resulting ownership per the oracle; what was created seeds the matrix."""
    assert resource.create is not None
    route, created = resource.create, []
    rep_b, p1, p2 = world.callers["sales_rep_b"], world.partners["P1"], world.partners["P2"]
    serials = iter(serial)
    for caller in world.everyone:
        other_partner = p2 if caller.partner_account_id == p1 else p1
        variants: list[tuple[str, dict[str, str]]] = [
            ("default ownership", {}),
            ("owner: a rep of another team", {"owner_id": rep_b.user_id}),
            ("team: another team", {"team_id": world.teams["B"]}),
            ("partner: another partner account", {"partner_account_id": other_partner}),
        ]
        if caller is world.admin:  # a spread of owners, teams and partners nobody else could make
            a_rep = world.callers["sales_rep"].user_id
            variants += [
                (
                    "partner P1 customer, staff owner",
                    {"owner_id": a_rep, "team_id": world.teams["A"], "partner_account_id": p1},
                ),
                (
                    "partner P2 customer, partner owner",
                    {"owner_id": world.callers["partner_p2"].user_id, "partner_account_id": p2},
                ),
                (
                    "team B, a team A owner",
                    {"owner_id": world.callers["sales_rep_a2"].user_id, "team_id": world.teams["B"]},
                ),
            ]
        for case, asked in variants:
            asked = {k: v for k, v in asked.items() if k in route.request.fields_by_name}
            status, ownership = expected_assignment(caller, resource.type_name, "create", asked)
            body = {**sample_create_body(route, next(serials)), **asked}
            reply = Api(world, caller).call("POST", resource.collection, json=body)
            checks.status(_label(route), caller, f"create, {case}", reply, status)
            if reply.status_code != 201:
                continue
            got = reply.json()
            created.append(Record(resource.type_name, got["id"], got))
            if ownership is not None:
                actual = tuple(got.get(name) for name in OWNERSHIP_FIELDS if resource.has(name))
                wanted = tuple(getattr(ownership, name) for name in OWNERSHIP_FIELDS if resource.has(name))
                checks.expect(
                    _label(route),
                    caller,
                    f"create, {case}: ownership",
                    actual == wanted,
                    f"{actual} != {wanted}",
                )
    return created


def create_nested_records(
    world: World, checks: Checks, resource: ResourceRoutes, parents: list[Record], serial: Iterable[int]
) -> list[Record]:
    """Create below parents of every ownership, as every caller: with default ownership below each, and
    asking for someone else's owner, team or partner account below one parent the caller may read and
    one they may not. Status and ownership per the oracle (expected_nested_create); below a parent out
    of scope, the answer must be the one for a parent that does not exist."""
    assert resource.create is not None
    route, label, created = resource.create, _label(resource.create), []
    rep_b, p1, p2 = world.callers["sales_rep_b"], world.partners["P1"], world.partners["P2"]
    serials = iter(serial)
    for caller in world.everyone:
        api = Api(world, caller)
        other_partner = p2 if caller.partner_account_id == p1 else p1
        readable = [p for p in parents if can_read(caller, p)]
        hidden = [p for p in parents if not can_read(caller, p)]
        cases: list[tuple[Record, str, dict[str, str]]] = [(p, "default ownership", {}) for p in parents]
        for parent in readable[:1] + hidden[:1]:
            cases += [
                (parent, "owner: a rep of another team", {"owner_id": rep_b.user_id}),
                (parent, "team: another team", {"team_id": world.teams["B"]}),
                (parent, "partner: another partner account", {"partner_account_id": other_partner}),
            ]
            if parent.partner_account_id:
                cases.append(
                    (parent, "partner: the parent's", {"partner_account_id": parent.partner_account_id})
                )
        if caller is world.admin:  # owners and teams the others cannot give, below every parent
            a2 = world.callers["sales_rep_a2"].user_id
            cases += [
                (p, "team B, a team A owner", {"owner_id": a2, "team_id": world.teams["B"]}) for p in parents
            ]
            cases += [(p, "owner: a rep of another team", {"owner_id": rep_b.user_id}) for p in parents]
        missing_answers: dict[str, int] = {}
        for parent, case, asked in cases:
            asked = {k: v for k, v in asked.items() if k in route.request.fields_by_name}
            statuses, ownership = expected_nested_create(caller, resource.type_name, parent, asked)
            body = {**sample_create_body(route, next(serials)), **asked}
            reply = api.call("POST", resource.collection_path(parent), json=body)
            checks.status(label, caller, f"create below {parent.id}, {case}", reply, statuses)
            if not can_read(caller, parent):
                if case not in missing_answers:
                    nowhere = resource.collection_path(_missing_parent(parent))
                    missing_answers[case] = api.call("POST", nowhere, json=body).status_code
                checks.expect(
                    label,
                    caller,
                    f"create below {parent.id} (out of scope), {case}: as below no parent",
                    reply.status_code == missing_answers[case],
                    f"{reply.status_code} != {missing_answers[case]}",
                    outcome=404,
                )
            if reply.status_code != 201:
                continue
            got = reply.json()
            created.append(Record(resource.type_name, got["id"], got, parent))
            if ownership is not None:
                actual = tuple(got.get(name) or None for name in OWNERSHIP_FIELDS if resource.has(name))
                wanted = tuple(getattr(ownership, name) for name in OWNERSHIP_FIELDS if resource.has(name))
                checks.expect(
                    label,
                    caller,
                    f"create below {parent.id}, {case}: ownership",
                    actual == wanted,
                    f"{actual} != {wanted}",
                )
    return created


def check_reassignments(
    world: World, checks: Checks, resource: ResourceRoutes, created: list[Record]
) -> None:
    """Reassigning a record's owner, then its team: needs update rights covering the new assignment."""
    if resource.update is None:
        return
    route = resource.update
    for caller in world.everyone:
        own = [
            r
            for r in created
            if r.owner_id == caller.user_id and r.body.get("team_id") in (caller.team_ids or (None,))
        ]
        if not own:
            continue
        record = own[0]
        other_partner = world.partners["P2" if caller.partner_account_id == world.partners["P1"] else "P1"]
        # The owner last: once it is gone, an `own` caller meets the 404/403 side of the rule too.
        changes = [
            ("partner_account_id", other_partner),
            ("team_id", world.teams["B"]),
            ("owner_id", world.callers["sales_rep_b"].user_id),
        ]
        for name, value in changes:
            if not resource.has(name):
                continue
            status = expected_change(caller, record, name, value)
            reply = Api(world, caller).call("PATCH", _path(route, record), json={name: value})
            checks.status(_label(route), caller, f"reassign {name} of a record I own", reply, status)
            if reply.status_code == 200:
                record.body = reply.json()


def ground_truth(
    world: World, resource: ResourceRoutes, parents: Iterable[Record | None] = (None,)
) -> dict[str, Record]:
    """Every record as the bootstrap admin (level `all`, no partner) sees it (below each of `parents`,
    for a nested resource)."""
    assert resource.listing is not None and resource.get is not None
    api = Api(world, world.admin)
    truth = {}
    for parent in parents:
        status, ids, text = api.list_ids(resource.collection_path(parent), {}, 200)
        assert status == 200, text
        for record_id in ids:
            record = Record(resource.type_name, record_id, {}, parent)
            reply = api.call("GET", _path(resource.get, record))
            assert reply.status_code == 200, (record_id, reply.text[:200])
            record.body = reply.json()
            truth[record_id] = record
    return truth


def check_records(
    world: World, checks: Checks, resource: ResourceRoutes, records: list[Record]
) -> dict[str, str]:
    """Get, History and a harmless Update by every caller, of a record of each relation it has to them
    (as_seen_by); returns the value the changed field must now have per record (refused updates must
    have changed nothing)."""
    changed: dict[str, str] = {}
    serial = 0
    for caller in world.everyone:
        api = Api(world, caller)
        for record in as_seen_by(caller, records):
            readable = can_read(caller, record)
            if resource.get:
                reply = api.call("GET", _path(resource.get, record))
                if (
                    checks.status(
                        _label(resource.get), caller, f"get {record.id}", reply, 200 if readable else 404
                    )
                    and readable
                ):
                    got = reply.json()
                    same = all(got.get(n) == record.body.get(n) for n in ("id", *OWNERSHIP_FIELDS))
                    checks.expect(
                        _label(resource.get), caller, f"get {record.id}: the record", same, str(got)[:200]
                    )
            if resource.history:
                reply = api.call("GET", _path(resource.history, record))
                if (
                    checks.status(
                        _label(resource.history),
                        caller,
                        f"history {record.id}",
                        reply,
                        200 if readable else 404,
                    )
                    and readable
                ):
                    mine = all(e["resource_id"] == record.id for e in reply.json()["items"])
                    checks.expect(
                        _label(resource.history), caller, f"history {record.id}: its own entries", mine
                    )
            if resource.update:
                serial += 1
                change = harmless_change(resource.message, serial)
                expected = expected_write(caller, record, "update")
                reply = api.call("PATCH", _path(resource.update, record), json=change)
                checks.status(
                    _label(resource.update), caller, f"update {record.id} {change}", reply, expected
                )
                if expected == 200:
                    changed[record.id] = next(iter(change.values()))
    return changed


def check_lists(
    world: World,
    checks: Checks,
    resource: ResourceRoutes,
    records: list[Record],
    parents: list[Record | None] | None = None,
    turn: int = 0,
) -> None:
    """Lists hold exactly the records in scope, through paging, every order and filters that name
    records out of scope; a cursor is no good to another caller. A nested resource is listed below a
    parent of every case (_parent_cases): below one out of the caller's scope that is a 404; the orders,
    filters and cursors are tried below the parents where the caller sees the most and misses the most.
    `turn` (the resource's place in the route table) picks who replays whose cursor (_replayers) and
    which way each caller's orders run (check_list_views)."""
    if resource.listing is None:
        return
    label = _label(resource.listing)
    live = [r for r in records if not r.archived]
    below: dict[str | None, list[Record]] = {}
    for record in live:
        below.setdefault(record.parent.id if record.parent else None, []).append(record)
    scopes = parents if parents is not None else [None]
    first_pages: list[tuple[Caller, Record | None, str]] = []
    for caller in world.everyone:
        api = Api(world, caller)
        readable = [_key(p) for p in scopes if p is None or can_read(caller, p)]

        def seen(key: str | None, caller: Caller = caller) -> int:
            return sum(can_read(caller, r) for r in below.get(key, []))

        def missed(key: str | None, caller: Caller = caller) -> int:
            return sum(not can_read(caller, r) for r in below.get(key, []))

        # Where the heavier checks run: the parent below which the caller misses the most records, and
        # the one below which they see the most.
        focus = {max(readable, key=missed), max(readable, key=seen)} if readable else set()
        for parent in _parent_cases(caller, scopes, below, focus):
            path = resource.collection_path(parent)
            where = f" below {parent.id}" if parent else ""
            if _key(parent) not in readable:
                reply = api.call("GET", path, params={"limit": 3})
                checks.status(label, caller, f"list{where} (out of scope)", reply, 404)
                continue
            mine = below.get(_key(parent), [])
            visible = [r for r in mine if can_read(caller, r)]
            expected = {r.id for r in visible}
            status, ids, text = api.list_ids(path, {}, 3)
            checks.expect(
                label,
                caller,
                f"list{where}, pages of 3",
                status == 200 and set(ids) == expected and len(ids) == len(set(ids)),
                _diff(status, ids, expected, text),
            )
            if _key(parent) not in focus:
                continue
            check_list_views(world, checks, resource, caller, path, where, mine, turn)
            reply = api.call("GET", path, params={"limit": 1})
            cursor = reply.json().get("next_cursor") if reply.status_code == 200 else None
            if cursor:
                first_pages.append((caller, parent, cursor))
    # Replaying another caller's cursor (or one minted below another parent): refused, or at least
    # nothing the replayer may not see there. Each cursor is replayed by a few other callers (a
    # different few for each resource), and every caller replays at least one cursor of this list.
    replayers = [_replayers(world.everyone, minted_by, turn) for minted_by, _, _ in first_pages]
    for caller in world.everyone:
        if not any(caller in chosen for chosen in replayers):
            mints = [i for i, (minted_by, _, _) in enumerate(first_pages) if minted_by is not caller]
            if mints:
                replayers[mints[0]].append(caller)
    for (minted_by, parent, cursor), chosen in zip(first_pages, replayers, strict=True):
        replays = [(caller, parent) for caller in chosen]
        replays += [(minted_by, other) for other in scopes if _key(other) != _key(parent)][:2]
        for caller, where in replays:
            visible = {r.id for r in below.get(_key(where), []) if can_read(caller, r)}
            path = resource.collection_path(where)
            status, ids, text = Api(world, caller).list_ids(path, {"cursor": cursor}, 1)
            gone = where is not None and not can_read(caller, where)
            ok = status == 400 or (gone and status == 404) or (status == 200 and set(ids) <= visible)
            mint = f"{minted_by.name}" + (f" below {parent.id}" if parent else "")
            checks.expect(
                label,
                caller,
                f"list{f' below {where.id}' if where else ''}, cursor minted for {mint}",
                ok,
                _diff(status, ids, visible, text),
            )


def _key(record: Record | None) -> str | None:
    return record.id if record else None


# How many other callers replay each cursor a list hands out (check_lists).
REPLAYERS = 3


def _replayers(everyone: list[Caller], minted_by: Caller, turn: int) -> list[Caller]:
    """REPLAYERS of the callers other than `minted_by`, the next few along for each `turn`: over any
    four consecutive resources, every caller replays the cursors of every other (the cursor is bound to
    its caller by one function, crm_platform.listing.page, the same for every list)."""
    at = next(i for i, c in enumerate(everyone) if c is minted_by)
    others = everyone[at + 1 :] + everyone[:at]
    start = turn * REPLAYERS
    return [others[(start + j) % len(others)] for j in range(min(REPLAYERS, len(others)))]


def _parent_cases(
    caller: Caller, scopes: list[Record | None], below: dict[str | None, list[Record]], keep: set[str | None]
) -> list[Record | None]:
    """The parents a nested list is checked below for `caller`: one per case, that is the parent's
    relation to the caller (as_seen_by), its live records' relations, and how many it has (0 to 3, or a
    page of 3 and more); and every parent in `keep`. To the oracle, parents of one case are the same
    (most have no record below them at all). A top-level list (below nothing) is its own case."""
    chosen: dict[tuple[Any, ...], Record | None] = {}
    for parent in scopes:
        if parent is None:
            return scopes
        mine = below.get(parent.id, [])
        case = (_relation(caller, parent), frozenset(_relation(caller, r) for r in mine), min(len(mine), 4))
        chosen.setdefault(case, parent)
    picked = list(chosen.values())
    picked += [p for p in scopes if p is not None and p.id in keep and p not in picked]
    return picked


def _values_by_case(caller: Caller, name: str, records: Iterable[Record]) -> list[str | None]:
    """One value of the field `name` per case for `caller`: whether it is unset or the caller's own (their
    id, one of their teams, their partner account), and the relations to the caller (as_seen_by) of the
    records that have it. A filter on a value finds the records that have it; which of those the
    caller may see, the oracle decides by relation alone, so values of one case are one check."""
    having: dict[str | None, list[Record]] = {}
    for record in records:
        having.setdefault(record.body.get(name) or None, []).append(record)
    own = {caller.user_id, *caller.team_ids, caller.partner_account_id} - {None}
    chosen: dict[tuple[Any, ...], str | None] = {}
    for value in sorted(having, key=lambda v: (v is not None, v or "")):
        case = (value is None, value in own, frozenset(_relation(caller, r) for r in having[value]))
        chosen.setdefault(case, value)
    return list(chosen.values())


def check_list_views(
    world: World,
    checks: Checks,
    resource: ResourceRoutes,
    caller: Caller,
    path: str,
    where: str,
    records: list[Record],
    turn: int = 0,
) -> None:
    """One list (live `records`) in every order and through filters naming every case of ownership value
    (_values_by_case) and the out-of-scope records' emails: exactly the caller's records each time.
    Every order field runs one way for this caller: ascending or descending by the caller's place among
    everyone and `turn` (the resource's place), so each list runs both ways among its callers and each
    caller runs both ways among the lists."""
    assert resource.listing is not None
    label, api = _label(resource.listing), Api(world, caller)
    visible = [r for r in records if can_read(caller, r)]
    expected = {r.id for r in visible}
    place = next(i for i, c in enumerate(world.everyone) if c is caller)
    way = "" if (place + turn) % 2 == 0 else " desc"
    orders = [f"{name}{way}" for name in resource.order_fields]
    for order in orders:
        status, ids, text = api.list_ids(path, {"order_by": order}, 25)
        checks.expect(
            label,
            caller,
            f"list{where}, order_by={order}",
            status == 200 and set(ids) == expected,
            _diff(status, ids, expected, text),
        )
    hidden = representatives(r for r in records if r.id not in expected)
    for name in (*OWNERSHIP_FIELDS, "email"):
        if name not in resource.filter_fields or not resource.has(name):
            continue
        # A value of each case among those the field has anywhere (ownership), or the out-of-scope
        # records' (email).
        values = _values_by_case(caller, name, records if name in OWNERSHIP_FIELDS else hidden)
        for value in values:
            literal = "null" if value is None else f'"{value}"'
            wanted = {r.id for r in visible if (r.body.get(name) or None) == value}
            status, ids, text = api.list_ids(path, {"filter": f"{name} = {literal}"}, 50)
            checks.expect(
                label,
                caller,
                f"list{where}, filter {name} = {literal}",
                status == 200 and set(ids) == wanted,
                _diff(status, ids, wanted, text),
            )
    if "owner_id" in resource.filter_fields:
        me = caller.user_id
        status, ids, text = api.list_ids(path, {"filter": f'owner_id = "{me}" OR owner_id != "{me}"'}, 50)
        checks.expect(
            label,
            caller,
            f"list{where}, filter that is always true",
            status == 200 and set(ids) == expected,
            _diff(status, ids, expected, text),
        )


def _outcomes(counted: Counter[int]) -> str:
    return ", ".join(f"{status or 'content'}: {n}" for status, n in sorted(counted.items()))


def _diff(status: int, ids: list[str], expected: set[str], text: str) -> str:
    got = set(ids)
    return f"status {status} {text}; extra {sorted(got - expected)[:5]}, missing {sorted(expected - got)[:5]}"


def check_customer_views(world: World, checks: Checks, truth: dict[str, list[Record]]) -> None:
    """The gateway's own views of one contact: the 360 (/customers/{id}/360) and the data export
    (/contacts/{id}:exportData), of every ownership case and of every contact records are nested below.

    - out of scope: 404 (a 360 may instead answer without its contact section), nothing of it shown;
    - in scope: 200, about that contact, and nothing of any record out of the caller's scope anywhere
      in the answer: no id, and not the text of a record below the contact (an interaction's subject);
      a 360's sections over types the caller may not read are `forbidden` and empty;
    - an export holds every record below the contact the caller may read (scoped, not emptied), so a
      caller who may read the contact but not some of its interactions (a rep of another team, a role
      without interaction read) gets the others and not those.
    """
    contacts = truth["contact"]
    everything = {r.id: r for records in truth.values() for r in records}
    below: dict[str, list[Record]] = {}
    for record in everything.values():
        if record.parent is not None:
            below.setdefault(record.parent.id, []).append(record)
    sample = representatives(contacts)
    sample += [c for c in contacts if c.id in below and c not in sample]
    rules = [(m, r) for m, r in _gateway_rules(world) if CUSTOMER_VIEW.search(r)]
    for method, rule in rules:
        label = f"{method} {rule}"
        exports = rule.endswith(":exportData")
        for caller in world.everyone:
            api = Api(world, caller)
            hidden = [r for r in everything.values() if not can_read(caller, r)]
            for record in sample:
                reply = api.call(method, _fill(rule, {"contact_id": record.id}))
                if not can_read(caller, record):
                    # Its id is in the URL the caller wrote, so a 404 may echo it; nothing else of it
                    # may show.
                    told = [v for v in record.tell_tales()[1:] if v in reply.text]
                    ok = reply.status_code == 404 or (
                        not exports and reply.status_code == 200 and not reply.json().get("contact")
                    )
                    checks.expect(
                        label,
                        caller,
                        f"view of {record.id} (out of scope)",
                        ok and not told,
                        f"{reply.status_code}, shows {told} {reply.text[:200]}",
                        outcome=404,
                    )
                    continue
                body = reply.json() if reply.status_code == 200 else {}
                about = (body.get("contact") or {}).get("id") or body.get("contact_id")
                checks.expect(
                    label,
                    caller,
                    f"view of {record.id} (in scope)",
                    reply.status_code == 200 and about == record.id,
                    f"{reply.status_code} {reply.text[:200]}",
                    outcome=200,
                )
                if reply.status_code != 200:
                    continue
                if "contact" in body:
                    check_forbidden_sections(checks, label, caller, body)
                told = _shows(reply.text, record, hidden, everything)
                checks.expect(
                    label,
                    caller,
                    f"view of {record.id}: nothing out of scope shown",
                    not told,
                    f"shows {told[:3]}",
                )
                if exports:
                    wanted = [r for r in below.get(record.id, []) if can_read(caller, r)]
                    missing = [r.id for r in wanted if r.id not in reply.text]
                    checks.expect(
                        label,
                        caller,
                        f"export of {record.id}: every record below it in scope",
                        not missing,
                        f"missing {[(everything[i].resource, i) for i in missing[:3]]}",
                    )


def _shows(text: str, contact: Record, hidden: list[Record], everything: dict[str, Record]) -> list[str]:
    """What of the `hidden` records an answer about `contact` shows: any one's id, and the text (as a JSON
    string, e.g. an interaction's subject) of one below the contact that no record the caller may read
    has as well."""
    told = [f"{r.resource} {r.id}" for r in hidden if r.id in text]
    seen = {id(r) for r in hidden}
    shared = {
        v for r in everything.values() if id(r) not in seen for v in r.body.values() if isinstance(v, str)
    }
    for record in hidden:
        if record.parent is None or record.parent.id != contact.id:
            continue
        # Its text, not the ids it names (an actor, a deal: they may rightly show elsewhere in the answer).
        texts = {v for k, v in record.body.items() if not k.endswith("_id")} & set(record.tell_tales()[1:])
        for value in sorted(texts - shared):
            if json.dumps(value) in text:
                told.append(f"{record.resource} {record.id}: {value!r}")
    return told


def check_forbidden_sections(checks: Checks, label: str, caller: Caller, view: dict[str, Any]) -> None:
    """Sections over a resource type the caller may not read are `forbidden` and empty; the others are
    not forbidden (the gateway's section -> resource type table, the caller's rights by the oracle)."""
    context = caller.context
    wanted = {s for s, t in SECTION_RESOURCES.items() if context.level(t, "read") is Level.NONE}
    got = set(view.get("forbidden", []))
    shown = [s for s in got if view.get(SECTIONS[s]) is not None]
    checks.expect(
        label,
        caller,
        "forbidden sections",
        got == wanted and not shown,
        f"{sorted(got)} != {sorted(wanted)}, shown {shown}",
    )


def _is_identity(world: World, rule: str) -> bool:
    """A rule of the gateway's identity API (users, teams, roles, keys, partner accounts, audit, /me)."""
    endpoints = {r.endpoint for r in world.app.url_map.iter_rules() if r.rule == rule}
    return any(".identity_" in endpoint or endpoint.startswith("identity_") for endpoint in endpoints)


def check_identity_routes(world: World, checks: Checks) -> None:
    """The gateway's own identity routes: identity management is the admin's (403 and no data for anyone
    else), /me for everyone, partner accounts readable by staff and by a partner user only their own."""
    for method, rule in _gateway_rules(world):
        if not _is_identity(world, rule) or (method, rule) == ("GET", "/api/v1/me"):
            continue
        label = f"{method} {rule}"
        for caller in world.everyone:
            api = Api(world, caller)
            body = {} if method != "GET" else None
            if (method, rule) in FOR_EVERYONE:
                # An empty body: the caller is let through to validation, and nothing changes.
                reply = api.call(method, _fill(rule, world.victims), json=body)
                checks.status(
                    label, caller, "allowed to everyone (empty body: validation)", reply, {400, 422}
                )
            elif (method, rule) in STAFF_READ:
                check_partner_accounts(world, checks, label, rule, caller)
            elif caller.is_admin:
                if method == "GET":
                    reply = api.call(method, _fill(rule, world.victims))
                    checks.status(label, caller, "admin reads", reply, 200)
            else:
                reply = api.call(method, _fill(rule, world.victims), json=body)
                data = reply.headers.get("Content-Type", "").startswith("application/json") and (
                    "items" in reply.json() or "id" in reply.json()
                )
                checks.expect(
                    label,
                    caller,
                    "identity management is the admin's",
                    reply.status_code == 403 and not data,
                    f"{reply.status_code} {reply.text[:200]}",
                    outcome=403,
                )


def check_partner_accounts(world: World, checks: Checks, label: str, rule: str, caller: Caller) -> None:
    api = Api(world, caller)
    own = caller.partner_account_id
    if "<account_id>" in rule:
        for account in world.partners.values():
            reply = api.call("GET", _fill(rule, {"account_id": account}))
            expected = 200 if own in (None, account) else 404
            checks.status(label, caller, f"read partner account {account}", reply, expected)
        return
    status, ids, text = api.list_ids("/api/v1/partner-accounts", {}, 1)
    ok = status == 200 and (set(ids) == {own} if own else set(world.partners.values()) <= set(ids))
    checks.expect(label, caller, "list partner accounts", ok, f"{status} {ids} {text}")
    if own is None:
        return
    # A staff member's cursor replayed by a partner user: refused, or only their own account.
    staff = world.callers["read_only"]
    first = Api(world, staff).call("GET", "/api/v1/partner-accounts", params={"limit": 1}).json()
    if first.get("next_cursor"):
        status, ids, text = api.list_ids("/api/v1/partner-accounts", {"cursor": first["next_cursor"]}, 1)
        ok = status == 400 or (status == 200 and set(ids) <= {own})
        checks.expect(label, caller, "list partner accounts, a staff cursor", ok, f"{status} {ids} {text}")


def check_other_routes(
    world: World,
    checks: Checks,
    leftovers: list[Route],
    resources: list[ResourceRoutes],
    records: dict[str, list[Record]],
) -> None:
    """Routes that are no standard method: with no record behind them (summaries), any signed-in caller
    gets an answer that is not a server error; on a record (custom methods), a record out of the
    caller's scope answers exactly like one that does not exist, and shows nothing of it."""
    on_records = [
        (route, r)
        for r in resources
        for route in r.others
        if not _below_record(r, route) and route.verb not in DESTRUCTIVE
    ]
    for route in leftovers:
        for caller in world.everyone:
            reply = Api(world, caller).call(
                route.http_method, _path(route, "no-such-id"), json={} if route.body else None
            )
            checks.expect(
                _label(route),
                caller,
                "no ownership: not a server error",
                reply.status_code < 500,
                reply.text[:200],
            )
    for route, resource in on_records:
        for caller in world.everyone:
            api = Api(world, caller)
            body = {} if route.body else None
            missing = api.call(route.http_method, _path(route, "no-such-id"), json=body)
            for record in as_seen_by(caller, records[resource.type_name]):
                if can_read(caller, record):
                    reply = api.call(route.http_method, _path(route, record), json=body)
                    checks.expect(
                        _label(route),
                        caller,
                        f"{record.id} in scope",
                        reply.status_code < 500,
                        reply.text[:200],
                    )
                    continue
                reply = api.call(route.http_method, _path(route, record), json=body)
                told = [v for v in record.tell_tales()[1:] if v in reply.text]
                checks.expect(
                    _label(route),
                    caller,
                    f"{record.id} out of scope looks missing",
                    reply.status_code == missing.status_code and not told,
                    f"{reply.status_code} vs {missing.status_code}, shows {told}",
                )


# Custom methods on a record that destroy it, and the action whose right they need (docs/architecture.md,
# "Privacy"): not called on the matrix's records, but last, on records made for them
# (check_destructive_methods).
DESTRUCTIVE = {"erase": "delete"}

# Known authorization bugs: (route, resource type of the records it shows out of scope) -> the bug. Their
# cases are still checked and counted; a failure goes to the bug's strict xfail test below, so the matrix
# stays green while the bug stays visible (and the xfail turns red the day the bug is fixed).
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _below_record(resource: ResourceRoutes, route: Route) -> bool:
    """A route on a sub-path of one of the resource's records (no custom method, no nested resource)."""
    return not route.verb and len(route.segments) > len(resource.segments) + 1


def _list_key(item: dict[str, Any]) -> str:
    """An item of a list below a record: its id, or the records it links (a company-person link), or
    (an item that is neither: a consent's current state) the item itself."""
    if isinstance(item.get("id"), str):
        return str(item["id"])
    linked = sorted(str(v) for k, v in item.items() if referenced_type(k) and isinstance(v, str))
    return "|".join(linked) if linked else json.dumps(item, sort_keys=True)


def _items_of(route: Route) -> str:
    """The full name of the message a list's items are ("" for none)."""
    items = route.response.fields_by_name.get("items")
    return items.message_type.full_name if items is not None and items.message_type is not None else ""


def _ids_listed(api: Api, route: Route, parent: Record) -> set[str]:
    status, items, text = api.list_items(_path(route, parent), {}, 200, _paged(route))
    assert status == 200, text
    return {str(item["id"]) for item in items}


def _paged(route: Route) -> bool:
    """A list whose request takes `limit` and `cursor` (not every list below a record is paged)."""
    return {"limit", "cursor"} <= set(route.request.fields_by_name)


def _list_path(route: Route) -> tuple[str, ...]:
    """The list a route below a record writes to: its path without a trailing `{id}`."""
    return route.segments[:-1] if route.segments and route.segments[-1] == "" else route.segments


def check_nested_routes(
    world: World, checks: Checks, resources: list[ResourceRoutes], truth: dict[str, list[Record]]
) -> None:
    """Routes below a record that are no nested resource (a contact's timeline and companies, a
    company's people), for every caller and a live record of each ownership case they hang below
    (records of one case are the same to the oracle):

    - a record out of the caller's scope: 404, as for one that does not exist, showing nothing of it;
    - reads (lists) of one in scope: 200, exactly the admin's items that name no record the caller may
      not read, nothing of any record out of the caller's scope anywhere in the answer (ids), every item
      the record's own; filters on the documented `*_id` fields that name out-of-scope records, and
      cursors replayed by others or below another record, show nothing more;
    - writes (link, unlink) change the record: readable (404) and updatable (403), and every record
      they name readable (404); only the allowed writes show in the list at the same path afterwards.
    """
    everything = {r.id: r for records in truth.values() for r in records}
    out_of_scope = {
        caller.name: {i for i, r in everything.items() if not can_read(caller, r)}
        for caller in world.everyone
    }
    for resource in resources:
        parents = representatives(r for r in truth[resource.type_name] if not r.archived)
        routes = [r for r in resource.others if _below_record(resource, r)]
        if not routes:
            continue
        lists = [r for r in routes if r.http_method == "GET"]
        writes = [r for r in routes if r.http_method != "GET"]
        # What each list below each parent names (as the admin sees it): the state writes must match.
        state: dict[tuple[tuple[str, ...], str], set[str]] = {}
        admin = Api(world, world.admin)
        for route in lists:
            for parent in parents:
                status, items, text = admin.list_items(_path(route, parent), {}, 200, _paged(route))
                assert status == 200, text
                state[(route.segments, parent.id)] = {
                    i for item in items for _, i in references(item) if i != parent.id
                }
        # Writes that add an item of their own (a consent record): the lists of such items below each
        # parent, before the writes (afterwards they must hold those and exactly the allowed writes' ones).
        holders = [
            (write, listing)
            for write in writes
            for listing in lists
            if write.http_method == "POST"
            and "id" in write.response.fields_by_name
            and _items_of(listing) == write.response.full_name
        ]
        before = {
            (listing.segments, parent.id): _ids_listed(admin, listing, parent)
            for _, listing in holders
            for parent in parents
        }
        created: dict[tuple[tuple[str, ...], str], set[str]] = {}
        # Links first (the lists then have something to show), unlinks last.
        for route in writes:
            if route.http_method == "POST":
                check_nested_writes(world, checks, route, parents, everything, out_of_scope, state, created)
        for route in lists:
            check_nested_lists(world, checks, route, parents, everything, out_of_scope)
        for route in writes:
            if route.http_method != "POST":
                check_nested_writes(world, checks, route, parents, everything, out_of_scope, state, created)
        for write, listing in holders:
            for parent in parents:
                made = created.get((write.segments, parent.id), set())
                wanted = before[(listing.segments, parent.id)] | made
                shown = _ids_listed(admin, listing, parent)
                checks.expect(
                    _label(write),
                    world.admin,
                    f"below {parent.id}: {_label(listing)} holds only the allowed writes' items",
                    shown == wanted,
                    f"extra {sorted(shown - wanted)[:3]} missing {sorted(wanted - shown)[:3]}",
                )
        # Refused writes changed nothing: every list shows what the allowed writes left.
        for route in lists:
            for parent in parents:
                if (route.segments, parent.id) not in state or not any(
                    _list_path(w) == route.segments for w in writes
                ):
                    continue
                status, items, text = admin.list_items(_path(route, parent), {}, 200, _paged(route))
                shown = {i for item in items for _, i in references(item) if i != parent.id}
                live = {
                    i
                    for i in state[(route.segments, parent.id)]
                    if i in everything and not everything[i].archived
                }
                checks.expect(
                    _label(route),
                    world.admin,
                    f"below {parent.id}: only the allowed writes applied",
                    status == 200 and shown == live,
                    f"{status} extra {sorted(shown - live)[:3]} missing {sorted(live - shown)[:3]}",
                )


def check_nested_writes(
    world: World,
    checks: Checks,
    route: Route,
    parents: list[Record],
    everything: dict[str, Record],
    out_of_scope: dict[str, set[str]],
    state: dict[tuple[tuple[str, ...], str], set[str]],
    created: dict[tuple[tuple[str, ...], str], set[str]],
) -> None:
    """A write below each parent as every caller (admins last: they may do what the others may not),
    naming records the caller may read; then once per caller, below a parent they may change, a
    record they may not read (a 404, like one that does not exist)."""
    label, key = _label(route), _list_path(route)
    named = named_records(route)
    pools = {
        kind: [r for r in everything.values() if r.resource == kind and not r.archived] for _, kind in named
    }
    unlink = route.http_method == "DELETE"
    turn = 0
    callers = sorted(world.everyone, key=lambda c: c.is_admin)
    for caller in callers:
        api = Api(world, caller)
        # Admins write below every parent: what they link is what the lists below them then show.
        for parent in parents if caller.is_admin else as_seen_by(caller, parents):
            linked = state.get((key, parent.id), set())
            chosen: list[Record] = []
            for _, kind in named:
                pool = pools[kind]
                readable = [r for r in pool if can_read(caller, r)] or pool
                if unlink:  # a record that is linked, when there is one the caller may read
                    readable = [r for r in readable if r.id in linked] or readable
                turn += 1
                chosen.append(readable[turn % len(readable)])
            exists = not unlink or all(r.id in linked for r in chosen)
            success = ({204} if exists else {404}) if unlink else {200, 201}
            expected = expected_nested_write(caller, parent, chosen, success)
            reply = _nested_write(api, route, parent, named, chosen)
            names = ", ".join(r.id for r in chosen)
            ok = checks.status(label, caller, f"below {parent.id}, naming {names}", reply, expected)
            told = [i for i in out_of_scope[caller.name] if i in reply.text and i not in (parent.id,)]
            checks.expect(
                label, caller, f"below {parent.id}: nothing out of scope shown", not told, str(told[:3])
            )
            if ok and reply.status_code < 300:
                ids = {r.id for r in chosen}
                state[(key, parent.id)] = (linked - ids) if unlink else (linked | ids)
                if not unlink and isinstance(reply.json().get("id"), str):
                    created.setdefault((route.segments, parent.id), set()).add(reply.json()["id"])
        # A record the caller may not read, below a parent they may change: as missing as no record.
        changeable = [p for p in parents if expected_write(caller, p, "update") == 200]
        for where, kind in named:
            hidden = [r for r in pools[kind] if not can_read(caller, r)]
            if not changeable or not hidden:
                continue
            parent = changeable[0]
            chosen = [hidden[0] if n == where else pools[k][0] for n, k in named]
            reply = _nested_write(api, route, parent, named, chosen)
            ghost = [
                Record(kind, "no-such-id", {}) if n == where else r
                for (n, _), r in zip(named, chosen, strict=True)
            ]
            missing = _nested_write(api, route, parent, named, ghost)
            told = [v for v in hidden[0].tell_tales()[1:] if v in reply.text]
            checks.expect(
                label,
                caller,
                f"below {parent.id}, naming {hidden[0].id} (out of scope)",
                reply.status_code == 404 == missing.status_code and not told,
                f"{reply.status_code} (no such record: {missing.status_code}), shows {told}",
                outcome=404,
            )


_WRITES = itertools.count(1)


def _nested_write(
    api: Api, route: Route, parent: Record, named: list[tuple[str, str]], chosen: list[Record]
) -> requests.Response:
    ids = [*parent.chain, *(r.id for (where, _), r in zip(named, chosen, strict=True) if where == "path")]
    body = {
        **sample_write_body(route, next(_WRITES)),
        **{where: r.id for (where, _), r in zip(named, chosen, strict=True) if where != "path"},
    }
    return api.call(route.http_method, fill(route.openapi_path, ids), json=body if route.body else None)


def check_nested_lists(
    world: World,
    checks: Checks,
    route: Route,
    parents: list[Record],
    everything: dict[str, Record],
    out_of_scope: dict[str, set[str]],
) -> None:
    label = _label(route)
    parent_field = f"{parents[0].resource}_id" if parents else ""
    admin = Api(world, world.admin)
    truth: dict[str, list[dict[str, Any]]] = {}
    for parent in parents:
        status, items, text = admin.list_items(_path(route, parent), {}, 200, _paged(route))
        assert status == 200, text
        truth[parent.id] = items
    filters = [
        name
        for name in _listed_fields_of(world, route)
        if name == "ref_id" or referenced_type(name) is not None
    ]
    first_pages: list[tuple[Caller, Record, str]] = []
    for caller in world.everyone:
        api = Api(world, caller)
        hidden = out_of_scope[caller.name]
        focus = max(
            (p for p in parents if can_read(caller, p)),
            key=lambda p: sum(any(i in hidden for _, i in references(item)) for item in truth[p.id]),
            default=None,
        )
        for parent in as_seen_by(caller, parents, keep=focus):
            path = _path(route, parent)
            status, items, text = api.list_items(path, {}, 50, _paged(route))
            if not can_read(caller, parent):
                told = [v for v in parent.tell_tales()[1:] if v in text]
                checks.expect(
                    label,
                    caller,
                    f"below {parent.id} (out of scope)",
                    status == 404 and not told,
                    f"{status} shows {told} {text[:200]}",
                    outcome=404,
                )
                continue
            wanted = {
                _list_key(item)
                for item in truth[parent.id]
                if not any(i in hidden for _, i in references(item))
            }
            got = [_list_key(item) for item in items]
            bug = _known_bug(label, truth[parent.id], hidden, everything)
            checks.expect(
                label,
                caller,
                f"below {parent.id}: the admin's items that name nothing out of scope",
                status == 200 and set(got) == wanted and len(got) == len(set(got)),
                f"{status} extra {sorted(set(got) - wanted)[:3]} missing {sorted(wanted - set(got))[:3]}",
                outcome=200,
                bug=bug,
            )
            told = sorted(i for i in hidden if i in text)
            checks.expect(
                label,
                caller,
                f"below {parent.id}: nothing out of scope shown",
                status == 200 and not told,
                f"shows {[(everything[i].resource, i) for i in told[:3]]}",
                bug=bug,
            )
            strangers = [item for item in items if item.get(parent_field, parent.id) != parent.id]
            checks.expect(
                label, caller, f"below {parent.id}: its own items", not strangers, str(strangers[:1])[:200]
            )
            if parent is not focus:
                continue
            reply = api.call("GET", path, params={"limit": 1} if _paged(route) else {})
            if reply.status_code == 200 and reply.json().get("next_cursor"):
                first_pages.append((caller, parent, reply.json()["next_cursor"]))
            # Filters naming the out-of-scope records this list names for the admin.
            named = {i for item in truth[parent.id] for _, i in references(item) if i in hidden}
            for name in filters:
                for record_id in sorted(named):
                    status, items, text = api.list_items(path, {"filter": f'{name} = "{record_id}"'}, 50)
                    told = sorted(i for i in hidden if i in text)
                    checks.expect(
                        label,
                        caller,
                        f"below {parent.id}, filter {name} = {record_id} (out of scope)",
                        status in (200, 400) and not told,
                        f"{status} shows {told[:3]}",
                        bug=bug,
                    )
    for minted_by, parent, cursor in first_pages:
        others = [p for p in parents if p is not parent and can_read(minted_by, p)][:1]
        for caller, where in [
            *((c, parent) for c in world.everyone if c is not minted_by),
            *((minted_by, p) for p in others),
        ]:
            status, items, text = Api(world, caller).list_items(_path(route, where), {"cursor": cursor}, 1)
            told = sorted(i for i in out_of_scope[caller.name] if i in text)
            gone = not can_read(caller, where)
            ok = status == 400 or (gone and status == 404) or (status == 200 and not told)
            checks.expect(
                label,
                caller,
                f"below {where.id}, cursor minted for {minted_by.name} below {parent.id}",
                ok,
                f"{status} shows {told[:3]} {text[:200] if status != 200 else ''}",
                bug=_known_bug(label, truth[where.id], out_of_scope[caller.name], everything),
            )


def _listed_fields_of(world: World, route: Route) -> tuple[str, ...]:
    contracts = world.app.extensions["crm_gateway"].contracts
    return listed_fields(contracts.comment(f"{route.request.full_name}.filter"))


def _known_bug(
    label: str, items: list[dict[str, Any]], hidden: set[str], everything: dict[str, Record]
) -> str:
    """The known bug (KNOWN_BUGS) of a list whose items name records of a type out of the caller's scope."""
    kinds = {everything[i].resource for item in items for _, i in references(item) if i in hidden}
    bugs = {KNOWN_BUGS[(label, kind)] for kind in kinds if (label, kind) in KNOWN_BUGS}
    return min(bugs) if bugs else ""


def check_deletes(world: World, checks: Checks, resource: ResourceRoutes, records: list[Record]) -> None:
    """Delete (archive) by every caller, admins last: refused deletes must have archived nothing."""
    if resource.delete is None:
        return
    label = _label(resource.delete)
    admins = [c for c in world.everyone if c.is_admin]
    archived_by_others: set[str] = set()
    for caller in [c for c in world.everyone if not c.is_admin]:
        api = Api(world, caller)
        for record in as_seen_by(caller, records):
            expected = expected_write(caller, record, "delete")
            reply = api.call("DELETE", _path(resource.delete, record))
            checks.status(label, caller, f"delete {record.id}", reply, expected)
            if expected == 204:
                archived_by_others.add(record.id)
    if resource.get:
        admin = Api(world, world.admin)
        for record in records:
            reply = admin.call("GET", _path(resource.get, record))
            archived = reply.status_code == 200 and reply.json().get("archived_at") is not None
            checks.expect(
                label,
                world.admin,
                f"{record.id} archived only by those allowed",
                archived == (record.id in archived_by_others),
                f"archived={archived}",
            )
    for caller in admins:
        api = Api(world, caller)
        for record in records:
            reply = api.call("DELETE", _path(resource.delete, record))
            checks.status(
                label, caller, f"delete {record.id}", reply, expected_write(caller, record, "delete")
            )


def check_collection_routes(
    world: World, checks: Checks, resources: list[ResourceRoutes], truth: dict[str, list[Record]]
) -> None:
    """The gateway's own routes that are neither identity management nor a view of one contact:

    - `GET <a resource's collection>:export` (its records as a file): as every caller, exactly the live
      records they may read (403 with no read right at all);
    - any other (an import's upload, an import's errors as CSV) has no record of the matrix behind it:
      for every caller, not a server error (as for the transcoded routes with no ownership).
    """
    collections = {r.collection: r for r in resources if r.parent is None}
    for method, rule in _gateway_rules(world):
        if _is_identity(world, rule) or CUSTOMER_VIEW.search(rule):
            continue
        label = f"{method} {rule}"
        base, _, verb = rule.rpartition(":")
        resource = collections.get(base) if method == "GET" and verb == "export" else None
        for caller in world.everyone:
            api = Api(world, caller)
            if resource is None:
                reply = api.call(method, _fill(rule, {}), json={} if method != "GET" else None)
                checks.expect(
                    label,
                    caller,
                    "no record of the matrix behind it: not a server error",
                    reply.status_code < 500,
                    reply.text[:200],
                )
                continue
            readable = caller.context.level(resource.type_name, "read") is not Level.NONE
            reply = api.call("GET", rule, params={"format": "jsonl"})
            if not checks.status(label, caller, "export", reply, 200 if readable else 403) or not readable:
                continue
            got = [str(json.loads(line)["id"]) for line in reply.text.splitlines() if line.strip()]
            wanted = {r.id for r in truth[resource.type_name] if not r.archived and can_read(caller, r)}
            checks.expect(
                label,
                caller,
                "export: exactly the records in scope",
                set(got) == wanted and len(got) == len(set(got)),
                _diff(200, got, wanted, ""),
                outcome=200,
            )


def check_destructive_methods(
    world: World,
    checks: Checks,
    resources: list[ResourceRoutes],
    truth: dict[str, list[Record]],
    serial: Iterable[int],
) -> None:
    """Custom methods that destroy a record (DESTRUCTIVE: erasing a person), on records the admin makes
    for them, one per ownership case of the resource's records. Per record, first every caller the
    oracle refuses (the action's rule: 404 out of read scope, as for a record that does not exist, 403
    without the right at a level covering it), after which the record must be untouched; then every
    caller it allows, admins last (the first one destroys it, the others are answered that it is done),
    after which the record must be a tombstone: archived, none of its values left."""
    serials = iter(serial)
    admin = Api(world, world.admin)
    for resource in resources:
        for route in resource.others:
            action = DESTRUCTIVE.get(route.verb or "")
            if action is None:
                continue
            assert resource.parent is None and resource.create and resource.get, resource.collection
            label = _label(route)
            made: list[Record] = []
            for case in representatives(truth[resource.type_name]):
                ownership = {
                    n: case.body.get(n) for n in OWNERSHIP_FIELDS if resource.has(n) and case.body.get(n)
                }
                body = {**sample_create_body(resource.create, next(serials)), **ownership}
                reply = admin.call("POST", resource.collection, json=body)
                assert reply.status_code == 201, (body, reply.text[:300])
                made.append(Record(resource.type_name, reply.json()["id"], reply.json()))
            for record in made:
                expected = {c.name: expected_write(c, record, action) for c in world.everyone}
                refused = [c for c in world.everyone if expected[c.name] not in (200, 204)]
                allowed = sorted(
                    (c for c in world.everyone if expected[c.name] in (200, 204)), key=lambda c: c.is_admin
                )
                for caller in refused:
                    api = Api(world, caller)
                    reply = api.call(route.http_method, _path(route, record), json={})
                    checks.status(label, caller, f"{route.verb} {record.id}", reply, expected[caller.name])
                    if expected[caller.name] == 404:
                        missing = api.call(route.http_method, _path(route, "no-such-id"), json={})
                        told = [v for v in record.tell_tales()[1:] if v in reply.text]
                        checks.expect(
                            label,
                            caller,
                            f"{route.verb} {record.id} (out of scope): as a record that does not exist",
                            reply.status_code == missing.status_code and not told,
                            f"{reply.status_code} vs {missing.status_code}, shows {told}",
                            outcome=404,
                        )
                after = admin.call("GET", _path(resource.get, record))
                kept = [v for v in record.tell_tales() if v not in after.text]
                checks.expect(
                    label,
                    world.admin,
                    f"{record.id} untouched after the refused {route.verb}s",
                    after.status_code == 200 and after.json().get("archived_at") is None and not kept,
                    f"{after.status_code} lost {kept}",
                )
                for caller in allowed:
                    reply = Api(world, caller).call(route.http_method, _path(route, record), json={})
                    checks.status(label, caller, f"{route.verb} {record.id}", reply, 200)
                    checks.expect(
                        label,
                        caller,
                        f"{route.verb} {record.id}: the answer names it",
                        reply.status_code != 200 or record.id in reply.text,
                        reply.text[:200],
                    )
                after = admin.call("GET", _path(resource.get, record))
                left = [v for v in record.tell_tales()[1:] if v in after.text]
                checks.expect(
                    label,
                    world.admin,
                    f"{record.id} after the allowed {route.verb}s: a tombstone",
                    after.status_code == 200
                    and after.json().get("archived_at") is not None
                    and not left
                    and bool(allowed),
                    f"{after.status_code} still shows {left} ({len(allowed)} allowed)",
                )


# --- the test -----------------------------------------------------------------------------------------


@dataclass
class MatrixRun:
    checks: Checks
    table: set[str]  # every route the gateway serves under /api/v1 (that needs a token)
    elapsed: float


@pytest.fixture(scope="module")
def matrix(world: World) -> MatrixRun:
    """The whole matrix, run once: the headline test judges it, each known bug's xfail test its cases."""
    started = time.monotonic()
    checks = Checks()
    # The route table: what the descriptor set declares must be what the gateway serves.
    declared = {
        _label(route)
        for service in Contracts.load([PLATFORM_CONTRACTS]).services()
        for method in service.methods
        for route in routes_of(method)
    }
    served = {_label(route) for route in _transcoded(world)}
    assert declared <= served, f"declared in the descriptors but not served: {sorted(declared - served)}"
    table = served | {f"{method} {rule}" for method, rule in _gateway_rules(world)}
    resources, leftovers = resources_of(_transcoded(world), world.app.extensions["crm_gateway"].contracts)
    assert resources, "no resource with ownership among the served routes"
    for resource in resources:
        assert resource.create and resource.listing and resource.get, (
            f"{resource.collection}: no Create/List/Get"
        )

    check_unauthenticated(world, checks)
    check_me(world, checks)
    truth: dict[str, list[Record]] = {}
    serial = iter(range(1, 1_000_000))
    # Below which records each resource's are (top-level: below nothing).
    parents: dict[str, list[Record | None]] = {}
    for resource in resources:  # parents before their children
        if resource.parent is None:
            parents[resource.type_name] = [None]
            created = create_records(world, checks, resource, serial)
        else:
            parents[resource.type_name] = list(truth[resource.parent.type_name])
            below = spread(truth[resource.parent.type_name])
            created = create_nested_records(world, checks, resource, below, serial)
        check_reassignments(world, checks, resource, created)
        known = ground_truth(world, resource, parents[resource.type_name])
        missing = {r.id for r in created} - set(known)
        checks.expect(
            _label(resource.listing), world.admin, "the admin lists every record", not missing, str(missing)
        )
        truth[resource.type_name] = list(known.values())
    # A create may make records of another resource (a deal registration finds or makes its company in
    # contacts): the top-level resources' ground truth is taken again once every record is made.
    for resource in resources:
        if resource.parent is None:
            truth[resource.type_name] = list(ground_truth(world, resource).values())

    for turn, resource in enumerate(resources):
        records = truth[resource.type_name]
        # One record per case (its ownership, and its parent's for a nested one) for every caller.
        changed = check_records(world, checks, resource, representatives(records))
        # Refused updates changed nothing: each record has the last allowed change, or its own value (a
        # resource without an Update method, like orders and payments, has no update to check).
        after = ground_truth(world, resource, parents[resource.type_name])
        for record in records if resource.update is not None else []:
            name = next(iter(harmless_change(resource.message, 0)))
            wanted = changed.get(record.id, record.body.get(name))
            checks.expect(
                _label(resource.update),
                world.admin,
                f"{record.id}: only allowed updates applied",
                after[record.id].body.get(name) == wanted,
                f"{after[record.id].body.get(name)} != {wanted}",
            )
        check_lists(world, checks, resource, records, parents[resource.type_name], turn)
        # What the records hold now (the allowed updates applied): the later checks look for their text.
        for record in records:
            record.body = after[record.id].body
    check_identity_routes(world, checks)
    check_collection_routes(world, checks, resources, truth)
    check_other_routes(world, checks, leftovers, resources, truth)
    check_nested_routes(world, checks, resources, truth)
    # After the routes below a record: their writes (consents, company links) are in the views too.
    check_customer_views(world, checks, truth)
    for resource in reversed(resources):  # children before their parents
        records = truth[resource.type_name]
        check_deletes(world, checks, resource, representatives(records))
    # Destructive custom methods (erasure) last, on records made for them.
    check_destructive_methods(world, checks, resources, truth, serial)
    return MatrixRun(checks, table, time.monotonic() - started)


# The whole matrix runs in this test's setup: some 13,000 requests, about two minutes on an idle machine,
# several on a shared one (the suite's default timeout is 300 s).
@pytest.mark.timeout(1200)
def test_every_route_answers_every_caller_exactly_what_the_matrix_allows(
    world: World, matrix: MatrixRun
) -> None:
    checks, table, elapsed = matrix.checks, matrix.table, matrix.elapsed
    # No route escapes: each was called by every non-admin caller (admins are spared identity writes).
    non_admins = {c.name for c in world.everyone if not c.is_admin}
    unchecked = sorted(r for r in table if not non_admins <= checks.callers_of.get(r, set()))
    assert not unchecked, f"routes the matrix did not check for every caller: {unchecked}"
    per_route = "\n".join(
        f"  {count:5d}  {route}  {_outcomes(checks.outcomes.get(route, Counter()))}"
        for route, count in sorted(checks.counted.items())
    )
    known = ", ".join(
        f"{bug}: {len(checks.known[bug])} of {checks.known_checked[bug]} fail" for bug in sorted(checks.known)
    )
    print(
        f"\nauthorization matrix: {checks.total} checks over {len(checks.routes)} routes and "
        f"{len(checks.callers)} callers ({len(world.everyone)} signed in) in {elapsed:.1f} s"
        f"{f'; known bugs (strict xfail): {known}' if known else ''}\n{per_route}"
    )
    assert not checks.leaks, (
        f"{len(checks.leaks)} of {checks.total} checks disagree with the matrix:\n" + "\n".join(checks.leaks)
    )


def test_a_taken_email_out_of_scope_is_not_revealed(world: World) -> None:
    """Contacts' emails are unique across the whole CRM, so creating (or changing to) an email that an
    out-of-scope contact has answers 409 "a contact with email ... already exists": an existence oracle
    for records the caller may not see (a partner user can test which emails another partner's
    customers have). Out of scope must look like not there at all."""
    p1, p2 = Api(world, world.callers["partner_p1"]), Api(world, world.callers["partner_p2"])
    hidden = p1.call(
        "POST",
        "/api/v1/contacts",
        json={"first_name": "Hid", "last_name": "Den", "email": "hidden-customer@example.com"},
    )
    assert hidden.status_code == 201, hidden.text
    assert p2.call("GET", f"/api/v1/contacts/{hidden.json()['id']}").status_code == 404  # out of scope
    probe = p2.call(
        "POST",
        "/api/v1/contacts",
        json={"first_name": "Pro", "last_name": "Be", "email": "hidden-customer@example.com"},
    )
    fresh = p2.call(
        "POST",
        "/api/v1/contacts",
        json={"first_name": "Pro", "last_name": "Be", "email": "nobody-has-this@example.com"},
    )
    assert probe.status_code == fresh.status_code, (probe.status_code, probe.text, fresh.status_code)
    # Changing one's own contact to an email only P1 has tells the same. (Another email than the
    # probe's: the probe put that one in P2's own book, where a second contact with it is a 409.)
    also_hidden = p1.call(
        "POST",
        "/api/v1/contacts",
        json={"first_name": "Hid", "last_name": "Den", "email": "hidden-customer-2@example.com"},
    )
    assert also_hidden.status_code == 201, also_hidden.text
    changed = p2.call(
        "PATCH", f"/api/v1/contacts/{fresh.json()['id']}", json={"email": "hidden-customer-2@example.com"}
    )
    assert changed.status_code == 200, (changed.status_code, changed.text)


def test_the_route_table_sees_every_standard_method_of_a_resource() -> None:
    """The matrix finds resources by their shape alone; for contacts it must find all six methods and
    the documented filter and order fields, and for interactions (nested below a contact) the same six
    below the contact, or a future resource could be half-checked unnoticed."""
    contracts = Contracts.load([PLATFORM_CONTRACTS])
    routes = [route for service in contracts.services() for m in service.methods for route in routes_of(m)]
    resources, leftovers = resources_of(routes, contracts)
    by_type = {r.type_name: r for r in resources}
    contact, interaction = by_type["contact"], by_type["interaction"]
    for resource in (contact, by_type["company"], interaction):
        methods = (
            resource.create,
            resource.get,
            resource.listing,
            resource.update,
            resource.delete,
            resource.history,
        )
        assert all(methods), resource.collection
    # Routes with no resource (no ownership) behind them: an import job's (the caller's own jobs) and the
    # custom field definitions (the CRM's schema: admin-written, read by everyone; their rights are
    # tested in services/contacts/tests/test_custom_fields.py); checked here only as "not a server
    # error", see check_other_routes.
    assert {(r.http_method, r.template) for r in leftovers} == {
        ("GET", "/api/v1/imports"),
        ("GET", "/api/v1/imports/{id}"),
        ("POST", "/api/v1/imports/{id}:cancel"),
        ("GET", "/api/v1/imports/{id}/errors"),
        ("POST", "/api/v1/custom-fields"),
        ("GET", "/api/v1/custom-fields"),
        ("GET", "/api/v1/custom-fields/{id}"),
        ("PATCH", "/api/v1/custom-fields/{custom_field.id}"),
        ("DELETE", "/api/v1/custom-fields/{id}"),
        ("GET", "/api/v1/custom-fields/{id}/history"),
        # Sales configuration (pipelines, lead scoring and assignment rules, lead forms): no owner; read by
        # sales staff, written at level `all` (services/sales/tests).
        ("POST", "/api/v1/pipelines"),
        ("GET", "/api/v1/pipelines"),
        ("GET", "/api/v1/pipelines/{id}"),
        ("PATCH", "/api/v1/pipelines/{pipeline.id}"),
        ("POST", "/api/v1/lead-scoring-rules"),
        ("GET", "/api/v1/lead-scoring-rules"),
        ("GET", "/api/v1/lead-scoring-rules/{id}"),
        ("PATCH", "/api/v1/lead-scoring-rules/{rule.id}"),
        ("DELETE", "/api/v1/lead-scoring-rules/{id}"),
        ("POST", "/api/v1/lead-assignment-rules"),
        ("GET", "/api/v1/lead-assignment-rules"),
        ("GET", "/api/v1/lead-assignment-rules/{id}"),
        ("DELETE", "/api/v1/lead-assignment-rules/{id}"),
        ("POST", "/api/v1/lead-forms"),
        ("GET", "/api/v1/lead-forms"),
        ("GET", "/api/v1/lead-forms/{id}"),
        # The catalogue and partner terms: no owner; the product and price_list rights, a partner user
        # reading only the lists assigned to its account and its own terms, and the caller's own balance
        # (services/sales/tests/test_catalog.py, test_orders.py, test_payments.py).
        ("POST", "/api/v1/products"),
        ("GET", "/api/v1/products"),
        ("GET", "/api/v1/products/{id}"),
        ("PATCH", "/api/v1/products/{product.id}"),
        ("DELETE", "/api/v1/products/{id}"),
        ("GET", "/api/v1/products/{id}/history"),
        ("POST", "/api/v1/price-lists"),
        ("GET", "/api/v1/price-lists"),
        ("GET", "/api/v1/price-lists/{id}"),
        ("PATCH", "/api/v1/price-lists/{price_list.id}"),
        ("DELETE", "/api/v1/price-lists/{id}"),
        ("GET", "/api/v1/price-lists/{price_list_id}/prices/{product_id}"),
        ("GET", "/api/v1/partner-accounts/{partner_account_id}/terms"),
        ("PATCH", "/api/v1/partner-accounts/{terms.partner_account_id}/terms"),
        ("GET", "/api/v1/sales/balance"),
        # Calendar feeds: each the caller's own, no owner columns (issued to, listed and deleted by their
        # user only: services/sales/tests/test_activities.py and tests/e2e/test_activities_over_http.py).
        ("POST", "/api/v1/calendar-feeds"),
        ("GET", "/api/v1/calendar-feeds"),
        ("DELETE", "/api/v1/calendar-feeds/{id}"),
        # Sales reports: figures over the deals the caller may read, no record of their own (each
        # caller's figures are tested in services/sales/tests/test_reports.py and over the gateway in
        # tests/e2e/test_sales_reports_over_http.py).
        ("GET", "/api/v1/sales/reports/funnel"),
        ("GET", "/api/v1/sales/reports/win-rate"),
        ("GET", "/api/v1/sales/reports/forecast"),
        ("GET", "/api/v1/sales/reports/rep-kpis"),
    }
    assert interaction.parent is contact and contact.parent is None
    assert interaction.collection == "/api/v1/contacts/{contact_id}/interactions"
    assert interaction.update is not None
    assert interaction.update.template == (
        "/api/v1/contacts/{interaction.contact_id}/interactions/{interaction.id}"
    )
    assert {"owner_id", "team_id", "partner_account_id"} <= set(interaction.filter_fields)
    assert {"occurred_at", "created_at", "kind"} <= set(interaction.order_fields)
    # What else hangs below a contact or a company is no resource (no ownership of its own): checked as
    # routes below a record (check_nested_routes), an out-of-scope record a missing one; the contact's
    # consents among them (read: the contact's read right; record: its update right). Custom methods on
    # a record are checked generically (check_other_routes), but a destructive one (erasing the person:
    # the contact's delete right) only last, on records made for it (check_destructive_methods).
    assert {(r.http_method, r.template) for r in contact.others} == {
        ("GET", "/api/v1/contacts/{contact_id}/timeline"),
        ("GET", "/api/v1/contacts/{contact_id}/companies"),
        ("GET", "/api/v1/contacts/{contact_id}/consents"),
        ("POST", "/api/v1/contacts/{contact_id}/consents"),
        ("GET", "/api/v1/contacts/{contact_id}/consents/history"),
        ("POST", "/api/v1/contacts/{id}:erase"),
        ("GET", "/api/v1/contacts/{id}/duplicates"),
        ("POST", "/api/v1/contacts/{id}:merge"),
    }
    # :merge is checked generically: the matrix sends no source_ids, so every caller is refused the
    # same way (422) and no record is merged; its rights and scope are tested in
    # services/contacts/tests/test_merge.py.
    assert {r.verb: DESTRUCTIVE.get(r.verb) for r in contact.others if r.verb} == {
        "erase": "delete",
        "merge": None,
    }
    below = {r.template: r for r in contact.others if _below_record(contact, r)}
    assert not _paged(below["/api/v1/contacts/{contact_id}/consents"])  # no limit: asked without one
    assert _paged(below["/api/v1/contacts/{contact_id}/consents/history"])
    assert {(r.http_method, r.template) for r in by_type["company"].others} == {
        ("POST", "/api/v1/companies/{company_id}/people"),
        ("GET", "/api/v1/companies/{company_id}/people"),
        ("DELETE", "/api/v1/companies/{company_id}/people/{contact_id}"),
        ("POST", "/api/v1/companies/{id}:merge"),
    }
    assert {"owner_id", "team_id", "partner_account_id", "email"} <= set(contact.filter_fields)
    assert {"last_name", "created_at"} <= set(contact.order_fields)

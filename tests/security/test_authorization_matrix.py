"""The authorization matrix, generated from the route table (issue 8's headline test).

Every REST route the gateway serves (the transcoded ones, walked from the descriptor set it loaded, and
its own Flask routes under /api/v1) is called over real HTTP by every caller (one per built-in role,
a rep of another team, users of two partner accounts, the bootstrap admin) and the answer is compared
with the oracle, crm_platform.access: effective rights are the union of the roles' built-in rights,
and a record is visible per `in_scope` (partner boundary first, then own/team/all). Out of scope is 404
(existence is not revealed), readable but beyond the action's level is 403.

Every mismatch is collected and reported together, so one run shows the whole picture.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

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
    expected_write,
    harmless_change,
    resources_of,
    sample_create_body,
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

    def expect(
        self, route: str, caller: Caller | None, case: str, ok: bool, detail: str = "", outcome: int = 0
    ) -> None:
        """One check; `outcome` is the status the oracle expects, 0 for a check of an answer's content
        (for the per-route summary)."""
        who = caller.name if caller else "anonymous"
        self.counted[route] += 1
        self.routes.add(route)
        self.callers.add(who)
        self.callers_of.setdefault(route, set()).add(who)
        self.outcomes.setdefault(route, Counter())[outcome] += 1
        if not ok:
            self.leaks.append(f"{route} as {who}: {case}: {detail}")

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


def representatives(records: Iterable[Record]) -> list[Record]:
    """One record per ownership (owner, team, partner account): to the oracle, records that share it are
    the same case, so the costlier checks (customer views, per-record filters) run once per case."""
    seen: dict[tuple[str | None, ...], Record] = {}
    for record in records:
        ownership = record.ownership()
        seen.setdefault((ownership.owner_id, ownership.team_id, ownership.partner_account_id), record)
    return list(seen.values())


def _label(route: Route) -> str:
    return f"{route.http_method} {route.template}"


def _path(route: Route, record_id: str) -> str:
    """The route's URL for one record (every path variable of a record route is its id)."""
    return re.sub(r"\{[^}]+\}", record_id, route.openapi_path)


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
        ids: list[str] = []
        cursor = ""
        for _ in range(500):
            query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
            reply = self.call("GET", path, params=query)
            if reply.status_code != 200:
                return reply.status_code, ids, reply.text[:200]
            body = reply.json()
            ids.extend(item["id"] for item in body["items"])
            cursor = body.get("next_cursor") or ""
            if not cursor:
                return 200, ids, ""
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
            status = expected_write(caller, record, "update")
            if status == 200:
                asked = {n: record.body.get(n) or None for n in OWNERSHIP_FIELDS}
                status, _ = expected_assignment(caller, resource.type_name, "update", {**asked, name: value})
            reply = Api(world, caller).call("PATCH", _path(route, record.id), json={name: value})
            checks.status(_label(route), caller, f"reassign {name} of a record I own", reply, status)
            if reply.status_code == 200:
                record.body = reply.json()


def ground_truth(world: World, resource: ResourceRoutes) -> dict[str, Record]:
    """Every record as the bootstrap admin (level `all`, no partner) sees it."""
    assert resource.listing is not None
    api = Api(world, world.admin)
    status, ids, text = api.list_ids(resource.collection, {}, 200)
    assert status == 200, text
    truth = {}
    for record_id in ids:
        reply = api.call("GET", _path(resource.get, record_id)) if resource.get else None
        assert reply is not None and reply.status_code == 200, record_id
        truth[record_id] = Record(resource.type_name, record_id, reply.json())
    return truth


def check_records(
    world: World, checks: Checks, resource: ResourceRoutes, records: list[Record]
) -> dict[str, str]:
    """Get, History and a harmless Update of every record by every caller; returns the value the
    changed field must now have per record (refused updates must have changed nothing)."""
    changed: dict[str, str] = {}
    serial = 0
    for caller in world.everyone:
        api = Api(world, caller)
        for record in records:
            readable = can_read(caller, record)
            if resource.get:
                reply = api.call("GET", _path(resource.get, record.id))
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
                reply = api.call("GET", _path(resource.history, record.id))
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
                reply = api.call("PATCH", _path(resource.update, record.id), json=change)
                checks.status(
                    _label(resource.update), caller, f"update {record.id} {change}", reply, expected
                )
                if expected == 200:
                    changed[record.id] = next(iter(change.values()))
    return changed


def check_lists(world: World, checks: Checks, resource: ResourceRoutes, records: list[Record]) -> None:
    """Lists hold exactly the records in scope, through paging, every order and filters that name
    records out of scope; a cursor is no good to another caller."""
    if resource.listing is None:
        return
    label, path = _label(resource.listing), resource.collection
    live = [r for r in records if not r.archived]
    first_pages: dict[str, tuple[Caller, str, set[str]]] = {}
    for caller in world.everyone:
        api = Api(world, caller)
        visible = [r for r in live if can_read(caller, r)]
        expected = {r.id for r in visible}
        status, ids, text = api.list_ids(path, {}, 3)
        checks.expect(
            label,
            caller,
            "list, pages of 3",
            status == 200 and set(ids) == expected and len(ids) == len(set(ids)),
            _diff(status, ids, expected, text),
        )
        orders = [o for name in resource.order_fields for o in (name, f"{name} desc")]
        for order in orders:
            status, ids, text = api.list_ids(path, {"order_by": order}, 25)
            checks.expect(
                label,
                caller,
                f"list, order_by={order}",
                status == 200 and set(ids) == expected,
                _diff(status, ids, expected, text),
            )
        hidden = representatives(r for r in live if r.id not in expected)
        for name in (*OWNERSHIP_FIELDS, "email"):
            if name not in resource.filter_fields or not resource.has(name):
                continue
            # Every value the field has anywhere (ownership), or the out-of-scope records' (email).
            values = {r.body.get(name) or None for r in (live if name in OWNERSHIP_FIELDS else hidden)}
            for value in values:
                literal = "null" if value is None else f'"{value}"'
                wanted = {r.id for r in visible if (r.body.get(name) or None) == value}
                status, ids, text = api.list_ids(path, {"filter": f"{name} = {literal}"}, 50)
                checks.expect(
                    label,
                    caller,
                    f"list, filter {name} = {literal}",
                    status == 200 and set(ids) == wanted,
                    _diff(status, ids, wanted, text),
                )
        if "owner_id" in resource.filter_fields:
            me = caller.user_id
            status, ids, text = api.list_ids(path, {"filter": f'owner_id = "{me}" OR owner_id != "{me}"'}, 50)
            checks.expect(
                label,
                caller,
                "list, filter that is always true",
                status == 200 and set(ids) == expected,
                _diff(status, ids, expected, text),
            )
        reply = api.call("GET", path, params={"limit": 1})
        cursor = reply.json().get("next_cursor") if reply.status_code == 200 else None
        if cursor:
            first_pages[caller.name] = (caller, cursor, expected)
    # Replaying another caller's cursor: refused, or at least nothing the replayer may not see.
    for minted_by, cursor, _ in first_pages.values():
        for caller in world.everyone:
            if caller is minted_by:
                continue
            visible = {r.id for r in live if can_read(caller, r)}
            status, ids, text = Api(world, caller).list_ids(path, {"cursor": cursor}, 1)
            ok = status == 400 or (status == 200 and set(ids) <= visible)
            checks.expect(
                label,
                caller,
                f"list, cursor minted for {minted_by.name}",
                ok,
                _diff(status, ids, visible, text),
            )


def _outcomes(counted: Counter[int]) -> str:
    return ", ".join(f"{status or 'content'}: {n}" for status, n in sorted(counted.items()))


def _diff(status: int, ids: list[str], expected: set[str], text: str) -> str:
    got = set(ids)
    return f"status {status} {text}; extra {sorted(got - expected)[:5]}, missing {sorted(expected - got)[:5]}"


def check_customer_views(world: World, checks: Checks, records: list[Record]) -> None:
    """Customer views of a contact (/customers/{id}/360): a contact out of scope shows nowhere in the
    answer (today: 404; a `forbidden` contact section would do too); one in scope has its section."""
    rules = [(m, r) for m, r in _gateway_rules(world) if CUSTOMER_VIEW.search(r)]
    for method, rule in rules:
        label = f"{method} {rule}"
        for caller in world.everyone:
            api = Api(world, caller)
            for record in representatives(records):
                reply = api.call(method, _fill(rule, {"contact_id": record.id}))
                if can_read(caller, record):
                    ok = (
                        reply.status_code == 200
                        and (reply.json().get("contact") or {}).get("id") == record.id
                    )
                    checks.expect(
                        label,
                        caller,
                        f"view of {record.id} (in scope)",
                        ok,
                        f"{reply.status_code} {reply.text[:200]}",
                    )
                    if ok:
                        check_forbidden_sections(checks, label, caller, reply.json())
                    continue
                # Its id is in the URL the caller wrote, so a 404 may echo it; nothing else of it may show.
                told = [v for v in record.tell_tales()[1:] if v in reply.text]
                ok = reply.status_code in (403, 404) or (
                    reply.status_code == 200 and not reply.json().get("contact")
                )
                checks.expect(
                    label,
                    caller,
                    f"view of {record.id} (out of scope)",
                    ok and not told and reply.status_code < 500,
                    f"{reply.status_code}, shows {told} {reply.text[:200]}",
                    outcome=404,
                )


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


def check_identity_routes(world: World, checks: Checks) -> None:
    """The gateway's own routes: identity management is the admin's (403 and no data for anyone else),
    /me for everyone, partner accounts readable by staff and by a partner user only their own."""
    for method, rule in _gateway_rules(world):
        if CUSTOMER_VIEW.search(rule) or (method, rule) == ("GET", "/api/v1/me"):
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
    on_records = [(route, r) for r in resources for route in r.others]
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
            for record in records[resource.type_name]:
                if can_read(caller, record):
                    continue
                reply = api.call(route.http_method, _path(route, record.id), json=body)
                told = [v for v in record.tell_tales()[1:] if v in reply.text]
                checks.expect(
                    _label(route),
                    caller,
                    f"{record.id} out of scope looks missing",
                    reply.status_code == missing.status_code and not told,
                    f"{reply.status_code} vs {missing.status_code}, shows {told}",
                )


def check_deletes(world: World, checks: Checks, resource: ResourceRoutes, records: list[Record]) -> None:
    """Delete (archive) by every caller, admins last: refused deletes must have archived nothing."""
    if resource.delete is None:
        return
    label = _label(resource.delete)
    admins = [c for c in world.everyone if c.is_admin]
    archived_by_others: set[str] = set()
    for caller in [c for c in world.everyone if not c.is_admin]:
        api = Api(world, caller)
        for record in records:
            expected = expected_write(caller, record, "delete")
            reply = api.call("DELETE", _path(resource.delete, record.id))
            checks.status(label, caller, f"delete {record.id}", reply, expected)
            if expected == 204:
                archived_by_others.add(record.id)
    if resource.get:
        admin = Api(world, world.admin)
        for record in records:
            reply = admin.call("GET", _path(resource.get, record.id))
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
            reply = api.call("DELETE", _path(resource.delete, record.id))
            checks.status(
                label, caller, f"delete {record.id}", reply, expected_write(caller, record, "delete")
            )


# --- the test -----------------------------------------------------------------------------------------


def test_every_route_answers_every_caller_exactly_what_the_matrix_allows(world: World) -> None:
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
    for resource in resources:
        created = create_records(world, checks, resource, serial)
        check_reassignments(world, checks, resource, created)
        known = ground_truth(world, resource)
        missing = {r.id for r in created} - set(known)
        checks.expect(
            _label(resource.listing), world.admin, "the admin lists every record", not missing, str(missing)
        )
        truth[resource.type_name] = list(known.values())

    for resource in resources:
        records = truth[resource.type_name]
        changed = check_records(world, checks, resource, records)
        # Refused updates changed nothing: each record has the last allowed change, or its own value.
        after = ground_truth(world, resource)
        for record in records:
            name = next(iter(harmless_change(resource.message, 0)))
            wanted = changed.get(record.id, record.body.get(name))
            checks.expect(
                _label(resource.update),
                world.admin,
                f"{record.id}: only allowed updates applied",
                after[record.id].body.get(name) == wanted,
                f"{after[record.id].body.get(name)} != {wanted}",
            )
        check_lists(world, checks, resource, records)
        if resource.type_name == "contact":
            check_customer_views(world, checks, records)
    check_identity_routes(world, checks)
    check_other_routes(world, checks, leftovers, resources, truth)
    for resource in resources:
        check_deletes(world, checks, resource, truth[resource.type_name])

    # No route escapes: each was called by every non-admin caller (admins are spared identity writes).
    non_admins = {c.name for c in world.everyone if not c.is_admin}
    unchecked = sorted(r for r in table if not non_admins <= checks.callers_of.get(r, set()))
    assert not unchecked, f"routes the matrix did not check for every caller: {unchecked}"
    elapsed = time.monotonic() - started
    per_route = "\n".join(
        f"  {count:5d}  {route}  {_outcomes(checks.outcomes.get(route, Counter()))}"
        for route, count in sorted(checks.counted.items())
    )
    print(
        f"\nauthorization matrix: {checks.total} checks over {len(checks.routes)} routes and "
        f"{len(checks.callers)} callers ({len(world.everyone)} signed in) in {elapsed:.1f} s\n{per_route}"
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
    the documented filter and order fields, or a future resource could be half-checked unnoticed."""
    contracts = Contracts.load([PLATFORM_CONTRACTS])
    routes = [route for service in contracts.services() for m in service.methods for route in routes_of(m)]
    resources, leftovers = resources_of(routes, contracts)
    contact = next(r for r in resources if r.type_name == "contact")
    methods = (contact.create, contact.get, contact.listing, contact.update, contact.delete, contact.history)
    assert all(methods) and not leftovers
    # What else hangs off a contact is below it (its interactions, timeline, companies), never a second
    # route for one of the six: those are checked generically, an out-of-scope contact a missing one.
    record_paths = {f"{contact.collection}/{{id}}", f"{contact.collection}/{{contact.id}}"}
    nested = [route for route in contact.others if route.template not in record_paths]
    assert nested == contact.others, [r.template for r in contact.others]
    assert {"/api/v1/contacts/{contact_id}/interactions", "/api/v1/contacts/{contact_id}/timeline"} <= {
        route.template for route in nested
    }
    assert {"owner_id", "team_id", "partner_account_id", "email"} <= set(contact.filter_fields)
    assert {"last_name", "created_at"} <= set(contact.order_fields)

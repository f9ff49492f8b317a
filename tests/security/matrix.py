"""The authorization matrix's two halves that do not talk HTTP: which routes exist (read from the
descriptors the gateway serves and from its own Flask routes) and what each caller should get (the
oracle: crm_platform.access, the rules every service is meant to apply).

Nothing here knows about contacts: a resource is any message with an `owner_id` field that has standard
methods (Create/Get/List/Update/Delete/History by the REST conventions of docs/architecture.md), so
sales and support resources are covered the day their annotations appear. A resource may be nested below
another's record (`<parent collection>/{parent_id}/<name>`, e.g. a contact's interactions): it is found
the same way, by shape, and its records are visible only to callers who may read their parent too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import SimpleNamespace
from typing import Any

from buf.validate import validate_pb2
from google.api import field_behavior_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from crm_platform.access import (
    CallerContext,
    Level,
    Ownership,
    assign_ownership,
    builtin_rights,
    in_scope,
    parse_permissions,
    resource_types,
    union,
)
from crm_platform.errors import InvalidArgument, PermissionDenied
from gateway.transcoding.contracts import Contracts
from gateway.transcoding.rules import Route

OWNERSHIP_FIELDS = ("owner_id", "team_id", "partner_account_id")
HISTORY_RESPONSE = "crm.common.v1.ListHistoryResponse"


# --- callers ---------------------------------------------------------------------------------------


@dataclass
class Caller:
    """One signed-in user of the matrix, with everything the oracle needs to know about them."""

    name: str  # the matrix's label, e.g. "sales_rep_b"
    user_id: str
    token: str
    roles: tuple[str, ...]
    team_ids: tuple[str, ...]
    partner_account_id: str | None
    # Custom roles among `roles`: name -> their `permissions` as created through /api/v1/roles.
    custom_roles: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)

    @cached_property
    def context(self) -> CallerContext:
        # Effective rights are the union of the roles' rights: the documented rule, computed here
        # independently of the gateway (which /me is then checked against). Computed once per caller
        # (a caller's roles never change): the oracle asks it for every record it judges.
        rights = [
            parse_permissions(self.custom_roles[role]) if role in self.custom_roles else builtin_rights(role)
            for role in self.roles
        ]
        return CallerContext(
            subject=self.user_id,
            roles=self.roles,
            team_ids=self.team_ids,
            primary_team_id=self.team_ids[0] if self.team_ids else None,
            partner_account_id=self.partner_account_id,
            rights=union(rights),
        )

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles and self.partner_account_id is None


# --- records and the oracle ------------------------------------------------------------------------


@dataclass
class Record:
    """A seeded record as the ground truth (the bootstrap admin's view) has it."""

    resource: str  # resource type, e.g. "contact"
    id: str
    body: dict[str, Any]
    # The record a nested record lives below (an interaction's contact), None for a top-level one.
    parent: Record | None = None

    @property
    def chain(self) -> list[str]:
        """The ids a route to this record names, outermost first (parent id, then its own)."""
        return [*(self.parent.chain if self.parent else []), self.id]

    @property
    def owner_id(self) -> str | None:
        return self.body.get("owner_id") or None

    @property
    def team_id(self) -> str | None:
        return self.body.get("team_id") or None

    @property
    def partner_account_id(self) -> str | None:
        return self.body.get("partner_account_id") or None

    @property
    def archived(self) -> bool:
        return self.body.get("archived_at") is not None

    def ownership(self) -> SimpleNamespace:
        return SimpleNamespace(
            owner_id=self.owner_id, team_id=self.team_id, partner_account_id=self.partner_account_id
        )

    def tell_tales(self) -> list[str]:
        """Values that would betray this record if they showed up in another caller's answer: its id
        and its distinctive strings (email, names; not short or shared values like a team id)."""
        values = [self.id]
        for name, value in self.body.items():
            if name in ("id", "etag", *OWNERSHIP_FIELDS) or not isinstance(value, str):
                continue
            if len(value) >= 8 and not value[:4].isdigit():  # timestamps are shared by chance
                values.append(value)
        return values


def can_read(caller: Caller, record: Record) -> bool:
    """In the caller's read scope, and so is the record it is nested below (a child of a record the
    caller may not read is as missing as its parent)."""
    if record.parent is not None and not can_read(caller, record.parent):
        return False
    return in_scope(caller.context, record.resource, "read", record.ownership())


def expected_write(caller: Caller, record: Record, action: str) -> int:
    """Update/Delete of an existing record: out of read scope is 404 (its existence is not revealed),
    readable but not covered by the action's level is 403, otherwise success."""
    if not can_read(caller, record):
        return 404
    if caller.context.level(record.resource, action) is Level.NONE:
        return 403
    if not in_scope(caller.context, record.resource, action, record.ownership()):
        return 403
    return 204 if action == "delete" else 200


def expected_assignment(
    caller: Caller, resource: str, action: str, asked: Mapping[str, str | None]
) -> tuple[int, Ownership | None]:
    """Creating (or reassigning) with the ownership `asked`: the status and the ownership the record
    must end up with, by crm_platform.access.scope.assign_ownership (the documented rule)."""
    try:
        got = assign_ownership(
            caller.context,
            resource,
            action,
            owner_id=asked.get("owner_id"),
            team_id=asked.get("team_id"),
            partner_account_id=asked.get("partner_account_id"),
        )
    except PermissionDenied:
        return 403, None
    except InvalidArgument:
        return 422, None
    return (201 if action == "create" else 200), got


def expected_nested_create(
    caller: Caller, resource: str, parent: Record, asked: Mapping[str, str | None]
) -> tuple[set[int], Ownership | None]:
    """Creating a record below `parent` (the statuses allowed, and the ownership it must get): the caller
    must read the parent (404 otherwise, as for a parent that does not exist) and have the create right;
    the record's partner account is always the parent's (asking for another is a 422).

    A refusal that does not depend on the parent (no create right, an ownership the caller may never
    assign) may come first: it reveals nothing of the parent, so for a parent out of scope either it or
    the 404 is right (and the test also checks the answer equals the one for a parent that is not there).
    """
    independent, _ = expected_assignment(caller, resource, "create", asked)
    refusals = {independent} if independent != 201 else set()
    if not can_read(caller, parent):
        return {404} | refusals, None
    if refusals:
        return refusals, None
    if asked.get("partner_account_id") not in (None, parent.partner_account_id):
        return {422}, None
    status, ownership = expected_assignment(
        caller, resource, "create", {**asked, "partner_account_id": parent.partner_account_id}
    )
    return {status}, ownership


def expected_change(caller: Caller, record: Record, name: str, value: str | None) -> int:
    """Reassigning one ownership field of an existing record: the write rule, then (nested records) the
    partner account stays the parent's, then the new assignment within the caller's update level."""
    status = expected_write(caller, record, "update")
    if status != 200:
        return status
    if (
        name == "partner_account_id"
        and record.parent is not None
        and value != record.parent.partner_account_id
    ):
        return 422
    asked = {n: record.body.get(n) or None for n in OWNERSHIP_FIELDS}
    status, _ = expected_assignment(caller, record.resource, "update", {**asked, name: value})
    return status


def expected_nested_write(
    caller: Caller, parent: Record, referenced: list[Record], success: set[int]
) -> set[int]:
    """A write below a record that is no record of its own (linking a contact to a company): it changes
    the parent, so the parent must be readable (404) and updatable by the caller (403), and every
    record it names must be readable (404: one out of scope is as missing as one that is not there).
    When the parent refuses, a record named out of scope may be the 404 instead: either reveals
    nothing. Otherwise `success`."""
    status = expected_write(caller, parent, "update")
    named = all(can_read(caller, record) for record in referenced)
    if status != 200:
        return {status} | (set() if named else {404})
    return success if named else {404}


def referenced_type(name: str) -> str | None:
    """The resource type a field or path variable named `<type>_id` refers to (`contact_id`,
    `interaction.contact_id`), None for any other name."""
    last = name.rsplit(".", 1)[-1]
    if last.endswith("_id") and last[:-3] in resource_types():
        return last[:-3]
    return None


def references(item: Any) -> list[tuple[str, str]]:
    """(resource type, id) of every record an answer's item names: `<type>_id` fields, `ref_type` with
    `ref_id`, and embedded resource messages (an `id` beside an `owner_id`), at any depth."""
    found: list[tuple[str, str]] = []
    if isinstance(item, dict) and "owner_id" in item and isinstance(item.get("id"), str):
        found.append(("", item["id"]))  # an embedded resource: its type is the message's, unknown here
    if isinstance(item, list):
        for value in item:
            found += references(value)
        return found
    if not isinstance(item, dict):
        return found
    for name, value in item.items():
        kind = referenced_type(name)
        if kind and isinstance(value, str) and value:
            found.append((kind, value))
        elif isinstance(value, dict | list):
            found += references(value)
    if item.get("ref_type") in resource_types() and item.get("ref_id"):
        found.append((item["ref_type"], item["ref_id"]))
    return found


# --- the route table --------------------------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass
class ResourceRoutes:
    """The standard methods of one resource, found by their shape (REST conventions)."""

    type_name: str  # resource type in crm_platform.access, e.g. "contact"
    message: Descriptor
    collection: str  # e.g. /api/v1/contacts, /api/v1/contacts/{contact_id}/interactions
    segments: tuple[str, ...] = ()  # the collection's path segments, "" for a variable
    # The resource whose records this one is nested below (contacts, for interactions).
    parent: ResourceRoutes | None = None
    create: Route | None = None
    get: Route | None = None
    listing: Route | None = None
    update: Route | None = None
    delete: Route | None = None
    history: Route | None = None
    # Other routes on one record (custom methods `.../{id}:verb`, sub-collections): checked generically.
    others: list[Route] = field(default_factory=list)
    filter_fields: tuple[str, ...] = ()
    order_fields: tuple[str, ...] = ()

    @property
    def routes(self) -> list[Route]:
        standard = [self.create, self.get, self.listing, self.update, self.delete, self.history]
        return [r for r in standard if r is not None] + self.others

    def has(self, name: str) -> bool:
        return name in self.message.fields_by_name

    def collection_path(self, parent: Record | None) -> str:
        """The collection's URL (below `parent`'s record for a nested resource)."""
        return fill(self.collection, parent.chain if parent else [])


def fill(template: str, ids: list[str]) -> str:
    """A route template with its variables filled in order by `ids` (the last one repeated: every
    variable of a top-level record's route is its id)."""
    values = iter(ids)
    last = ids[-1] if ids else "no-such-id"

    def one(_: re.Match[str]) -> str:
        nonlocal last
        last = next(values, last)
        return last

    return re.sub(r"\{[^}]+\}", one, template)


def listed_fields(comment: str) -> tuple[str, ...]:
    """`Fields: a, b, c.` in a List request field's comment: the allow-list the service documents."""
    match = re.search(r"Fields:\s*([a-z0-9_,\s]+)", comment)
    if not match:
        return ()
    # "a, b, and `custom_fields.<name>` ...": the prose ends the list ("and", or the backticked rest).
    names = (name.strip().removeprefix("and ").strip() for name in match.group(1).split(","))
    return tuple(name for name in names if name and name != "and" and " " not in name)


def _items_type(message: Descriptor) -> Descriptor | None:
    items = message.fields_by_name.get("items")
    if items is None or not items.is_repeated or items.message_type is None:
        return None
    return items.message_type


def is_resource(message: Descriptor) -> bool:
    return "owner_id" in message.fields_by_name and "id" in message.fields_by_name


def _depth(entry: ResourceRoutes) -> int:
    return 0 if entry.parent is None else _depth(entry.parent) + 1


def resources_of(routes: Iterable[Route], contracts: Contracts) -> tuple[list[ResourceRoutes], list[Route]]:
    """The resources among the routes, and the routes that belong to none (summaries and the like).

    A top-level resource's collection is where it is created (POST, no path variable, answering the
    resource) or listed (GET answering a list of it); a nested resource's collection is
    `<a resource's collection>/{parent id}/<name>`, created or listed the same way. A record's routes
    are then its collection, its id, and nothing or a sub-path; what hangs below a record and is no
    nested resource (a sub-list, a link between records) is among that resource's `others`."""
    routes = list(routes)
    found: dict[tuple[str, ...], ResourceRoutes] = {}

    def below(route: Route) -> ResourceRoutes | None:
        """The resource whose record the route is on: the deepest collection it continues with `/{id}`."""
        best: ResourceRoutes | None = None
        for segments, entry in found.items():
            n = len(segments)
            on_record = route.segments[:n] == segments and len(route.segments) > n and route.segments[n] == ""
            if on_record and (best is None or n > len(best.segments)):
                best = entry
        return best

    def collection_of(route: Route) -> Descriptor | None:
        if route.verb or (route.segments and route.segments[-1] == ""):
            return None
        if route.http_method == "POST" and is_resource(route.response):
            return route.response
        items = _items_type(route.response)
        if route.http_method == "GET" and items is not None and is_resource(items):
            return items
        return None

    # Top-level collections, then each level below them (a parent is found before its children).
    for level in range(4):
        for route in routes:
            message = collection_of(route)
            if message is None or route.segments in found or len(route.variables) != level:
                continue
            parent = below(route) if level else None
            if level and (parent is None or len(route.segments) != len(parent.segments) + 2):
                continue
            if parent is not None and _depth(parent) != level - 1:
                continue
            found[route.segments] = ResourceRoutes(
                _snake(message.name), message, route.template, segments=route.segments, parent=parent
            )
    leftovers: list[Route] = []
    for route in routes:
        entry = found.get(route.segments)
        if entry is not None and not route.verb and len(route.variables) == _depth(entry):
            if route.http_method == "POST" and route.response.full_name == entry.message.full_name:
                entry.create = route
                continue
            if route.http_method == "GET" and _items_type(route.response) is entry.message:
                entry.listing = route
                continue
        owner = below(route)
        if owner is None:
            leftovers.append(route)
            continue
        tail = route.segments[len(owner.segments) + 1 :]
        answers_record = route.response.full_name == owner.message.full_name
        if not tail and not route.verb and route.http_method == "GET" and answers_record:
            owner.get = route
        elif not tail and not route.verb and route.http_method == "PATCH" and answers_record:
            owner.update = route
        elif not tail and not route.verb and route.http_method == "DELETE":
            owner.delete = route
        elif tail == ("history",) and not route.verb and route.response.full_name == HISTORY_RESPONSE:
            owner.history = route
        else:
            owner.others.append(route)
    for entry in found.values():
        if entry.listing is not None:
            request = entry.listing.request
            entry.filter_fields = listed_fields(contracts.comment(f"{request.full_name}.filter"))
            entry.order_fields = listed_fields(contracts.comment(f"{request.full_name}.order_by"))
    unknown = [e.type_name for e in found.values() if e.type_name not in resource_types()]
    assert not unknown, f"resources with no registered resource type (crm_platform.access): {unknown}"
    # Parents before their children (a child's records are made below its parent's).
    return sorted(found.values(), key=lambda e: (_depth(e), e.collection)), leftovers


# --- sample bodies -----------------------------------------------------------------------------------


def _required(field_descriptor: FieldDescriptor) -> bool:
    behaviors = field_descriptor.GetOptions().Extensions[field_behavior_pb2.field_behavior]
    return field_behavior_pb2.REQUIRED in behaviors


def named_records(route: Route) -> list[tuple[str, str]]:
    """(where, resource type) of the records a route below a record names besides that record: its
    other path variables (`{contact_id}`) and required body fields named `<type>_id`."""
    named = [
        ("path", kind)
        for variable in route.variables[1:]
        if (kind := referenced_type(variable.name)) is not None
    ]
    in_path = {variable.field_path[0] for variable in route.variables}
    for item in route.request.fields:
        kind = referenced_type(item.name)
        if kind is not None and _required(item) and item.name not in in_path:
            named.append((item.name, kind))
    return named


# Request message -> fields a create of it needs that no descriptor can invent (an order's lines name
# products of a price list the ordering partner's terms name); filled in by the world's preparation. A
# value may be a function of the record's serial, for a field that must differ per record (a deal
# registration's company domain: each registration finds or makes its own company).
PREPARED_FIELDS: dict[str, dict[str, Any]] = {}


def sample_create_body(route: Route, serial: int) -> dict[str, Any]:
    """A valid Create body from the request's descriptor: its REQUIRED fields filled with plausible
    values (unique where a field is likely to be unique), and what PREPARED_FIELDS holds for it. Good
    for simple resources; a resource whose create needs a reference to another record gets a clear
    failure naming it."""
    prepared = PREPARED_FIELDS.get(route.request.full_name, {})
    body: dict[str, Any] = {k: v(serial) if callable(v) else v for k, v in prepared.items()}
    in_path = {variable.field_path[0] for variable in route.variables}
    for item in route.request.fields:
        if not _required(item) or item.name in OWNERSHIP_FIELDS or item.name in in_path or item.name in body:
            continue
        if item.message_type is not None:
            if item.message_type.full_name == "crm.common.v1.Money":
                body[item.name] = {"amount_minor": 1000 + serial, "currency": "EUR"}
            continue
        if item.type == FieldDescriptor.TYPE_STRING:
            if "email" in item.name:
                body[item.name] = f"matrix-{serial}@example.com"
            else:
                body[item.name] = f"Matrix{serial}"
        elif item.type == FieldDescriptor.TYPE_ENUM:
            body[item.name] = _enum_sample(item)
        elif item.type == FieldDescriptor.TYPE_BOOL:
            body[item.name] = True
        else:
            body[item.name] = 1
    return body


def _refuses_zero(field_descriptor: FieldDescriptor) -> bool:
    """A field its validation rules (buf.validate) refuse to leave at its zero value: required in all
    but name (an enum that must be set, a string of at least one character)."""
    rules = field_descriptor.GetOptions().Extensions[validate_pb2.field]
    if rules.required:
        return True
    kind = rules.WhichOneof("type")
    if kind == "enum":
        allowed = list(getattr(rules.enum, "in"))
        return 0 in rules.enum.not_in or (bool(allowed) and 0 not in allowed)
    if kind == "string":
        return rules.string.min_len > 0
    return False


def _enum_sample(field_descriptor: FieldDescriptor) -> str:
    """The first value of an enum field its validation rules allow (the JSON short name: `granted`)."""
    rules = field_descriptor.GetOptions().Extensions[validate_pb2.field].enum
    allowed = set(getattr(rules, "in"))
    values = [
        v.name
        for v in field_descriptor.enum_type.values
        if v.number != 0 and v.number not in rules.not_in and (not allowed or v.number in allowed)
    ]
    prefix = _snake(field_descriptor.enum_type.name).upper() + "_"
    return values[0].removeprefix(prefix).lower()


def sample_write_body(route: Route, serial: int) -> dict[str, Any]:
    """A valid body for a write below a record (recording a consent, linking a person): the REQUIRED
    fields as for a create, and the fields its validation refuses to leave empty (set enums, non-empty
    strings); not the path's variables, ownership or the records the write names (named_records)."""
    body = sample_create_body(route, serial)
    in_path = {variable.field_path[0] for variable in route.variables}
    for item in route.request.fields:
        skip = item.name in body or item.name in in_path or item.name in OWNERSHIP_FIELDS
        if skip or referenced_type(item.name) is not None or not _refuses_zero(item):
            continue
        if item.type == FieldDescriptor.TYPE_ENUM:
            body[item.name] = _enum_sample(item)
        elif item.type == FieldDescriptor.TYPE_STRING:
            body[item.name] = f"Matrix{serial}"
    return body


_HARMLESS = ("company", "description", "notes", "title", "subject", "name", "first_name")


def harmless_change(message: Descriptor, serial: int) -> dict[str, str]:
    """A change to a plain text field that no rule depends on (not an ownership field)."""
    for name in _HARMLESS:
        item = message.fields_by_name.get(name)
        if item is not None and item.type == FieldDescriptor.TYPE_STRING:
            return {name: f"Changed{serial}"}
    raise AssertionError(
        f"{message.full_name}: no plain text field to change harmlessly; teach the matrix one"
    )

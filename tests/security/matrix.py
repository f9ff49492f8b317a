"""The authorization matrix's two halves that do not talk HTTP: which routes exist (read from the
descriptors the gateway serves and from its own Flask routes) and what each caller should get (the
oracle: crm_platform.access, the rules every service is meant to apply).

Nothing here knows about contacts: a resource is any message with an `owner_id` field that has standard
methods (Create/Get/List/Update/Delete/History by the REST conventions of docs/architecture.md), so
sales and support resources are covered the day their annotations appear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

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

    @property
    def context(self) -> CallerContext:
        # Effective rights are the union of the roles' rights: the documented rule, computed here
        # independently of the gateway (which /me is then checked against).
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


# --- the route table --------------------------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass
class ResourceRoutes:
    """The standard methods of one resource, found by their shape (REST conventions)."""

    type_name: str  # resource type in crm_platform.access, e.g. "contact"
    message: Descriptor
    collection: str  # e.g. /api/v1/contacts
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


def _listed_fields(comment: str) -> tuple[str, ...]:
    """`Fields: a, b, c.` in a List request field's comment: the allow-list the service documents."""
    match = re.search(r"Fields:\s*([a-z0-9_,\s]+)", comment)
    if not match:
        return ()
    return tuple(name.strip() for name in match.group(1).split(",") if name.strip())


def _items_type(message: Descriptor) -> Descriptor | None:
    items = message.fields_by_name.get("items")
    if items is None or not items.is_repeated or items.message_type is None:
        return None
    return items.message_type


def is_resource(message: Descriptor) -> bool:
    return "owner_id" in message.fields_by_name and "id" in message.fields_by_name


def resources_of(routes: Iterable[Route], contracts: Contracts) -> tuple[list[ResourceRoutes], list[Route]]:
    """The resources among the routes, and the routes that belong to none (summaries and the like)."""
    routes = list(routes)
    found: dict[str, ResourceRoutes] = {}
    # A resource's collection is where it is created (POST, no path variable, answering the resource).
    for route in routes:
        if (
            route.http_method == "POST"
            and not route.variables
            and not route.verb
            and is_resource(route.response)
        ):
            type_name = _snake(route.response.name)
            found[route.template] = ResourceRoutes(type_name, route.response, route.template, create=route)
    # Or listed, for a resource that is only read over REST.
    for route in routes:
        items = _items_type(route.response)
        if route.http_method == "GET" and not route.variables and items is not None and is_resource(items):
            entry = found.setdefault(
                route.template, ResourceRoutes(_snake(items.name), items, route.template)
            )
            entry.listing = route
    leftovers: list[Route] = []
    for route in routes:
        if not route.variables:
            if route.template not in found:
                leftovers.append(route)
            continue
        # A record's routes are its collection, then its id, then nothing or a sub-path.
        first = route.variables[0]
        entry = found.get("/" + "/".join(route.segments[: first.segment]))
        if entry is None:
            leftovers.append(route)
            continue
        tail = route.segments[first.segment + 1 :]
        answers_record = route.response.full_name == entry.message.full_name
        if not tail and not route.verb and route.http_method == "GET" and answers_record:
            entry.get = route
        elif not tail and not route.verb and route.http_method == "PATCH" and answers_record:
            entry.update = route
        elif not tail and not route.verb and route.http_method == "DELETE":
            entry.delete = route
        elif tail == ("history",) and not route.verb and route.response.full_name == HISTORY_RESPONSE:
            entry.history = route
        else:
            entry.others.append(route)
    for entry in found.values():
        if entry.listing is not None:
            request = entry.listing.request
            entry.filter_fields = _listed_fields(contracts.comment(f"{request.full_name}.filter"))
            entry.order_fields = _listed_fields(contracts.comment(f"{request.full_name}.order_by"))
    unknown = [e.type_name for e in found.values() if e.type_name not in resource_types()]
    assert not unknown, f"resources with no registered resource type (crm_platform.access): {unknown}"
    return sorted(found.values(), key=lambda e: e.collection), leftovers


# --- sample bodies -----------------------------------------------------------------------------------


def _required(field_descriptor: FieldDescriptor) -> bool:
    behaviors = field_descriptor.GetOptions().Extensions[field_behavior_pb2.field_behavior]
    return field_behavior_pb2.REQUIRED in behaviors


def sample_create_body(route: Route, serial: int) -> dict[str, Any]:
    """A valid Create body from the request's descriptor: its REQUIRED fields filled with plausible
    values (unique where a field is likely to be unique). Good for simple resources; a resource whose
    create needs a reference to another record gets a clear failure naming it."""
    body: dict[str, Any] = {}
    for item in route.request.fields:
        if not _required(item) or item.name in OWNERSHIP_FIELDS:
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
            values = [v.name for v in item.enum_type.values if v.number != 0]
            prefix = _snake(item.enum_type.name).upper() + "_"
            body[item.name] = values[0].removeprefix(prefix).lower()
        elif item.type == FieldDescriptor.TYPE_BOOL:
            body[item.name] = True
        else:
            body[item.name] = 1
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

"""Rights as a matrix: resource type x action -> level (`none`, `own`, `team`, `all`).

Resource types live in one registry that each domain extends with one line
(`register_resource_type("deal", domain="sales")`). Built-in roles are written per domain, with
per-type exceptions, so a type registered later gets sensible built-in levels without editing every
role. Effective rights are the union of a user's roles: per cell, the widest level wins.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

ACTIONS = ("create", "read", "update", "delete")


class Level(enum.IntEnum):
    """Ordered so that the union of two rights is their max."""

    NONE = 0
    OWN = 1  # records whose owner is the caller
    TEAM = 2  # records whose team is one of the caller's teams (and the caller's own)
    ALL = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Level:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"level must be one of none, own, team, all (got {text!r})") from None


Rights = Mapping[str, Mapping[str, Level]]


@dataclass(frozen=True)
class ResourceType:
    name: str
    domain: str  # crm, sales, marketing, support, identity: what built-in roles are written against
    # Whether records of this type may belong to a partner account (partner users see only those).
    partner_scoped: bool = True


_REGISTRY: dict[str, ResourceType] = {}


def register_resource_type(name: str, *, domain: str, partner_scoped: bool = True) -> ResourceType:
    """Add a resource type (idempotent for the same definition)."""
    resource = ResourceType(name, domain, partner_scoped)
    existing = _REGISTRY.get(name)
    if existing is not None and existing != resource:
        raise ValueError(f"resource type {name!r} already registered as {existing}")
    _REGISTRY[name] = resource
    return resource


def resource_types() -> dict[str, ResourceType]:
    return dict(_REGISTRY)


def resource_type(name: str) -> ResourceType:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown resource type {name!r}") from None


for _name, _domain in (
    ("contact", "crm"),
    ("company", "crm"),
    ("interaction", "crm"),
    ("lead", "sales"),
    ("deal", "sales"),
    ("product", "sales"),
    ("price_list", "sales"),
    ("quote", "sales"),
    ("order", "sales"),
    ("payment", "sales"),
    ("task", "sales"),
    ("appointment", "sales"),
    ("deal_registration", "sales"),
    ("campaign", "marketing"),
    ("segment", "marketing"),
    ("ticket", "support"),
    ("article", "support"),
    ("survey", "support"),
    ("notification", "notifications"),
):
    register_resource_type(_name, domain=_domain)
# The CRM's own schema (custom field definitions): one for everyone, so not partner-scoped. Every built-in
# role reads it (to know the fields it fills in); only a level of `all` changes it (admins).
register_resource_type("custom_field", domain="configuration", partner_scoped=False)
# Sales configuration (pipelines and their stages, lead scoring and assignment rules): one for everyone,
# not partner-scoped; staff of the sales domain read them, a level of `all` changes them.
for _name in ("pipeline", "lead_scoring_rule", "lead_assignment_rule"):
    register_resource_type(_name, domain="sales_configuration", partner_scoped=False)
# A rep's revenue target for a period: staff's own business (never a partner's), owned by the rep and
# their team, so a manager sets their teams' quotas and a rep reads their teams' (sales_rep below).
register_resource_type("quota", domain="sales", partner_scoped=False)


def _cells(create: str, read: str, update: str, delete: str) -> dict[str, Level]:
    return {a: Level.parse(v) for a, v in zip(ACTIONS, (create, read, update, delete), strict=True)}


@dataclass(frozen=True)
class RoleTemplate:
    """A built-in role: levels per domain, then per type where a type differs from its domain."""

    by_domain: Mapping[str, Mapping[str, Level]] = field(default_factory=dict)
    by_type: Mapping[str, Mapping[str, Level]] = field(default_factory=dict)
    default: Mapping[str, Level] = field(default_factory=lambda: _cells("none", "none", "none", "none"))

    def rights(self) -> dict[str, dict[str, Level]]:
        out: dict[str, dict[str, Level]] = {}
        for resource in _REGISTRY.values():
            cells = self.by_type.get(resource.name) or self.by_domain.get(resource.domain) or self.default
            out[resource.name] = dict(cells)
        return out


_ALL = _cells("all", "all", "all", "all")
_READ_ALL = _cells("none", "all", "none", "none")
# Notifications are written by the platform (event handlers), never by callers: staff read their teams'.
_READ_TEAM = _cells("none", "team", "none", "none")

BUILTIN_ROLES: dict[str, RoleTemplate] = {
    "admin": RoleTemplate(default=_ALL),
    "manager": RoleTemplate(
        default=_cells("team", "team", "team", "team"),
        by_type={"product": _ALL, "price_list": _ALL, "article": _ALL, "custom_field": _READ_ALL},
        by_domain={"sales_configuration": _ALL},
    ),
    "sales_rep": RoleTemplate(
        by_domain={
            "crm": _cells("all", "team", "own", "own"),
            "sales": _cells("all", "team", "own", "own"),
            "sales_configuration": _READ_ALL,
            "notifications": _READ_TEAM,
        },
        by_type={
            "product": _READ_ALL,
            "price_list": _READ_ALL,
            "article": _READ_ALL,
            "custom_field": _READ_ALL,
            "quota": _READ_TEAM,
        },
    ),
    "marketer": RoleTemplate(
        by_domain={
            "marketing": _cells("all", "all", "team", "own"),
            "crm": _cells("all", "all", "own", "none"),
            "notifications": _READ_TEAM,
        },
        by_type={
            "lead": _cells("all", "team", "own", "none"),
            "lead_scoring_rule": _READ_ALL,
            "product": _READ_ALL,
            "custom_field": _READ_ALL,
        },
    ),
    "support_agent": RoleTemplate(
        by_domain={
            "support": _cells("all", "team", "team", "own"),
            "crm": _cells("all", "all", "own", "none"),
            "notifications": _READ_TEAM,
        },
        by_type={
            "order": _cells("none", "all", "none", "none"),
            "product": _READ_ALL,
            "custom_field": _READ_ALL,
        },
    ),
    "read_only": RoleTemplate(default=_READ_ALL),
    # Partner users: the partner boundary (their own account's records only) applies on top of this.
    "partner": RoleTemplate(
        by_type={
            "contact": _cells("all", "all", "all", "none"),
            "interaction": _cells("all", "all", "own", "own"),  # logged on their own account's contacts
            "company": _cells("all", "all", "all", "none"),
            "lead": _cells("all", "all", "own", "none"),  # captured for their own account
            "deal": _cells("all", "all", "own", "none"),
            "order": _cells("all", "all", "own", "none"),
            "quote": _cells("none", "all", "none", "none"),
            "payment": _cells("none", "all", "none", "none"),
            # Registered with staff for their own account; staff approve or reject (update) them.
            "deal_registration": _cells("all", "all", "none", "none"),
            # Follow-ups on their own account's deals and customers, worked together with staff.
            "task": _cells("all", "all", "own", "own"),
            "appointment": _cells("all", "all", "own", "own"),
            "ticket": _cells("all", "all", "own", "none"),
            "product": _READ_ALL,
            "price_list": _READ_ALL,
            "article": _READ_ALL,
            # Notifications about their own account's customers (the partner boundary narrows `all`).
            "notification": _READ_ALL,
            "custom_field": _READ_ALL,
        }
    ),
}


def builtin_rights(role: str) -> dict[str, dict[str, Level]]:
    return BUILTIN_ROLES[role].rights()


def parse_permissions(raw: object) -> dict[str, dict[str, Level]]:
    """A custom role's `permissions` JSON (`{"contact": {"read": "team", ...}}`) as rights; raises
    ValueError naming the offending path. Cells left out are `none`."""
    if not isinstance(raw, Mapping):
        raise ValueError("permissions must be an object keyed by resource type")
    out: dict[str, dict[str, Level]] = {}
    for type_name, cells in raw.items():
        if type_name not in _REGISTRY:
            raise ValueError(f"permissions.{type_name}: unknown resource type")
        if not isinstance(cells, Mapping):
            raise ValueError(f"permissions.{type_name} must be an object keyed by action")
        row: dict[str, Level] = {}
        for action, level in cells.items():
            if action not in ACTIONS:
                raise ValueError(
                    f"permissions.{type_name}.{action}: unknown action (use {', '.join(ACTIONS)})"
                )
            if not isinstance(level, str):
                raise ValueError(f"permissions.{type_name}.{action} must be a string")
            try:
                row[action] = Level.parse(level)
            except ValueError as exc:
                raise ValueError(f"permissions.{type_name}.{action}: {exc}") from None
        out[type_name] = row
    return out


def union(rights: Iterable[Rights]) -> dict[str, dict[str, Level]]:
    """The widest level per cell over several rights (a user's roles)."""
    out: dict[str, dict[str, Level]] = {}
    for one in rights:
        for type_name, cells in one.items():
            row = out.setdefault(type_name, {})
            for action, level in cells.items():
                row[action] = max(row.get(action, Level.NONE), level)
    return out


def level_of(rights: Rights, type_name: str, action: str) -> Level:
    return rights.get(type_name, {}).get(action, Level.NONE)


def to_json(rights: Rights) -> dict[str, dict[str, str]]:
    return {t: {a: rights[t].get(a, Level.NONE).label for a in ACTIONS} for t in sorted(rights)}


def encode_compact(rights: Rights) -> dict[str, str]:
    """`{"contact": "3211"}`: one digit per action in ACTIONS order, for the signed caller context."""
    return {t: "".join(str(int(cells.get(a, Level.NONE))) for a in ACTIONS) for t, cells in rights.items()}


def decode_compact(compact: Mapping[str, str]) -> dict[str, dict[str, Level]]:
    out: dict[str, dict[str, Level]] = {}
    for type_name, digits in compact.items():
        if len(digits) != len(ACTIONS) or not digits.isdigit():
            raise ValueError(f"malformed rights for {type_name!r}")
        out[type_name] = {a: Level(int(d)) for a, d in zip(ACTIONS, digits, strict=True)}
    return out

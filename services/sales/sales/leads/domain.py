"""The rules for leads: plain Python, no I/O. Status moves, scoring by rules, assignment by territory and
round robin, and what a lead needs to be converted.

The contract's field rules (crm/sales/v1/leads.proto) have already been checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crm_platform.errors import FailedPrecondition, InvalidArgument

NEW, WORKING, QUALIFIED, DISQUALIFIED, CONVERTED = "new", "working", "qualified", "disqualified", "converted"
# What an update may set; `converted` only through :convert.
SETTABLE_STATUSES = (NEW, WORKING, QUALIFIED, DISQUALIFIED)

# The lead fields an attribute rule may compare.
SCORABLE_FIELDS = ("industry", "country", "region", "source", "title", "campaign_id", "company_domain")


def check_status_change(before: str, after: str, disqualified_reason: str) -> None:
    """A converted lead's status is final; `converted` is reached only by converting; disqualifying needs
    a reason."""
    if before == after:
        if after == DISQUALIFIED and not disqualified_reason.strip():
            raise InvalidArgument("reason required", {"disqualified_reason": "is required when disqualified"})
        return
    if before == CONVERTED:
        raise FailedPrecondition("the lead is converted; its status no longer changes")
    if after not in SETTABLE_STATUSES:
        raise InvalidArgument("invalid status", {"status": "converted is reached through :convert"})
    if after == DISQUALIFIED and not disqualified_reason.strip():
        raise InvalidArgument("reason required", {"disqualified_reason": "is required when disqualified"})


# --- scoring ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoringRule:
    id: str
    name: str
    points: int
    field: str = ""  # attribute rule: the lead field compared
    values: tuple[str, ...] = ()
    event_type: str = ""  # behaviour rule: the event type that earns the points each time


@dataclass(frozen=True)
class ScoreItem:
    rule_id: str
    rule_name: str
    points: int
    reason: str


def check_scoring_rule(
    field: str, values: Sequence[str], event_type: str
) -> tuple[str, tuple[str, ...], str]:
    """An attribute rule (a scorable field and at least one value) or a behaviour rule (an event type),
    never both: the cleaned (field, values, event_type)."""
    field, event_type = field.strip(), event_type.strip()
    cleaned = tuple(v.strip() for v in values if v.strip())
    if field and event_type:
        raise InvalidArgument(
            "one kind of rule", {"event_type": "a rule compares a field or counts events, not both"}
        )
    if not field and not event_type:
        raise InvalidArgument(
            "rule has no condition", {"field": "name a lead field (with values) or an event_type"}
        )
    if field:
        if field not in SCORABLE_FIELDS:
            raise InvalidArgument("unknown field", {"field": f"must be one of {', '.join(SCORABLE_FIELDS)}"})
        if not cleaned:
            raise InvalidArgument("no values", {"values": "an attribute rule needs at least one value"})
    elif cleaned:
        raise InvalidArgument("values of a behaviour rule", {"values": "only attribute rules take values"})
    return field, cleaned, event_type


def score(
    attributes: Mapping[str, str], activity_counts: Mapping[str, int], rules: Sequence[ScoringRule]
) -> tuple[int, list[ScoreItem]]:
    """The lead's score and its breakdown, rule by rule in the order given: an attribute rule scores its
    points once when the field's value is among its values (case-insensitive); a behaviour rule scores
    its points for each recorded event of its type."""
    items: list[ScoreItem] = []
    for rule in rules:
        if rule.field:
            value = (attributes.get(rule.field) or "").strip()
            if value and value.casefold() in {v.casefold() for v in rule.values}:
                items.append(ScoreItem(rule.id, rule.name, rule.points, f'{rule.field} is "{value}"'))
        elif rule.event_type:
            count = activity_counts.get(rule.event_type, 0)
            if count:
                items.append(
                    ScoreItem(rule.id, rule.name, rule.points * count, f"{count} x {rule.event_type}")
                )
    return sum(item.points for item in items), items


# --- assignment ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentRule:
    id: str
    countries: tuple[str, ...]
    regions: tuple[str, ...]
    user_ids: tuple[str, ...]
    team_id: str


def matches(rule: AssignmentRule, country: str, region: str) -> bool:
    """A rule's territory: its countries (none: any) and its regions (none: any), case-insensitively."""
    if rule.countries and country.upper() not in {c.upper() for c in rule.countries}:
        return False
    return not rule.regions or region.casefold() in {r.casefold() for r in rule.regions}


def first_match(rules: Sequence[AssignmentRule], country: str, region: str) -> AssignmentRule | None:
    """The first rule (in priority order) whose territory holds the lead."""
    return next((rule for rule in rules if matches(rule, country, region)), None)


def next_in_turn(user_ids: Sequence[str], turn: int) -> str:
    """Round robin: the user whose turn it is (the rule counts the leads it gave out)."""
    return user_ids[turn % len(user_ids)]


# --- conversion ---------------------------------------------------------------------------------------


def check_convertible(first_name: str, last_name: str, email: str) -> None:
    """A contact needs a first name, a last name and an email (the contacts service's rules)."""
    missing = [
        name
        for name, value in (("first_name", first_name), ("last_name", last_name), ("email", email))
        if not value
    ]
    if missing:
        raise FailedPrecondition(f"the lead needs {', '.join(missing)} to become a contact; add them first")

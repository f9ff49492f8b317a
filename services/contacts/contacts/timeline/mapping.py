"""THE mapping from domain events to timeline entries: one line per event type.

A new event type joins the timeline with one line here: its (source service, event type) and a `Rule`
saying which timeline `kind` it is, how its title and summary read, which record it refers to, where in
the payload its contact, time and actor are, which payload fields to keep as `details`, and the resource
type and ownership of the record the entry is about (its scope: see "Who sees an entry" below). The contacts
worker subscribes to every source and event type named here (`timeline.events.SUBSCRIPTIONS`), except
the rules written `in_transaction` by this service itself (interactions: their entry commits with the
interaction, so a logged call is on the timeline as soon as the call that logged it answers).

Lines for services that do not publish yet (sales, support, marketing) are inert: their exchanges and
the contacts worker's queues on them are declared, and nothing arrives until those services announce
these events, with the payload fields named here (`contact_id` at the top level unless the rule says).
An event whose payload names no contact (an order of a company, say) is skipped: not every event of a
type is about a person.

Who sees an entry: whoever may read the contact AND the record the entry is about, by the chassis'
scope rule (crm_platform.access.scope) for that record's resource type (`Rule.resource_type`, by
default the type of its `ref`), on the record's ownership as the event states it (`Rule.ownership`:
payload paths of owner_id, team_id and partner_account_id; top-level by default). An event that leaves
them out gives the entry no ownership, which only callers reading every record of the type see (fail
closed). Profile entries (type `contact`) are about the contact itself: whoever reads it sees them.
"""

from __future__ import annotations

import enum
import functools
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from crm_platform.access.rights import resource_type as registered_type

Payload = Mapping[str, Any]
Template = str | Callable[[Payload], str]


class Action(enum.Enum):
    ADD = "add"  # a new entry per event
    REPLACE = "replace"  # the entry of the same record (ref), refreshed; added if there is none
    REMOVE = "remove"  # the entry of the same record leaves the timeline (a deleted interaction)


CONTACT = "contact"  # the resource type of profile entries: as visible as the contact
OWNERSHIP_PATHS = ("owner_id", "team_id", "partner_account_id")


@dataclass(frozen=True)
class Rule:
    kind: str  # interaction, profile, notification, deal, order, payment, ticket, campaign
    title: Template  # "{dotted.path}" placeholders read the payload; missing or null reads as ""
    summary: Template = ""
    ref: tuple[str, str] | None = None  # (ref_type, payload path of the record's id)
    occurred_at: str = ""  # payload path of when it happened; the event's own time when absent
    contact_id: str = "contact_id"
    actor_id: str = "actor_id"
    details: tuple[str, ...] = ()  # payload paths kept in `details` (keyed by their last segment)
    action: Action = Action.ADD
    in_transaction: bool = False  # written by contacts in the change's transaction, not consumed
    # The resource type of the record the entry is about ("" : the ref's type), whose read scope decides
    # who sees the entry, and the payload paths of that record's owner_id, team_id and partner_account_id
    # (None: the entry is about the contact itself, type `contact`, and is seen by whoever reads it).
    resource_type: str = ""
    ownership: tuple[str, str, str] | None = OWNERSHIP_PATHS

    def __post_init__(self) -> None:
        name = self.resource_type or (self.ref[0] if self.ref else "")
        if not name:
            raise ValueError(f"timeline rule {self.kind!r} names no resource type (and no ref)")
        registered_type(name)  # ValueError for a type the rights matrix does not know
        if name != CONTACT and self.ownership is None:
            raise ValueError(f"timeline rule of type {name!r} needs the record's ownership paths")
        object.__setattr__(self, "resource_type", name)


def lookup(payload: Payload, path: str) -> Any:
    """The value at a dotted path of the payload, or None."""
    value: Any = payload
    for part in path.split("."):
        # A payload is decoded JSON: dicts, checked first (the Mapping ABC check costs ~10x more).
        if type(value) is not dict and not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


@functools.cache
def _parsed(template: str) -> tuple[tuple[str, str | None, str, str | None], ...]:
    """The template's literal texts and fields, parsed once (string.Formatter.parse)."""
    return tuple(string.Formatter().parse(template))


_FORMATTER = string.Formatter()


def render(template: Template, payload: Payload) -> str:
    """The template with each `{dotted.path}` read from the payload (missing or null: "")."""
    if callable(template):
        return template(payload)
    parts = []
    for literal, field, spec, conversion in _parsed(template):
        parts.append(literal)
        if field is not None:
            value = lookup(payload, field)
            value = "" if value is None else _FORMATTER.convert_field(value, conversion)
            parts.append(format(value, spec or ""))
    return " ".join("".join(parts).split())


def _interaction_title(payload: Payload) -> str:
    interaction = lookup(payload, "interaction") or {}
    kind = str(interaction.get("kind") or "interaction").capitalize()
    direction = interaction.get("direction")
    subject = interaction.get("subject")
    head = f"{kind} ({direction})" if direction else kind
    return f"{head}: {subject}" if subject else head


def _changed_fields(payload: Payload) -> str:
    names = lookup(payload, "changed_fields") or []
    return "Changed: " + ", ".join(str(n) for n in names) if names else ""


_INTERACTION = {
    "kind": "interaction",
    "title": _interaction_title,
    "summary": "{interaction.summary}",
    "ref": ("interaction", "interaction.id"),
    "occurred_at": "interaction.occurred_at",
    "contact_id": "interaction.contact_id",
    "ownership": ("interaction.owner_id", "interaction.team_id", "interaction.partner_account_id"),
    "details": (
        "interaction.kind",
        "interaction.direction",
        "interaction.channel",
        "interaction.duration_seconds",
        "interaction.outcome",
        "interaction.deal_id",
        "interaction.ticket_id",
    ),
    "in_transaction": True,
}

# One line per event type (kept one line each: a new event type is one more line).
# fmt: off
MAPPING: dict[tuple[str, str], Rule] = {
    # contacts: the profile (consumed from contacts.events, like any other source's events)
    ("contacts", "contact_created"): Rule("profile", "Contact created", "{first_name} {last_name} <{email}>", ("contact", "contact_id"), "created_at", details=("company",), ownership=None),  # noqa: E501
    ("contacts", "contact_updated"): Rule("profile", "Contact updated", _changed_fields, ("contact", "contact_id"), "updated_at", details=("changed_fields",), ownership=None),  # noqa: E501
    ("contacts", "contact_archived"): Rule("profile", "Contact archived", "", ("contact", "contact_id"), "archived_at", ownership=None),  # noqa: E501
    ("contacts", "consent_changed"): Rule("consent", "Consent {status}: {channel} for {purpose}", "", ("consent", "record_id"), "occurred_at", details=("channel", "purpose", "status"), resource_type="contact", ownership=None),  # noqa: E501
    # contacts: interactions (written in the interaction's own transaction)
    ("contacts", "interaction_logged"): Rule(**_INTERACTION),
    ("contacts", "interaction_updated"): Rule(**{**_INTERACTION, "action": Action.REPLACE}),
    ("contacts", "interaction_archived"): Rule(**{**_INTERACTION, "action": Action.REMOVE}),
    # notifications (payload: notification_id, contact_id, kind, channel, title, body, sent_at)
    ("notifications", "notification_sent"): Rule("notification", "Notification: {title}", "{body}", ("notification", "notification_id"), "sent_at", details=("kind", "channel")),  # noqa: E501
    # sales: leads and deals (crm/events/v1/leads.proto, deals.proto; lead_created and lead_status_changed
    # name no contact, so they are on no timeline)
    ("sales", "lead_converted"): Rule("lead", "Converted from lead: {company}", "", ("lead", "lead_id"), "converted_at", details=("deal_id", "company_id")),  # noqa: E501
    ("sales", "deal_created"): Rule("deal", "Deal created: {title}", "", ("deal", "deal_id"), "created_at", details=("amount", "stage_id", "pipeline_id")),  # noqa: E501
    ("sales", "deal_stage_changed"): Rule("deal", "Deal {title} moved to {to_stage_name}", "", ("deal", "deal_id"), "changed_at", details=("from_stage_id", "to_stage_id", "probability")),  # noqa: E501
    ("sales", "deal_won"): Rule("deal", "Deal won: {title}", "{reason}", ("deal", "deal_id"), "closed_at", details=("amount",)),  # noqa: E501
    ("sales", "deal_lost"): Rule("deal", "Deal lost: {title}", "{reason}", ("deal", "deal_id"), "closed_at", details=("amount", "competitor")),  # noqa: E501
    # sales: commerce (inert until sales publishes them)
    ("sales", "order_placed"): Rule("order", "Order placed: {number}", "", ("order", "order_id"), "placed_at", details=("total",)),  # noqa: E501
    ("sales", "payment_received"): Rule("payment", "Payment received", "", ("payment", "payment_id"), "received_at", details=("amount", "order_id")),  # noqa: E501
    ("sales", "order_status_changed"): Rule("order", "Order {number} {to_status}", "", ("order", "order_id"), "changed_at", details=("from_status", "to_status")),  # noqa: E501
    # sales: quotes (crm/sales/v1/quotes.proto, QuoteEvent; drafts, edits and approvals are internal)
    ("sales", "quote_sent"): Rule("quote", "Quote {number} sent", "", ("quote", "quote_id"), "occurred_at", details=("total",)),  # noqa: E501
    ("sales", "quote_accepted"): Rule("quote", "Quote {number} accepted", "", ("quote", "quote_id"), "occurred_at", details=("total", "order_id")),  # noqa: E501
    ("sales", "quote_rejected"): Rule("quote", "Quote {number} rejected", "{reason}", ("quote", "quote_id"), "occurred_at", details=("total",)),  # noqa: E501
    ("sales", "quote_expired"): Rule("quote", "Quote {number} expired", "", ("quote", "quote_id"), "occurred_at", details=("total",)),  # noqa: E501
    # sales: partner deal registrations (crm/sales/v1/registrations.proto), on their contact's timeline
    ("sales", "deal_registration_submitted"): Rule("deal_registration", "Deal registered by a partner: {title}", "{company_name}", ("deal_registration", "registration_id"), "submitted_at", details=("company_domain",)),  # noqa: E501
    ("sales", "deal_registration_approved"): Rule("deal_registration", "Deal registration approved: {title}", "{reason}", ("deal_registration", "registration_id"), "reviewed_at", details=("protected_until", "deal_id")),  # noqa: E501
    ("sales", "deal_registration_rejected"): Rule("deal_registration", "Deal registration rejected: {title}", "{reason}", ("deal_registration", "registration_id"), "reviewed_at"),  # noqa: E501
    # sales: tasks and appointments (crm/sales/v1/activities.proto; an update or a reminder is no news here)
    ("sales", "task_created"): Rule("task", "Task: {title}", "{task.notes}", ("task", "task_id"), "changed_at", details=("task.due_at", "task.priority")),  # noqa: E501
    ("sales", "task_completed"): Rule("task", "Task done: {title}", "", ("task", "task_id"), "changed_at"),
    ("sales", "appointment_scheduled"): Rule("appointment", "Appointment: {title}", "{appointment.location}", ("appointment", "appointment_id"), "changed_at", details=("appointment.start_at", "appointment.end_at")),  # noqa: E501
    ("sales", "appointment_rescheduled"): Rule("appointment", "Appointment: {title}", "{appointment.location}", ("appointment", "appointment_id"), "changed_at", details=("appointment.start_at", "appointment.end_at"), action=Action.REPLACE),  # noqa: E501
    ("sales", "appointment_cancelled"): Rule("appointment", "Appointment cancelled: {title}", "", ("appointment", "appointment_id"), "changed_at"),  # noqa: E501
    # support (inert until support publishes them)
    ("support", "ticket_opened"): Rule("ticket", "Ticket opened: {subject}", "", ("ticket", "ticket_id"), "opened_at", details=("priority",)),  # noqa: E501
    ("support", "ticket_closed"): Rule("ticket", "Ticket closed: {subject}", "{resolution}", ("ticket", "ticket_id"), "closed_at"),  # noqa: E501
    # marketing (inert until marketing publishes it)
    ("marketing", "campaign_response"): Rule("campaign", "Responded to campaign {campaign_name}", "{response}", ("campaign", "campaign_id"), "responded_at", details=("channel",)),  # noqa: E501
}
# fmt: on

# The resource types entries are about: the timeline's reads OR one scope clause per type.
RESOURCE_TYPES: tuple[str, ...] = tuple(sorted({rule.resource_type for rule in MAPPING.values()}))

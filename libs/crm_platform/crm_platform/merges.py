"""A service's references follow merges of contacts and companies (contacts' `contact_merged` and
`company_merged`).

The rule (docs/architecture.md, "Duplicates and merges"): on each event, re-point every reference to
any id of `merged_ids` to `survivor_id`, in the handler's transaction, and give what is scoped like the
record the survivor's ownership (carried in the event). Contacts publishes the event on the aggregate of
every record whose references move, so it is applied after that record's earlier events; applying it
again changes nothing; and since every merge also names the records merged earlier into its sources, the
last of these events a consumer applies names the final survivor (A -> B then B -> C leaves A's and B's
references on C, whatever the order of A's and B's events). A reference written later from an event
still naming a merged id (one published before the merge by another service) is resolved by asking
contacts (GetContact answers MOVED with the survivor).

A service lists its re-pointers per record type (each moves one kind of reference and returns how many);
with none (sales, marketing and support until their tables arrive) the events are consumed and change
nothing, but the subscriptions are there for the first table that holds a contact or a company id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from crm_platform.access import Ownership
from crm_platform.events import PoisonEvent
from crm_platform.events.wire import Event
from crm_platform.service import Subscription

log = logging.getLogger(__name__)

CONTACT_MERGED = "contact_merged"
COMPANY_MERGED = "company_merged"


@dataclass(frozen=True)
class Merged:
    """What a `*_merged` event says: the records whose references move, where to, and the survivor's
    ownership (none where the event leaves it out)."""

    survivor_id: str
    merged_ids: tuple[str, ...]
    ownership: Ownership


def merged_from(event: Event) -> Merged:
    """The event's content; PoisonEvent when it lacks what re-pointing needs."""
    data = event.data
    survivor = data.get("survivor_id")
    merged = data.get("merged_ids")
    if not isinstance(survivor, str) or not survivor:
        raise PoisonEvent(f"{event.type} without survivor_id")
    if not isinstance(merged, list) or not merged or not all(isinstance(i, str) and i for i in merged):
        raise PoisonEvent(f"{event.type} without merged_ids")
    if survivor in merged:
        raise PoisonEvent(f"{event.type}: the survivor is among merged_ids")
    owner = {name: data.get(name) or None for name in ("owner_id", "team_id", "partner_account_id")}
    if not all(value is None or isinstance(value, str) for value in owner.values()):
        raise PoisonEvent(f"{event.type}: ownership fields must be strings")
    return Merged(survivor, tuple(merged), Ownership(**owner))


Repointer = Callable[[Session, Merged], int]


@dataclass
class MergeFollowers:
    """The re-pointers of one service, per record type, and the subscriptions that run them."""

    service: str
    contacts: list[Repointer] = field(default_factory=list)
    companies: list[Repointer] = field(default_factory=list)

    def _apply(self, session: Session, event: Event, repointers: list[Repointer]) -> None:
        merged = merged_from(event)
        moved = sum(repoint(session, merged) for repoint in repointers)
        log.info(
            "references re-pointed to the survivor",
            extra={
                "event_type": event.type,
                "survivor_id": merged.survivor_id,
                "merged_ids": list(merged.merged_ids),
                "references": moved,
                "event_id": event.id,
            },
        )

    def on_contact_merged(self, session: Session, event: Event) -> None:
        self._apply(session, event, self.contacts)

    def on_company_merged(self, session: Session, event: Event) -> None:
        self._apply(session, event, self.companies)

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return (
            Subscription("contacts", CONTACT_MERGED, self.on_contact_merged),
            Subscription("contacts", COMPANY_MERGED, self.on_company_merged),
        )

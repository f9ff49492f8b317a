"""Duplicate candidates of a contact: who else in its book may be the same person, and why.

Candidates are found through indexes (one query per reason), every one narrowed to the live contacts
the caller may read (the chassis scope clause), in any book the caller sees: within one book no two
contacts share an email (the unique index), so the same person with the same email can only be found in
two books (a partner's customer who is also the company's own), which a caller reading both is shown
(a merge across books is refused: it would move a partner's customer out of its account):
- same email: any address of the contact held by another (contact_emails);
- same phone: a number of the contact that is another's primary number (phone column);
- similar name at the same company: contacts of the same company (case-insensitive) whose full name
  reads like the contact's (rapidfuzz token-sort ratio, word order and case ignored, >= NAME_THRESHOLD).
Each candidate is then compared on all three, with every number and address it has, so one found by its
email also shows a shared secondary phone. The score adds the reasons' weights as independent evidence:
1 - (1 - w1)(1 - w2)..., the name's weight scaled by its similarity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contacts import store
from contacts.store import Contact, ContactEmailRow
from crm.contacts.v1 import merge_pb2
from crm_platform.access import CallerContext

SAME_EMAIL = merge_pb2.DUPLICATE_REASON_SAME_EMAIL
SAME_PHONE = merge_pb2.DUPLICATE_REASON_SAME_PHONE
SIMILAR_NAME = merge_pb2.DUPLICATE_REASON_SIMILAR_NAME_SAME_COMPANY

WEIGHTS = {SAME_EMAIL: 0.9, SAME_PHONE: 0.8, SIMILAR_NAME: 0.6}
NAME_THRESHOLD = 0.85
# Contacts of one company compared by name at most (a company with more is compared on its first ones).
MAX_SAME_COMPANY = 500
DEFAULT_LIMIT = 20


@dataclass(frozen=True)
class Candidate:
    row: Any
    score: float
    reasons: tuple[int, ...]
    name_similarity: float


def _emails(row: Any) -> set[str]:
    return {row.email, *(entry.get("address") for entry in row.emails or [])} - {None, ""}


def _phones(row: Any) -> set[str]:
    return {row.phone, *(entry.get("number") for entry in row.phones or [])} - {None, ""}


def _full_name(row: Any) -> str:
    return f"{row.first_name} {row.last_name}".lower()


def name_similarity(a: Any, b: Any) -> float:
    return round(fuzz.token_sort_ratio(_full_name(a), _full_name(b)) / 100, 4)


def _same_company(a: Any, b: Any) -> bool:
    return bool(a.company) and (a.company or "").strip().lower() == (b.company or "").strip().lower()


def compare(contact: Any, other: Any) -> Candidate | None:
    """Why `other` may be `contact`, or None."""
    similarity = name_similarity(contact, other)
    reasons = []
    if _emails(contact) & _emails(other):
        reasons.append(SAME_EMAIL)
    if _phones(contact) & _phones(other):
        reasons.append(SAME_PHONE)
    if _same_company(contact, other) and similarity >= NAME_THRESHOLD:
        reasons.append(SIMILAR_NAME)
    if not reasons:
        return None
    unlikely = 1.0
    for reason in reasons:
        weight = WEIGHTS[reason] * (similarity if reason == SIMILAR_NAME else 1.0)
        unlikely *= 1.0 - weight
    return Candidate(other, round(1.0 - unlikely, 4), tuple(reasons), similarity)


def candidates(
    session: Session, contact: Any, caller: CallerContext | None, limit: int = DEFAULT_LIMIT
) -> list[Candidate]:
    """The contact's duplicate candidates the caller may read, highest score first (ties by id)."""
    live = (
        Contact.id != contact.id,
        Contact.archived_at.is_(None),
        Contact.merged_into.is_(None),
    )
    queries = [
        select(Contact)
        .join(ContactEmailRow, ContactEmailRow.contact_id == Contact.id)
        .where(*live, ContactEmailRow.email.in_(sorted(_emails(contact))))
    ]
    if phones := sorted(_phones(contact)):
        queries.append(select(Contact).where(*live, Contact.phone.in_(phones)))
    if company := (contact.company or "").strip().lower():
        queries.append(
            select(Contact)
            .where(*live, func.lower(Contact.company) == company)
            .order_by(Contact.id)
            .limit(MAX_SAME_COMPANY)
        )
    found: dict[str, Any] = {}
    for query in queries:
        for row in session.scalars(store.contacts.scoped(query, caller)):
            found.setdefault(row.id, row)
    ranked = [c for c in (compare(contact, row) for row in found.values()) if c is not None]
    ranked.sort(key=lambda c: (-c.score, c.row.id))
    return ranked[: limit or DEFAULT_LIMIT]


def as_messages(found: Sequence[Candidate]) -> list[merge_pb2.ContactDuplicate]:
    return [
        merge_pb2.ContactDuplicate(
            contact=store.to_message(c.row),
            score=c.score,
            reasons=list(c.reasons),
            name_similarity=c.name_similarity,
        )
        for c in found
    ]

"""What deals and leads hold of people (ids of contacts' records), in a person's data export and on
their erasure (crm_platform.personal_data); merges are sales.merge_references.

A deal is a business record: on an erasure it keeps the contact's id (the contact stays as a tombstone)
and holds nothing else of the person. A lead is the person as first captured: once it became the erased
contact its personal fields are blanked, like the contact's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm_platform import protojson
from crm_platform.access.context import current_caller_or_none
from crm_platform.personal_data import PersonalData
from sales.deals.store import Deal, deals, to_message
from sales.leads.store import Lead, leads
from sales.leads.store import to_message as lead_message

# The lead's fields that are about the person (blanked on erasure; last_name, required, becomes this).
PERSONAL_LEAD_FIELDS = ("first_name", "email", "phone", "title", "region", "notes")
ERASED = "(erased)"


def export_deals(session: Session, contact_id: str) -> list[dict[str, Any]]:
    """The person's deals that the caller may read (an export is the caller's view)."""
    query = deals.scoped(select(Deal).where(Deal.contact_id == contact_id), current_caller_or_none())
    return [
        protojson.encode(to_message(d)) for d in session.scalars(query.order_by(Deal.created_at, Deal.id))
    ]


def export_leads(session: Session, contact_id: str) -> list[dict[str, Any]]:
    """The leads that became the person, as far as the caller may read them."""
    query = leads.scoped(
        select(Lead).where(Lead.converted_contact_id == contact_id), current_caller_or_none()
    )
    return [protojson.encode(lead_message(lead)) for lead in session.scalars(query.order_by(Lead.created_at))]


def erase_leads(session: Session, contact_id: str) -> None:
    session.execute(
        update(Lead)
        .where(Lead.converted_contact_id == contact_id)
        .values({**{name: None for name in PERSONAL_LEAD_FIELDS}, "last_name": ERASED, "score_breakdown": []})
    )


def hold_personal_data(personal: PersonalData) -> PersonalData:
    personal.exporters["deals"] = export_deals
    personal.exporters["leads"] = export_leads
    personal.erasers.append(erase_leads)
    return personal

"""Leads and their rules: tables, their mapping to the contract, and the queries. Tables live in the
sales database (sales.store.Base).

- `leads`: a standard resource (crm_platform.resources.Repository). Its score and breakdown are kept on
  the row (listable, orderable) and recomputed whenever what they depend on changes: the lead's fields,
  its recorded activities, the rules.
- `lead_scoring_rules`, `lead_assignment_rules`, `lead_forms`: configuration (no owner). An assignment
  rule counts the leads it gave out (`turn`), under its row lock, so round robin holds with concurrent
  captures.
- `lead_activities`: behaviour events recorded against a lead (once per event id), which behaviour
  rules count.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, Select, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from crm.sales.v1 import leads_pb2
from crm_platform import protojson
from crm_platform.db import UtcDateTime, utcnow
from crm_platform.errors import NotFound
from crm_platform.listing import ENUM, INTEGER, STRING, TIMESTAMP, Field, ListSpec
from crm_platform.protobuf import timestamp
from crm_platform.resources import Repository, etag_of
from sales.leads import domain
from sales.store import Base

STATUSES = tuple(
    name for name in protojson.enum_names(leads_pb2.LeadStatus.DESCRIPTOR).values() if name is not None
)
SCORING_RULE = "lead_scoring_rule"
ASSIGNMENT_RULE = "lead_assignment_rule"


class Lead(Base):
    __tablename__ = "leads"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    first_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True, index=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    company: Mapped[str | None] = mapped_column(String(200), nullable=True)
    company_domain: Mapped[str | None] = mapped_column(String(253), nullable=True)
    title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    industry: Mapped[str | None] = mapped_column(String(100), nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    region: Mapped[str | None] = mapped_column(String(100), nullable=True)
    source: Mapped[str | None] = mapped_column(String(100), nullable=True)
    campaign_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    disqualified_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    score: Mapped[int] = mapped_column(Integer)
    # [{"rule_id", "rule_name", "points", "reason"}, ...]: what the score is made of.
    score_breakdown: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    converted_contact_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    converted_company_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    converted_deal_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    converted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    owner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    partner_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        *(
            Index(f"ix_leads_{name}_created_at", name, "created_at", "id")
            for name in ("owner_id", "team_id", "partner_account_id")
        ),
        Index("ix_leads_created_at", "created_at", "id"),
        Index("ix_leads_score", "score", "id"),
    )


class LeadScoringRule(Base):
    __tablename__ = "lead_scoring_rules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    field: Mapped[str | None] = mapped_column(String(40), nullable=True)
    values: Mapped[list[str]] = mapped_column(JSON)
    event_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    points: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LeadAssignmentRule(Base):
    __tablename__ = "lead_assignment_rules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    priority: Mapped[int] = mapped_column(Integer)
    countries: Mapped[list[str]] = mapped_column(JSON)
    regions: Mapped[list[str]] = mapped_column(JSON)
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_ids: Mapped[list[str]] = mapped_column(JSON)
    # How many leads the rule has given out: the next one goes to user_ids[turn % len(user_ids)].
    turn: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LeadForm(Base):
    __tablename__ = "lead_forms"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(100))
    campaign_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    partner_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LeadActivity(Base):
    __tablename__ = "lead_activities"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    lead_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(100))
    # The event that recorded it: an event redelivered adds nothing.
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_lead_activities_lead", "lead_id", "event_type"),)


# --- the contract ---------------------------------------------------------------------------------


def to_message(lead: Any) -> leads_pb2.Lead:
    """`lead` is an ORM row or a Core row (attribute access by column name)."""
    message = leads_pb2.Lead(
        id=lead.id,
        first_name=lead.first_name or "",
        last_name=lead.last_name,
        email=lead.email or "",
        phone=lead.phone or "",
        company=lead.company or "",
        company_domain=lead.company_domain or "",
        title=lead.title or "",
        industry=lead.industry or "",
        country=lead.country or "",
        region=lead.region or "",
        source=lead.source or "",
        campaign_id=lead.campaign_id or "",
        status=protojson.enum_numbers(leads_pb2.LeadStatus.DESCRIPTOR).get(lead.status, 0),
        disqualified_reason=lead.disqualified_reason or "",
        notes=lead.notes or "",
        score=lead.score,
        score_breakdown=[leads_pb2.LeadScoreItem(**item) for item in lead.score_breakdown or []],
        converted_contact_id=lead.converted_contact_id or "",
        converted_company_id=lead.converted_company_id or "",
        converted_deal_id=lead.converted_deal_id or "",
        created_at=timestamp(lead.created_at),
        updated_at=timestamp(lead.updated_at),
        etag=etag_of(lead.id, lead.version),
        owner_id=lead.owner_id or "",
        team_id=lead.team_id or "",
        partner_account_id=lead.partner_account_id or "",
    )
    if lead.converted_at is not None:
        message.converted_at.CopyFrom(timestamp(lead.converted_at))
    if lead.archived_at is not None:
        message.archived_at.CopyFrom(timestamp(lead.archived_at))
    return message


TEXT_FIELDS = (
    "first_name",
    "email",
    "phone",
    "company",
    "company_domain",
    "title",
    "industry",
    "region",
    "source",
    "campaign_id",
    "disqualified_reason",
    "notes",
    "owner_id",
    "team_id",
    "partner_account_id",
)


def to_columns(message: leads_pb2.Lead) -> dict[str, Any]:
    return {
        **{name: getattr(message, name) or None for name in TEXT_FIELDS},
        "last_name": message.last_name,
        "country": message.country.upper() or None,
        "status": protojson.enum_names(leads_pb2.LeadStatus.DESCRIPTOR).get(message.status) or domain.NEW,
    }


leads = Repository(Lead, "lead", to_message=to_message, to_columns=to_columns, request_field="lead")

LIST_SPEC = ListSpec(
    name="leads",
    fields={
        "status": Field(Lead.status, ENUM, enum_values=STATUSES),
        "source": Field(Lead.source, STRING),
        "campaign_id": Field(Lead.campaign_id, STRING),
        "email": Field(Lead.email, STRING),
        "company": Field(Lead.company, STRING),
        "industry": Field(Lead.industry, STRING),
        "country": Field(Lead.country, STRING),
        "region": Field(Lead.region, STRING),
        "score": Field(Lead.score, INTEGER),
        "last_name": Field(Lead.last_name, STRING),
        "owner_id": Field(Lead.owner_id, STRING),
        "team_id": Field(Lead.team_id, STRING),
        "partner_account_id": Field(Lead.partner_account_id, STRING),
        "created_at": Field(Lead.created_at, TIMESTAMP),
        "updated_at": Field(Lead.updated_at, TIMESTAMP),
    },
    orderable={"score", "last_name", "company", "created_at", "updated_at"},
    default_order="created_at",
    tie_breaker=Lead.id,
)


def active_leads() -> Select[tuple[Lead]]:
    return select(Lead).where(Lead.archived_at.is_(None))


# --- scoring ------------------------------------------------------------------------------------------


def scoring_rules(session: Session) -> list[domain.ScoringRule]:
    rows = session.scalars(select(LeadScoringRule).order_by(LeadScoringRule.created_at, LeadScoringRule.id))
    return [
        domain.ScoringRule(r.id, r.name, r.points, r.field or "", tuple(r.values or ()), r.event_type or "")
        for r in rows
    ]


def scoring_rule_message(rule: LeadScoringRule) -> leads_pb2.LeadScoringRule:
    return leads_pb2.LeadScoringRule(
        id=rule.id,
        name=rule.name,
        field=rule.field or "",
        values=list(rule.values or ()),
        event_type=rule.event_type or "",
        points=rule.points,
        created_at=timestamp(rule.created_at),
        updated_at=timestamp(rule.updated_at),
        etag=etag_of(rule.id, rule.version),
    )


def get_scoring_rule(session: Session, rule_id: str, *, for_update: bool = True) -> LeadScoringRule:
    rule = session.get(LeadScoringRule, rule_id, with_for_update=for_update)
    if rule is None:
        raise NotFound(
            f"lead scoring rule {rule_id} not found", resource_type=SCORING_RULE, resource_name=rule_id
        )
    return rule


def activity_counts(session: Session, lead_id: str) -> dict[str, int]:
    rows = session.execute(
        select(LeadActivity.event_type, func.count())
        .where(LeadActivity.lead_id == lead_id)
        .group_by(LeadActivity.event_type)
    )
    return {event_type: count for event_type, count in rows}


def attributes_of(lead: Any) -> dict[str, str]:
    return {name: getattr(lead, name) or "" for name in domain.SCORABLE_FIELDS}


def breakdown(items: Sequence[domain.ScoreItem]) -> list[dict[str, Any]]:
    return [
        {"rule_id": i.rule_id, "rule_name": i.rule_name, "points": i.points, "reason": i.reason}
        for i in items
    ]


def rescore(session: Session, lead: Lead, rules: Sequence[domain.ScoringRule]) -> bool:
    """Recomputes the lead's score in place; whether it changed. A score is derived data: it changes no
    version and writes no history (the inputs that moved it did)."""
    total, items = domain.score(attributes_of(lead), activity_counts(session, lead.id), rules)
    kept = breakdown(items)
    if (lead.score, lead.score_breakdown) == (total, kept):
        return False
    lead.score, lead.score_breakdown = total, kept
    return True


def rescore_open_leads(session: Session) -> int:
    """After a rule changed: every lead not converted nor archived, rescored; how many changed."""
    rules = scoring_rules(session)
    changed = 0
    query = select(Lead).where(Lead.status != domain.CONVERTED, Lead.archived_at.is_(None))
    for lead in session.scalars(query.execution_options(yield_per=500)):
        changed += rescore(session, lead, rules)
    session.flush()
    return changed


def record_activity(session: Session, lead_id: str, event_type: str, event_id: str, at: datetime) -> bool:
    """Records a behaviour event against a lead once (a redelivered event adds nothing)."""
    if session.scalar(select(LeadActivity.id).where(LeadActivity.event_id == event_id)) is not None:
        return False
    session.add(LeadActivity(lead_id=lead_id, event_type=event_type, event_id=event_id, occurred_at=at))
    session.flush()
    return True


def leads_of_person(session: Session, lead_id: str, email: str) -> list[Lead]:
    """The open leads an event is about: the one it names, else those with its email."""
    query = select(Lead).where(Lead.archived_at.is_(None), Lead.status != domain.CONVERTED)
    if lead_id:
        query = query.where(Lead.id == lead_id)
    elif email:
        query = query.where(Lead.email == email.strip().lower())
    else:
        return []
    return list(session.scalars(query.with_for_update()))


# --- assignment ---------------------------------------------------------------------------------------


def assignment_rule_message(rule: LeadAssignmentRule) -> leads_pb2.LeadAssignmentRule:
    return leads_pb2.LeadAssignmentRule(
        id=rule.id,
        name=rule.name,
        priority=rule.priority,
        countries=list(rule.countries or ()),
        regions=list(rule.regions or ()),
        team_id=rule.team_id or "",
        user_ids=list(rule.user_ids or ()),
        created_at=timestamp(rule.created_at),
    )


def assignment_rules(session: Session) -> list[LeadAssignmentRule]:
    return list(
        session.scalars(
            select(LeadAssignmentRule).order_by(
                LeadAssignmentRule.priority, LeadAssignmentRule.created_at, LeadAssignmentRule.id
            )
        )
    )


def assign(session: Session, country: str, region: str) -> tuple[str, str | None] | None:
    """(owner, team) for a new lead by the first rule whose territory holds it, taking that rule's next
    turn under its row lock (so concurrent captures never get the same turn); None when no rule matches."""
    rules = assignment_rules(session)
    plain = [
        domain.AssignmentRule(
            r.id, tuple(r.countries or ()), tuple(r.regions or ()), tuple(r.user_ids), r.team_id or ""
        )
        for r in rules
    ]
    chosen = domain.first_match(plain, country, region)
    if chosen is None:
        return None
    row = session.get(LeadAssignmentRule, chosen.id, with_for_update=True, populate_existing=True)
    assert row is not None
    owner = domain.next_in_turn(row.user_ids, row.turn)
    row.turn += 1
    session.flush()
    return owner, row.team_id


def get_assignment_rule(session: Session, rule_id: str) -> LeadAssignmentRule:
    rule = session.get(LeadAssignmentRule, rule_id)
    if rule is None:
        raise NotFound(
            f"lead assignment rule {rule_id} not found", resource_type=ASSIGNMENT_RULE, resource_name=rule_id
        )
    return rule


def add_assignment_rule(
    session: Session, request: leads_pb2.CreateLeadAssignmentRuleRequest
) -> LeadAssignmentRule:
    rule = LeadAssignmentRule(
        id=str(uuid.uuid4()),
        name=request.name.strip(),
        priority=request.priority,
        countries=[c.upper() for c in request.countries],
        regions=[r.strip() for r in request.regions],
        team_id=request.team_id or None,
        user_ids=list(request.user_ids),
        turn=0,
        created_at=utcnow(),
    )
    session.add(rule)
    session.flush()
    return rule


# --- web forms ----------------------------------------------------------------------------------------


def form_message(form: LeadForm) -> leads_pb2.LeadForm:
    return leads_pb2.LeadForm(
        id=form.id,
        key=form.key,
        name=form.name,
        source=form.source,
        campaign_id=form.campaign_id or "",
        partner_account_id=form.partner_account_id or "",
        created_at=timestamp(form.created_at),
    )


def add_form(session: Session, request: leads_pb2.CreateLeadFormRequest) -> LeadForm:
    form = LeadForm(
        id=str(uuid.uuid4()),
        key=secrets.token_urlsafe(18),
        name=request.name.strip(),
        source=request.source.strip() or "web_form",
        campaign_id=request.campaign_id or None,
        partner_account_id=request.partner_account_id or None,
        created_at=utcnow(),
    )
    session.add(form)
    session.flush()
    return form


def get_form(session: Session, form_id: str) -> LeadForm:
    form = session.get(LeadForm, form_id)
    if form is None:
        raise NotFound(f"lead form {form_id} not found", resource_type="lead_form", resource_name=form_id)
    return form


def form_by_key(session: Session, key: str) -> LeadForm:
    form = session.scalars(select(LeadForm).where(LeadForm.key == key)).one_or_none()
    if form is None:
        raise NotFound("no such form", resource_type="lead_form", resource_name=key)
    return form

"""Pipelines and deals: tables, their mapping to the contract, and the queries. Tables live in the
sales database (sales.store.Base).

- `pipelines` and `pipeline_stages`: configuration. A stage removed from a pipeline is archived, not
  deleted, so the stage history and the reports keep its name.
- `deals`: a standard resource (crm_platform.resources.Repository: etag, field mask, history,
  record-level scope). `stage_position` copies its stage's place in the pipeline so that a Kanban list
  (`order_by=stage,position`) is one index range; a pipeline whose stages are reordered rewrites it.
- `deal_stage_changes`: one row per stage a deal entered (time, actor): what the funnel and
  time-in-stage reports read.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Text,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from crm.common.v1 import money_pb2
from crm.sales.v1 import deals_pb2
from crm_platform import protojson
from crm_platform.access import CallerContext, Level, require
from crm_platform.db import UtcDateTime, utcnow
from crm_platform.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from crm_platform.listing import DATE, ENUM, INTEGER, STRING, TIMESTAMP, Field, ListSpec
from crm_platform.protobuf import timestamp
from crm_platform.resources import Repository, etag_of
from crm_platform.resources.etag import check_etag
from sales.deals.domain import OPEN, Amount, StageSpec
from sales.store import Base

STATUSES = tuple(
    name for name in protojson.enum_names(deals_pb2.DealStatus.DESCRIPTOR).values() if name is not None
)
PIPELINE = "pipeline"
# The default pipeline, made by the migration so that a deal can be created on a fresh install.
DEFAULT_PIPELINE_ID = "00000000-0000-4000-8000-00000000d001"


class Pipeline(Base):
    __tablename__ = "pipelines"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    is_default: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PipelineStage(Base):
    __tablename__ = "pipeline_stages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    pipeline_id: Mapped[str] = mapped_column(String(36), ForeignKey("pipelines.id"))
    name: Mapped[str] = mapped_column(String(100))
    probability: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    # Set when the stage was removed from its pipeline (kept for the stage history and reports).
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_pipeline_stages_pipeline_position", "pipeline_id", "position"),)


class Deal(Base):
    __tablename__ = "deals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    pipeline_id: Mapped[str] = mapped_column(String(36))
    stage_id: Mapped[str] = mapped_column(String(36))
    stage_position: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    probability: Mapped[int] = mapped_column(Integer)
    expected_close_date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    contact_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    company_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    lead_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    close_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    competitor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    stage_entered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    owner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    partner_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        # With the list's default order behind each scope column: a scoped first page is an index range.
        *(
            Index(f"ix_deals_{name}_created_at", name, "created_at", "id")
            for name in ("owner_id", "team_id", "partner_account_id")
        ),
        Index("ix_deals_created_at", "created_at", "id"),
        # A Kanban board: a pipeline's deals by stage, then place in the stage.
        Index("ix_deals_kanban", "pipeline_id", "stage_position", "position", "id"),
        Index("ix_deals_stage_position", "stage_id", "position"),
    )


class DealStageChange(Base):
    __tablename__ = "deal_stage_changes"

    # A sequence: orders one deal's changes as they were committed (the deal's row is locked by each).
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    deal_id: Mapped[str] = mapped_column(String(36), ForeignKey("deals.id"))
    pipeline_id: Mapped[str] = mapped_column(String(36))
    from_stage_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    to_stage_id: Mapped[str] = mapped_column(String(36))
    actor_id: Mapped[str] = mapped_column(String(255))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_deal_stage_changes_deal", "deal_id", "changed_at"),
        # The funnel: deals entering each stage of a pipeline in a period.
        Index("ix_deal_stage_changes_funnel", "pipeline_id", "to_stage_id", "changed_at"),
    )


# --- the contract ---------------------------------------------------------------------------------


def amount_of(row: Any) -> Amount | None:
    return Amount(row.amount_minor, row.currency) if row.currency else None


def to_message(deal: Any) -> deals_pb2.Deal:
    """`deal` is an ORM row or a Core row (attribute access by column name)."""
    message = deals_pb2.Deal(
        id=deal.id,
        title=deal.title,
        pipeline_id=deal.pipeline_id,
        stage_id=deal.stage_id,
        position=deal.position,
        status=protojson.enum_numbers(deals_pb2.DealStatus.DESCRIPTOR).get(deal.status, 0),
        probability=deal.probability,
        expected_close_date=deal.expected_close_date or "",
        contact_id=deal.contact_id or "",
        company_id=deal.company_id or "",
        lead_id=deal.lead_id or "",
        description=deal.description or "",
        close_reason=deal.close_reason or "",
        competitor=deal.competitor or "",
        stage_entered_at=timestamp(deal.stage_entered_at),
        created_at=timestamp(deal.created_at),
        updated_at=timestamp(deal.updated_at),
        etag=etag_of(deal.id, deal.version),
        owner_id=deal.owner_id or "",
        team_id=deal.team_id or "",
        partner_account_id=deal.partner_account_id or "",
    )
    if deal.currency:
        message.amount.CopyFrom(money_pb2.Money(amount_minor=deal.amount_minor or 0, currency=deal.currency))
    if deal.closed_at is not None:
        message.closed_at.CopyFrom(timestamp(deal.closed_at))
    if deal.archived_at is not None:
        message.archived_at.CopyFrom(timestamp(deal.archived_at))
    return message


def to_columns(message: deals_pb2.Deal) -> dict[str, Any]:
    """The columns an update writes: the writable fields (stage and status change through their own
    methods)."""
    has_amount = message.HasField("amount") and bool(message.amount.currency or message.amount.amount_minor)
    return {
        "title": message.title,
        "amount_minor": message.amount.amount_minor if has_amount else None,
        "currency": message.amount.currency if has_amount else None,
        "probability": message.probability,
        "expected_close_date": message.expected_close_date or None,
        "contact_id": message.contact_id or None,
        "company_id": message.company_id or None,
        "description": message.description or None,
        "owner_id": message.owner_id or None,
        "team_id": message.team_id or None,
        "partner_account_id": message.partner_account_id or None,
    }


deals = Repository(Deal, "deal", to_message=to_message, to_columns=to_columns, request_field="deal")

LIST_SPEC = ListSpec(
    name="deals",
    fields={
        "pipeline_id": Field(Deal.pipeline_id, STRING),
        "stage_id": Field(Deal.stage_id, STRING),
        "status": Field(Deal.status, ENUM, enum_values=STATUSES),
        "contact_id": Field(Deal.contact_id, STRING),
        "company_id": Field(Deal.company_id, STRING),
        "lead_id": Field(Deal.lead_id, STRING),
        "owner_id": Field(Deal.owner_id, STRING),
        "team_id": Field(Deal.team_id, STRING),
        "partner_account_id": Field(Deal.partner_account_id, STRING),
        "currency": Field(Deal.currency, STRING),
        "amount_minor": Field(Deal.amount_minor, INTEGER),
        "expected_close_date": Field(Deal.expected_close_date, DATE),
        "created_at": Field(Deal.created_at, TIMESTAMP),
        "updated_at": Field(Deal.updated_at, TIMESTAMP),
        "title": Field(Deal.title, STRING),
        # The stage's place in its pipeline (Kanban columns in order).
        "stage": Field(Deal.stage_position, INTEGER),
        "position": Field(Deal.position, INTEGER),
    },
    orderable={
        "stage",
        "position",
        "title",
        "amount_minor",
        "expected_close_date",
        "created_at",
        "updated_at",
    },
    default_order="created_at",
    tie_breaker=Deal.id,
)


def active_deals() -> Select[tuple[Deal]]:
    """Where lists start: archived deals have left them (they stay readable by id)."""
    return select(Deal).where(Deal.archived_at.is_(None))


def stage_change_message(change: DealStageChange) -> deals_pb2.DealStageChange:
    return deals_pb2.DealStageChange(
        deal_id=change.deal_id,
        pipeline_id=change.pipeline_id,
        from_stage_id=change.from_stage_id or "",
        to_stage_id=change.to_stage_id,
        actor_id=change.actor_id,
        changed_at=timestamp(change.changed_at),
    )


# --- pipelines ----------------------------------------------------------------------------------------


def pipeline_message(pipeline: Pipeline, stages: list[PipelineStage]) -> deals_pb2.Pipeline:
    return deals_pb2.Pipeline(
        id=pipeline.id,
        name=pipeline.name,
        is_default=pipeline.is_default,
        stages=[
            deals_pb2.PipelineStage(id=s.id, name=s.name, probability=s.probability, position=s.position)
            for s in stages
        ],
        created_at=timestamp(pipeline.created_at),
        updated_at=timestamp(pipeline.updated_at),
        etag=etag_of(pipeline.id, pipeline.version),
    )


def check_configuration_right(caller: CallerContext | None, resource_type: str, action: str) -> None:
    """Sales configuration (pipelines, lead rules) has no owner: reading needs any read level, changing
    it the level `all` (PERMISSION_DENIED otherwise)."""
    if caller is None:
        return
    level = require(caller, resource_type, action)
    if action != "read" and level is not Level.ALL:
        raise PermissionDenied(f"you may not {action} {resource_type} records (configuration needs `all`)")


def live_stages(session: Session, pipeline_id: str) -> list[PipelineStage]:
    return list(
        session.scalars(
            select(PipelineStage)
            .where(PipelineStage.pipeline_id == pipeline_id, PipelineStage.archived_at.is_(None))
            .order_by(PipelineStage.position)
        )
    )


def get_pipeline(session: Session, pipeline_id: str, *, for_update: bool = False) -> Pipeline:
    query = select(Pipeline).where(Pipeline.id == pipeline_id)
    if for_update:
        query = query.with_for_update()
    pipeline = session.scalars(query).one_or_none()
    if pipeline is None:
        raise NotFound(f"pipeline {pipeline_id} not found", resource_type=PIPELINE, resource_name=pipeline_id)
    return pipeline


def default_pipeline(session: Session) -> Pipeline:
    pipeline = session.scalars(select(Pipeline).where(Pipeline.is_default.is_(True)).limit(1)).first()
    if pipeline is None:
        raise FailedPrecondition("no pipeline is the default; name one (pipeline_id) or make one the default")
    return pipeline


def list_pipelines(session: Session) -> list[tuple[Pipeline, list[PipelineStage]]]:
    pipelines = session.scalars(
        select(Pipeline).order_by(Pipeline.is_default.desc(), Pipeline.name, Pipeline.id)
    )
    return [(p, live_stages(session, p.id)) for p in pipelines]


def _take_default(session: Session, pipeline_id: str) -> None:
    session.execute(
        update(Pipeline)
        .where(Pipeline.id != pipeline_id, Pipeline.is_default.is_(True))
        .values(is_default=False, updated_at=utcnow(), version=Pipeline.version + 1)
    )


def add_pipeline(session: Session, name: str, stages: list[StageSpec], is_default: bool) -> Pipeline:
    now = utcnow()
    pipeline = Pipeline(
        id=str(uuid.uuid4()), name=name, is_default=is_default, version=1, created_at=now, updated_at=now
    )
    session.add(pipeline)
    session.flush()
    if is_default:
        _take_default(session, pipeline.id)
    for position, stage in enumerate(stages):
        session.add(
            PipelineStage(
                id=str(uuid.uuid4()),
                pipeline_id=pipeline.id,
                name=stage.name,
                probability=stage.probability,
                position=position,
            )
        )
    session.flush()
    return pipeline


def change_pipeline(
    session: Session,
    pipeline_id: str,
    *,
    etag: str,
    name: str | None,
    is_default: bool | None,
    stages: list[StageSpec] | None,
) -> Pipeline:
    """Renames, makes default, and/or replaces the stages (see UpdatePipeline): kept stages by id, new
    ones added, left-out ones archived (refused while open deals are in them). Deals' `stage_position`
    follows a reorder in the same transaction."""
    pipeline = get_pipeline(session, pipeline_id, for_update=True)
    check_etag(pipeline_id, pipeline.version, etag)
    now = utcnow()
    if name is not None:
        pipeline.name = name
    if is_default is not None:
        if not is_default and pipeline.is_default:
            raise InvalidArgument(
                "a default is needed", {"pipeline.is_default": "make another pipeline the default instead"}
            )
        pipeline.is_default = is_default
        if is_default:
            _take_default(session, pipeline.id)
    if stages is not None:
        current = {s.id: s for s in live_stages(session, pipeline_id)}
        unknown = [s.id for s in stages if s.id and s.id not in current]
        if unknown:
            raise InvalidArgument(
                "unknown stage", {"pipeline.stages": f"names no stage of this pipeline: {', '.join(unknown)}"}
            )
        kept = {s.id for s in stages if s.id}
        for stage_id, stage in current.items():
            if stage_id in kept:
                continue
            open_deals = session.scalar(
                select(func.count())
                .select_from(Deal)
                .where(Deal.stage_id == stage_id, Deal.status == OPEN, Deal.archived_at.is_(None))
            )
            if open_deals:
                raise FailedPrecondition(
                    f"stage {stage.name!r} still holds {open_deals} open deal(s); move them first"
                )
            stage.archived_at = now
        for position, spec in enumerate(stages):
            if spec.id:
                row = current[spec.id]
                row.name, row.probability, row.position = spec.name, spec.probability, position
            else:
                session.add(
                    PipelineStage(
                        id=str(uuid.uuid4()),
                        pipeline_id=pipeline_id,
                        name=spec.name,
                        probability=spec.probability,
                        position=position,
                    )
                )
        session.flush()
        for stage in live_stages(session, pipeline_id):
            session.execute(
                update(Deal)
                .where(Deal.stage_id == stage.id, Deal.stage_position != stage.position)
                .values(stage_position=stage.position)
            )
    pipeline.version += 1
    pipeline.updated_at = now
    session.flush()
    return pipeline


def stage_of(session: Session, pipeline_id: str, stage_id: str, field: str) -> PipelineStage:
    """A live stage of the pipeline: `stage_id`, or the first one when empty."""
    stages = live_stages(session, pipeline_id)
    if not stage_id:
        if not stages:
            raise FailedPrecondition(f"pipeline {pipeline_id} has no stages")
        return stages[0]
    for stage in stages:
        if stage.id == stage_id:
            return stage
    raise InvalidArgument("unknown stage", {field: f"names no stage of pipeline {pipeline_id}"})


# --- deals --------------------------------------------------------------------------------------------


def positions_in(session: Session, stage_id: str) -> list[int]:
    return list(
        session.scalars(
            select(Deal.position).where(
                Deal.stage_id == stage_id, Deal.archived_at.is_(None), Deal.status == OPEN
            )
        )
    )


def make_room(session: Session, stage_id: str, position: int, deal_id: str) -> None:
    """Deals of the stage at or below `position` move one down (a drop into a Kanban column)."""
    session.execute(
        update(Deal)
        .where(Deal.stage_id == stage_id, Deal.position >= position, Deal.id != deal_id)
        .values(position=Deal.position + 1)
    )


def record_stage_change(
    session: Session, deal: Deal, from_stage_id: str | None, actor_id: str, at: datetime
) -> DealStageChange:
    change = DealStageChange(
        deal_id=deal.id,
        pipeline_id=deal.pipeline_id,
        from_stage_id=from_stage_id,
        to_stage_id=deal.stage_id,
        actor_id=actor_id,
        changed_at=at,
    )
    session.add(change)
    return change


def stage_changes(session: Session, deal_id: str) -> list[DealStageChange]:
    return list(
        session.scalars(
            select(DealStageChange)
            .where(DealStageChange.deal_id == deal_id)
            .order_by(DealStageChange.changed_at, DealStageChange.id)
        )
    )

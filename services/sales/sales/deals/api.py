"""The pipelines and deals gRPC servicers (`crm.sales.v1.PipelinesService`, `crm.sales.v1.DealsService`).

Deals use the chassis' standard methods (idempotency, etags, history, scope, outbox events); moves and
closes are custom methods on the same scope (update rights on the deal). Pipelines are configuration
(`check_configuration_right`).
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import empty_pb2
from sqlalchemy.orm import Session

from crm.common.v1 import history_pb2
from crm.sales.v1 import deals_pb2, deals_pb2_grpc
from crm_platform.access import Ownership
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading
from crm_platform.resources import Change, ResourceEvents, StandardMethods, actor_of, idempotent_write
from crm_platform.resources.field_mask import check_mask
from crm_platform.service import Runtime, ServiceDefinition
from crm_platform.validation import required
from sales.deals import domain, store, writes
from sales.deals.domain import LOST, WON, StageSpec


def amount_of(message: Any, field: str) -> domain.Amount | None:
    """A request's Money field, checked (None when absent)."""
    if not message.HasField(field):
        return None
    money = getattr(message, field)
    return domain.check_amount(money.amount_minor, money.currency, field)


def prepare_deal(deal: deals_pb2.Deal) -> None:
    """The domain's rules on an updated deal (as Create checks them)."""
    deal.title = deal.title.strip()
    amount_of(deal, "amount")
    domain.check_close_date(deal.expected_close_date)


class DealsServicer(deals_pb2_grpc.DealsServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions
        self.deals = StandardMethods(
            runtime.sessions,
            store.deals,
            deals_pb2.Deal,
            list_spec=store.LIST_SPEC,
            listed=store.active_deals,
            events=ResourceEvents(
                created=writes.announce_created,
                updated=writes.announce_updated,
                archived=writes.announce_archived,
            ),
        )

    def CreateDeal(
        self, request: deals_pb2.CreateDealRequest, context: grpc.ServicerContext
    ) -> deals_pb2.Deal:
        new = writes.NewDeal(
            title=request.title.strip(),
            pipeline_id=request.pipeline_id,
            stage_id=request.stage_id,
            amount=amount_of(request, "amount"),
            probability=request.probability if request.HasField("probability") else None,
            expected_close_date=domain.check_close_date(request.expected_close_date),
            contact_id=request.contact_id,
            company_id=request.company_id,
            description=request.description,
        )

        def add(session: Session, actor_id: str, ownership: Ownership | None) -> Change[Any]:
            return writes.add_deal(session, new, actor_id, ownership)

        return self.deals.create(context, request, add=add)

    def GetDeal(self, request: deals_pb2.GetDealRequest, context: grpc.ServicerContext) -> deals_pb2.Deal:
        return self.deals.get(request.id)

    def ListDeals(
        self, request: deals_pb2.ListDealsRequest, context: grpc.ServicerContext
    ) -> deals_pb2.ListDealsResponse:
        return deals_pb2.ListDealsResponse(**self.deals.list(request))

    def UpdateDeal(
        self, request: deals_pb2.UpdateDealRequest, context: grpc.ServicerContext
    ) -> deals_pb2.Deal:
        return self.deals.update(context, request, request.deal, prepare=prepare_deal)

    def DeleteDeal(
        self, request: deals_pb2.DeleteDealRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        return self.deals.delete(context, request)

    def ListDealHistory(
        self, request: deals_pb2.ListDealHistoryRequest, context: grpc.ServicerContext
    ) -> history_pb2.ListHistoryResponse:
        return self.deals.history(request)  # type: ignore[arg-type]

    def _on_deal(self, context: grpc.ServicerContext, request: Any, change: Any) -> deals_pb2.Deal:
        """A custom write on one deal: locked, in the caller's update scope, idempotent."""
        with idempotent_write(self.sessions, context, request, deals_pb2.Deal) as write:
            if write.replay is not None:
                return write.replay
            deal = store.deals.get(
                write.session, request.id, for_update=True, caller=current_caller_or_none(), action="update"
            )
            change(write.session, deal, actor_of(context))
            return write.respond(store.to_message(deal))

    def MoveDeal(self, request: deals_pb2.MoveDealRequest, context: grpc.ServicerContext) -> deals_pb2.Deal:
        position = request.position if request.HasField("position") else None
        return self._on_deal(
            context,
            request,
            lambda session, deal, actor: writes.move_deal(session, deal, request.stage_id, position, actor),
        )

    def WinDeal(self, request: deals_pb2.WinDealRequest, context: grpc.ServicerContext) -> deals_pb2.Deal:
        reason = request.reason.strip()
        return self._on_deal(
            context,
            request,
            lambda session, deal, actor: writes.close_deal(session, deal, WON, reason, "", actor),
        )

    def LoseDeal(self, request: deals_pb2.LoseDealRequest, context: grpc.ServicerContext) -> deals_pb2.Deal:
        reason, competitor = request.reason.strip(), request.competitor.strip()
        return self._on_deal(
            context,
            request,
            lambda session, deal, actor: writes.close_deal(session, deal, LOST, reason, competitor, actor),
        )

    def ListDealStageChanges(
        self, request: deals_pb2.ListDealStageChangesRequest, context: grpc.ServicerContext
    ) -> deals_pb2.ListDealStageChangesResponse:
        with reading(self.sessions) as session:
            store.deals.get(
                session, request.deal_id, caller=current_caller_or_none()
            )  # NOT_FOUND out of scope
            items = [store.stage_change_message(c) for c in store.stage_changes(session, request.deal_id)]
        return deals_pb2.ListDealStageChangesResponse(items=items)


def _stage_specs(stages: Any, field: str) -> list[StageSpec]:
    return domain.check_stages([StageSpec(s.id, s.name, s.probability) for s in stages], field)


class PipelinesServicer(deals_pb2_grpc.PipelinesServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def CreatePipeline(
        self, request: deals_pb2.CreatePipelineRequest, context: grpc.ServicerContext
    ) -> deals_pb2.Pipeline:
        store.check_configuration_right(current_caller_or_none(), store.PIPELINE, "create")
        name = required(request.name.strip(), "name")
        stages = [StageSpec("", s.name, s.probability) for s in request.stages]
        stages = domain.check_stages(stages)
        with idempotent_write(self.sessions, context, request, deals_pb2.Pipeline) as write:
            if write.replay is not None:
                return write.replay
            pipeline = store.add_pipeline(write.session, name, stages, request.is_default)
            return write.respond(
                store.pipeline_message(pipeline, store.live_stages(write.session, pipeline.id))
            )

    def GetPipeline(
        self, request: deals_pb2.GetPipelineRequest, context: grpc.ServicerContext
    ) -> deals_pb2.Pipeline:
        store.check_configuration_right(current_caller_or_none(), store.PIPELINE, "read")
        with reading(self.sessions) as session:
            pipeline = store.get_pipeline(session, request.id)
            return store.pipeline_message(pipeline, store.live_stages(session, pipeline.id))

    def ListPipelines(
        self, request: deals_pb2.ListPipelinesRequest, context: grpc.ServicerContext
    ) -> deals_pb2.ListPipelinesResponse:
        store.check_configuration_right(current_caller_or_none(), store.PIPELINE, "read")
        with reading(self.sessions) as session:
            items = [store.pipeline_message(p, stages) for p, stages in store.list_pipelines(session)]
        return deals_pb2.ListPipelinesResponse(items=items)

    def UpdatePipeline(
        self, request: deals_pb2.UpdatePipelineRequest, context: grpc.ServicerContext
    ) -> deals_pb2.Pipeline:
        store.check_configuration_right(current_caller_or_none(), store.PIPELINE, "update")
        asked = request.pipeline
        pipeline_id = required(asked.id, "pipeline.id")
        paths = list(request.update_mask.paths)
        check_mask(deals_pb2.Pipeline.DESCRIPTOR, paths)
        if "name" in paths:
            required(asked.name.strip(), "pipeline.name")
        stages = _stage_specs(asked.stages, "pipeline.stages") if "stages" in paths else None
        with idempotent_write(self.sessions, context, request, deals_pb2.Pipeline) as write:
            if write.replay is not None:
                return write.replay
            pipeline = writes.change_pipeline(
                write.session,
                pipeline_id,
                etag=asked.etag,
                name=asked.name.strip() if "name" in paths else None,
                is_default=asked.is_default if "is_default" in paths else None,
                stages=stages,
            )
            return write.respond(
                store.pipeline_message(pipeline, store.live_stages(write.session, pipeline.id))
            )


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    deals_pb2_grpc.add_PipelinesServiceServicer_to_server(PipelinesServicer(runtime), server)
    deals_pb2_grpc.add_DealsServiceServicer_to_server(DealsServicer(runtime), server)
    services = deals_pb2.DESCRIPTOR.services_by_name
    return [services["PipelinesService"].full_name, services["DealsService"].full_name]


def install(definition: ServiceDefinition) -> ServiceDefinition:
    """Serve pipelines and deals from `definition`'s process too."""
    return definition.include(register)

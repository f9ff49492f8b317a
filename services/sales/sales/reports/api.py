"""The reports and quotas gRPC servicers (`crm.sales.v1.SalesReportsService`, `QuotasService`).

Reports are read-only: each runs its grouped queries (store.py) on a read-only connection in the
caller's scope on deals (no read right on deals at all: PERMISSION_DENIED) and turns the counts and
sums into the contract, money per currency. Quotas are a standard resource on the chassis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import uuid4

import grpc
from google.protobuf import empty_pb2
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.common.v1 import history_pb2
from crm.sales.v1 import reports_pb2, reports_pb2_grpc
from crm_platform.access import CallerContext, Ownership, require
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading
from crm_platform.errors import AlreadyExists
from crm_platform.protobuf import timestamp
from crm_platform.resources import Change, StandardMethods
from crm_platform.service import Runtime, ServiceDefinition
from sales.deals import store as deal_store
from sales.deals.api import amount_of
from sales.money import money
from sales.reports import domain, quota_events, store
from sales.reports.domain import Period, ratio
from sales.reports.quotas import LIST_SPEC as QUOTA_LIST_SPEC
from sales.reports.quotas import Quota, active_quotas, quotas

_T = TypeVar("_T")


def _monies(amounts: store.Money) -> list[Any]:
    return [money(amount, currency) for currency, amount in sorted(amounts.items())]


def _reader() -> CallerContext | None:
    """The caller, once it may read deals at all (reports are views of deals)."""
    caller = current_caller_or_none()
    if caller is not None:
        require(caller, deal_store.deals.resource_type, "read")
    return caller


class SalesReportsServicer(reports_pb2_grpc.SalesReportsServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def _figures(self, period_text: str, query: Callable[[Session, Period, Any], _T]) -> tuple[Period, _T]:
        """What `query(session, period, caller)` answers on a read-only session, for a caller who may
        read deals, with the request's period checked."""
        caller = _reader()
        period = domain.parse_period(period_text)
        with reading(self.sessions) as session:
            return period, query(session, period, caller)

    def GetFunnelReport(
        self, request: reports_pb2.GetFunnelReportRequest, context: grpc.ServicerContext
    ) -> reports_pb2.FunnelReport:
        def funnel(session: Session, period: Period, caller: Any) -> tuple[Any, Any, Any]:
            pipeline = (
                deal_store.get_pipeline(session, request.pipeline_id)
                if request.pipeline_id
                else deal_store.default_pipeline(session)
            )
            figures = store.funnel(session, pipeline.id, period, caller)
            return pipeline, figures, store.stages_of(session, pipeline.id)

        period, (pipeline, figures, stages) = self._figures(request.period, funnel)
        report = reports_pb2.FunnelReport(
            pipeline_id=pipeline.id,
            period=period.name,
            period_start=timestamp(period.start),
            period_end=timestamp(period.end),
        )
        for stage in stages:
            archived = stage.archived_at is not None
            one = figures.get(stage.id)
            if one is None:
                if archived:
                    continue  # a removed stage is listed only while it has figures
                one = store.StageFigures()
            report.stages.append(
                reports_pb2.FunnelStage(
                    stage_id=stage.id,
                    name=stage.name,
                    position=stage.position,
                    archived=archived,
                    entered=one.entered,
                    entered_value=_monies(one.entered_value),
                    advanced=one.advanced,
                    conversion_rate=ratio(one.advanced, one.entered),
                    completed_stays=one.completed_stays,
                    average_seconds_in_stage=(
                        one.seconds_in_stage / one.completed_stays if one.completed_stays else 0.0
                    ),
                )
            )
        return report

    def GetWinRateReport(
        self, request: reports_pb2.GetWinRateReportRequest, context: grpc.ServicerContext
    ) -> reports_pb2.WinRateReport:
        period, closed = self._figures(
            request.period, lambda session, p, caller: store.win_rate(session, request.pipeline_id, p, caller)
        )
        return reports_pb2.WinRateReport(
            pipeline_id=request.pipeline_id,
            period=period.name,
            won=closed.won,
            lost=closed.lost,
            win_rate=ratio(closed.won, closed.won + closed.lost),
            won_value=_monies(closed.won_value),
            average_cycle_seconds=closed.won_cycle_seconds / closed.won if closed.won else 0.0,
        )

    def GetForecastReport(
        self, request: reports_pb2.GetForecastReportRequest, context: grpc.ServicerContext
    ) -> reports_pb2.ForecastReport:
        period, groups = self._figures(
            request.period, lambda session, p, caller: store.forecast(session, request.pipeline_id, p, caller)
        )
        report = reports_pb2.ForecastReport(pipeline_id=request.pipeline_id, period=period.name)
        totals: dict[str, list[int]] = {}
        for group in groups:
            report.rows.append(
                reports_pb2.ForecastRow(
                    month=group.month,
                    owner_id=group.owner_id,
                    deals=group.deals,
                    amount=money(group.amount_minor, group.currency),
                    weighted=money(domain.weighted(group.amount_times_probability), group.currency),
                )
            )
            total = totals.setdefault(group.currency, [0, 0, 0])
            total[0] += group.deals
            total[1] += group.amount_minor
            total[2] += group.amount_times_probability
        for currency, (count, amount, weighted) in sorted(totals.items()):
            report.totals.append(
                reports_pb2.ForecastTotal(
                    deals=count,
                    amount=money(amount, currency),
                    weighted=money(domain.weighted(weighted), currency),
                )
            )
        return report

    def GetRepKpiReport(
        self, request: reports_pb2.GetRepKpiReportRequest, context: grpc.ServicerContext
    ) -> reports_pb2.RepKpiReport:
        period, reps = self._figures(request.period, store.rep_kpis)
        report = reports_pb2.RepKpiReport(period=period.name)
        for owner_id, rep in sorted(reps.items()):
            kpis = reports_pb2.RepKpis(
                owner_id=owner_id,
                deals_won=rep.won,
                deals_lost=rep.lost,
                revenue=_monies(rep.revenue),
                tasks_completed=rep.tasks_completed,
                appointments=rep.appointments,
            )
            if rep.quota is not None:
                amount, currency = rep.quota
                kpis.quota.CopyFrom(money(amount, currency))
                kpis.quota_attainment = ratio(rep.revenue.get(currency, 0), amount)
            report.reps.append(kpis)
        return report


class QuotasServicer(reports_pb2_grpc.QuotasServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.methods = StandardMethods(
            runtime.sessions,
            quotas,
            reports_pb2.Quota,
            list_spec=QUOTA_LIST_SPEC,
            listed=active_quotas,
            events=quota_events.EVENTS,
        )

    def CreateQuota(
        self, request: reports_pb2.CreateQuotaRequest, context: grpc.ServicerContext
    ) -> reports_pb2.Quota:
        domain.check_quota_amount(request.amount.amount_minor, request.amount.currency, "amount")
        domain.parse_period(request.period)
        amount = amount_of(request, "amount")
        assert amount is not None  # checked above

        def add(session: Session, actor_id: str, ownership: Ownership | None) -> Change[Any]:
            row = Quota(
                id=str(uuid4()),
                period=request.period,
                amount_minor=amount.amount_minor,
                currency=amount.currency,
                notes=request.notes or None,
            )
            if ownership is not None:
                row.owner_id, row.team_id = ownership.owner_id, ownership.team_id
            taken = session.scalar(
                active_quotas()
                .with_only_columns(Quota.id)
                .where(Quota.period == row.period, Quota.owner_id == row.owner_id)
            )
            if taken is not None:
                raise _taken(row)
            try:
                with session.begin_nested():
                    return quotas.create(session, row, actor_id)
            except IntegrityError:  # a concurrent create took the owner's period first
                raise _taken(row) from None

        return self.methods.create(context, request, add=add)

    def GetQuota(
        self, request: reports_pb2.GetQuotaRequest, context: grpc.ServicerContext
    ) -> reports_pb2.Quota:
        return self.methods.get(request.id)

    def ListQuotas(
        self, request: reports_pb2.ListQuotasRequest, context: grpc.ServicerContext
    ) -> reports_pb2.ListQuotasResponse:
        return reports_pb2.ListQuotasResponse(**self.methods.list(request))

    def UpdateQuota(
        self, request: reports_pb2.UpdateQuotaRequest, context: grpc.ServicerContext
    ) -> reports_pb2.Quota:
        return self.methods.update(context, request, request.quota, prepare=_prepare_quota)

    def DeleteQuota(
        self, request: reports_pb2.DeleteQuotaRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        return self.methods.delete(context, request)

    def ListQuotaHistory(
        self, request: reports_pb2.ListQuotaHistoryRequest, context: grpc.ServicerContext
    ) -> history_pb2.ListHistoryResponse:
        return self.methods.history(
            history_pb2.ListHistoryRequest(id=request.id, limit=request.limit, cursor=request.cursor)
        )


def _taken(row: Quota) -> AlreadyExists:
    # The holder is not named: the caller may set the owner's quota without being able to read it.
    return AlreadyExists(
        f"{row.owner_id or 'nobody'} has a quota for {row.period} already",
        resource_type=quotas.resource_type,
    )


def _prepare_quota(quota: reports_pb2.Quota) -> None:
    """An updated quota is still a positive amount (the money rules as CreateDeal checks them)."""
    domain.check_quota_amount(quota.amount.amount_minor, quota.amount.currency, "quota.amount")
    amount_of(quota, "amount")


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    reports_pb2_grpc.add_SalesReportsServiceServicer_to_server(SalesReportsServicer(runtime), server)
    reports_pb2_grpc.add_QuotasServiceServicer_to_server(QuotasServicer(runtime), server)
    services = reports_pb2.DESCRIPTOR.services_by_name
    return [services["SalesReportsService"].full_name, services["QuotasService"].full_name]


def install(definition: ServiceDefinition) -> ServiceDefinition:
    """Serve the reports and quotas from `definition`'s process too."""
    return definition.include(register)

"""The sales gRPC servicer."""

from __future__ import annotations

import grpc

from crm.common.v1 import money_pb2
from crm.sales.v1 import sales_pb2, sales_pb2_grpc
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading
from crm_platform.service import Runtime
from crm_platform.validation import required
from sales import summary as sales_summary
from sales.deals import store as deal_store


class SalesServicer(sales_pb2_grpc.SalesServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def GetSalesSummary(
        self, request: sales_pb2.GetSalesSummaryRequest, context: grpc.ServicerContext
    ) -> sales_pb2.SalesSummary:
        contact_id = required(request.contact_id, "contact_id")
        caller = current_caller_or_none()
        # Deals and orders, each as the caller may read them (sales.summary), in one read transaction.
        with reading(self.sessions) as session:
            open_deals, won_deals, values = deal_store.contact_summary(session, contact_id, caller)
            summary = sales_pb2.SalesSummary(
                contact_id=contact_id,
                open_deals=open_deals,
                won_deals=won_deals,
                open_pipeline_value=[
                    money_pb2.Money(amount_minor=v.amount_minor, currency=v.currency) for v in values
                ],
            )
            sales_summary.fill(summary, session, caller)
        return summary


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    sales_pb2_grpc.add_SalesServiceServicer_to_server(SalesServicer(runtime), server)
    return [sales_pb2.DESCRIPTOR.services_by_name["SalesService"].full_name]

"""The sales gRPC servicer."""

from __future__ import annotations

import grpc

from crm.sales.v1 import sales_pb2, sales_pb2_grpc
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading_connection
from crm_platform.service import Runtime
from crm_platform.validation import required
from sales import summary as sales_summary


class SalesServicer(sales_pb2_grpc.SalesServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def GetSalesSummary(
        self, request: sales_pb2.GetSalesSummaryRequest, context: grpc.ServicerContext
    ) -> sales_pb2.SalesSummary:
        contact_id = required(request.contact_id, "contact_id")
        # Deals, orders and tasks, each as the caller may read them, in one read transaction.
        with reading_connection(self.sessions) as connection:
            return sales_summary.sales_summary(connection, contact_id, current_caller_or_none())


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    sales_pb2_grpc.add_SalesServiceServicer_to_server(SalesServicer(runtime), server)
    return [sales_pb2.DESCRIPTOR.services_by_name["SalesService"].full_name]

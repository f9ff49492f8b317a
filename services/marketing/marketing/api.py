"""The marketing gRPC servicer."""

from __future__ import annotations

import grpc

from crm.marketing.v1 import marketing_pb2, marketing_pb2_grpc
from crm_platform.service import Runtime
from crm_platform.validation import required


class MarketingServicer(marketing_pb2_grpc.MarketingServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def GetMarketingSummary(
        self, request: marketing_pb2.GetMarketingSummaryRequest, context: grpc.ServicerContext
    ) -> marketing_pb2.MarketingSummary:
        # Marketing records no segments, campaigns or responses yet, so the summary is honestly empty.
        return marketing_pb2.MarketingSummary(contact_id=required(request.contact_id, "contact_id"))


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    marketing_pb2_grpc.add_MarketingServiceServicer_to_server(MarketingServicer(runtime), server)
    return [marketing_pb2.DESCRIPTOR.services_by_name["MarketingService"].full_name]

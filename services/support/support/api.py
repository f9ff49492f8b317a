"""The support gRPC servicer."""

from __future__ import annotations

import grpc

from crm.support.v1 import support_pb2, support_pb2_grpc
from crm_platform.service import Runtime
from crm_platform.validation import required


class SupportServicer(support_pb2_grpc.SupportServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def GetSupportSummary(
        self, request: support_pb2.GetSupportSummaryRequest, context: grpc.ServicerContext
    ) -> support_pb2.SupportSummary:
        # Support records no tickets or surveys yet, so every count is honestly zero.
        return support_pb2.SupportSummary(contact_id=required(request.contact_id, "contact_id"))


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    support_pb2_grpc.add_SupportServiceServicer_to_server(SupportServicer(runtime), server)
    return [support_pb2.DESCRIPTOR.services_by_name["SupportService"].full_name]

"""The server interceptor that admits only calls with a verified caller context, and makes that caller
current while the handler runs (crm_platform.access.context)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from crm_platform.access.context import CallerContextCheck, acting_as
from crm_platform.errors import DomainError, to_status


class CallerContextInterceptor(grpc.ServerInterceptor):
    def __init__(self, check: CallerContextCheck | None = None) -> None:
        self.check = check or CallerContextCheck()

    def intercept_service(self, continuation: Callable[[Any], Any], handler_call_details: Any) -> Any:
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None or self.check.is_open(handler_call_details.method):
            return handler
        inner = handler.unary_unary
        check = self.check

        def admitted(request: Any, context: grpc.ServicerContext) -> Any:
            try:
                caller = check.caller_from(context.invocation_metadata())
            except DomainError as error:
                context.abort_with_status(to_status(error))
            with acting_as(caller):
                return inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            admitted,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

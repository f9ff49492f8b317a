"""Adds interactions and the timeline to the contacts service's definition (one call in main.py): their
gRPC servicers beside the others, and the worker's subscriptions to the events the timeline maps."""

from __future__ import annotations

from collections.abc import Iterable

import grpc

from contacts.interactions import api as interactions_api
from contacts.timeline import api as timeline_api
from contacts.timeline.events import SUBSCRIPTIONS
from crm_platform.service import Runtime, ServiceDefinition


def extend(definition: ServiceDefinition) -> ServiceDefinition:
    """`definition` serving InteractionsService and TimelineService too, and consuming the timeline's
    events (in place, and returned)."""
    registered = definition.register_grpc

    def register(server: grpc.Server, runtime: Runtime) -> Iterable[str]:
        return [
            *registered(server, runtime),
            *interactions_api.register(server, runtime),
            *timeline_api.register(server, runtime),
        ]

    definition.register_grpc = register
    definition.subscriptions = (*definition.subscriptions, *SUBSCRIPTIONS)
    return definition

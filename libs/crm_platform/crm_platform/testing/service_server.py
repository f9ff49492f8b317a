"""A service's real gRPC server in the test process, serving exactly what `crm-<name> serve` serves."""

from __future__ import annotations

import importlib

from crm_platform.grpc_server import GrpcServer
from crm_platform.service import Runtime, open_runtime


def serve_in_process(name: str, database_url: str) -> tuple[GrpcServer, Runtime]:
    """Start service `name`'s servicers (its definition's registration, so every servicer a service adds
    is served, as in production) on a free local port, over the given database, migrated."""
    definition = importlib.import_module(f"{name}.main").DEFINITION
    runtime = open_runtime(definition, database_url)
    server = GrpcServer(name, "127.0.0.1:0", lambda s: definition.register_grpc(s, runtime)).start()
    return server, runtime

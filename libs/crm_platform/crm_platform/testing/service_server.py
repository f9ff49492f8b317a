"""A service's real gRPC server in the test process, serving exactly what `crm-<name> serve` serves."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import grpc

from crm_platform.grpc_server import GrpcServer
from crm_platform.service import Runtime, ServiceDefinition
from crm_platform.testing.migrated import open_migrated_runtime


def serve_in_process(name: str, database_url: str) -> tuple[GrpcServer, Runtime]:
    """Start service `name`'s servicers (its definition's registration, so every servicer a service adds
    is served, as in production) on a free local port, over the given database, migrated (an empty one
    copied from the service's migrated template: `crm_platform.testing.migrated`)."""
    definition = importlib.import_module(f"{name}.main").DEFINITION
    runtime = open_migrated_runtime(definition, database_url)
    server = GrpcServer(name, "127.0.0.1:0", lambda s: definition.register_grpc(s, runtime)).start()
    return server, runtime


@contextmanager
def served_channel(definition: ServiceDefinition, runtime: Runtime) -> Iterator[grpc.Channel]:
    """A channel to `definition`'s servicers over `runtime`, served on a free local port for the block."""
    server = GrpcServer(definition.name, "127.0.0.1:0", lambda s: definition.register_grpc(s, runtime))
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield channel
    finally:
        channel.close()
        server.stop(0)


@contextmanager
def peers(addresses: Mapping[str, str]) -> Iterator[None]:
    """Services started in this process find each other at `addresses` (service name -> host:port), as
    the launcher's processes do: `<SERVICE>_GRPC_ADDR` set for each while the block runs, then restored.
    Sales asks contacts as the caller (lead conversion, a deal registration's company)."""
    settings = {f"{service.upper()}_GRPC_ADDR": address for service, address in addresses.items()}
    previous = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

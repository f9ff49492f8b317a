"""Clients spread calls over every address of a target (round_robin), not just the first one."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from crm.sales.v1 import sales_pb2, sales_pb2_grpc
from crm_platform.grpc_client import channel_target, open_channel, open_plain_channel
from crm_platform.grpc_server import GrpcServer
from crm_platform.testing.callers import with_default_caller


def test_host_port_targets_resolve_through_dns() -> None:
    assert channel_target("contacts:50051") == "dns:///contacts:50051"
    assert channel_target("127.0.0.1:50051") == "dns:///127.0.0.1:50051"
    for given in ("dns:///contacts:50051", "ipv4:127.0.0.1:1,127.0.0.2:1", "unix:/run/x.sock"):
        assert channel_target(given) == given


class Named(sales_pb2_grpc.SalesServiceServicer):
    def __init__(self, name: str, seen: Counter[str]) -> None:
        self.name, self.seen = name, seen

    def GetSalesSummary(self, request: Any, context: grpc.ServicerContext) -> sales_pb2.SalesSummary:
        self.seen[self.name] += 1
        return sales_pb2.SalesSummary(contact_id=self.name)


@pytest.fixture
def three_replicas() -> Iterator[tuple[list[GrpcServer], Counter[str]]]:
    seen: Counter[str] = Counter()
    servers = []
    for host in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):

        def register(s: grpc.Server, host: str = host) -> list[str]:
            sales_pb2_grpc.add_SalesServiceServicer_to_server(Named(host, seen), s)
            return ["crm.sales.v1.SalesService"]

        servers.append(GrpcServer("sales", f"{host}:0", register).start())
    yield servers, seen
    for server in servers:
        server.stop(0)


@pytest.mark.parametrize("opener", [open_channel, open_plain_channel])
def test_calls_rotate_over_every_replica(
    opener: Any, three_replicas: tuple[list[GrpcServer], Counter[str]]
) -> None:
    servers, seen = three_replicas
    target = "ipv4:" + ",".join(s.address.replace(":0", f":{s.port}") for s in servers)
    channel = opener(target)
    stub = sales_pb2_grpc.SalesServiceStub(with_default_caller(channel))
    try:
        # round_robin only rotates over READY subchannels: wait until all three connected.
        deadline = time.monotonic() + 5
        while len(seen) < 3 and time.monotonic() < deadline:
            stub.GetSalesSummary(sales_pb2.GetSalesSummaryRequest(contact_id="x"), timeout=2)
        seen.clear()
        for _ in range(30):
            stub.GetSalesSummary(sales_pb2.GetSalesSummaryRequest(contact_id="x"), timeout=2)
        assert sorted(seen.values()) == [10, 10, 10], seen
    finally:
        channel.close()

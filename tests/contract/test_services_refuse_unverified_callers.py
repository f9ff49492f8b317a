"""Every RPC of every service, called directly over gRPC (no gateway), refuses a call without a caller
context, with a forged one and with an expired one: UNAUTHENTICATED before any service code runs. The
RPCs are read from the services' descriptors, so a new one is covered without editing this test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from google.protobuf import symbol_database

from crm_platform.access import CallerContextSigner
from crm_platform.access.keys import signing_key
from crm_platform.testing.callers import caller
from gateway.settings import SERVICES

from .conftest import _start_service


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[object, object]]]:
    work: Path = tmp_path_factory.mktemp("direct")
    started = {name: _start_service(name, work) for name in SERVICES}
    yield started
    for grpc_server, runtime in started.values():
        grpc_server.stop(0)
        runtime.engine.dispose()


def _methods() -> list[tuple[str, str, str, str]]:
    """(service, full method path, request type, response type) of every RPC the services serve."""
    import importlib

    found = []
    for service in SERVICES:
        pb2 = importlib.import_module(f"crm.{service}.v1.{service}_pb2")
        for svc in pb2.DESCRIPTOR.services_by_name.values():
            for method in svc.methods:
                found.append(
                    (
                        service,
                        f"/{svc.full_name}/{method.name}",
                        method.input_type.full_name,
                        method.output_type.full_name,
                    )
                )
    return found


def _forged() -> str:
    key = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    _, kid = signing_key()  # the right kid, the wrong key
    return CallerContextSigner(key, kid).sign(caller("intruder", "admin"))


def _expired() -> str:
    pem, kid = signing_key()
    return CallerContextSigner(pem, kid, ttl_seconds=60).sign(caller("late", "admin"), now=time.time() - 3600)


@pytest.mark.parametrize(("service", "path", "request_type", "response_type"), _methods())
@pytest.mark.parametrize("credential", ["none", "bare header", "forged", "expired"])
def test_every_rpc_refuses_an_unverified_caller(
    servers, service, path, request_type, response_type, credential
):
    db = symbol_database.Default()
    request_class, response_class = db.GetSymbol(request_type), db.GetSymbol(response_type)
    metadata = {
        "none": (),
        "bare header": (("x-crm-user-id", "admin"), ("x-crm-roles", "admin")),
        "forged": (("x-crm-caller", _forged()),),
        "expired": (("x-crm-caller", _expired()),),
    }[credential]
    server, _ = servers[service]
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        call = channel.unary_unary(
            path,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_class.FromString,
        )
        with pytest.raises(grpc.RpcError) as refused:
            call(request_class(), metadata=metadata, timeout=5)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED, refused.value.details()

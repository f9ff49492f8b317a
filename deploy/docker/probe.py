#!/usr/bin/env python3
"""Health probe for the container HEALTHCHECK (installed in every image as `crm-probe`).

    crm-probe grpc [PORT [SERVICE]] grpc.health.v1 Check on 127.0.0.1:PORT; exit 0 when SERVING
                                    (PORT defaults to CRM_GRPC_PORT, which the service image sets)
    crm-probe http PORT PATH        GET http://127.0.0.1:PORT/PATH; exit 0 on a 2xx answer

Kubernetes probes gRPC and HTTP natively and does not need this; Docker has no built-in gRPC check, and
python:3.11-slim has neither curl nor grpc_health_probe, so the images carry this small script instead.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 3.0


def grpc_serving(port: int, service: str = "") -> bool:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=TIMEOUT_SECONDS)
        except grpc.RpcError as exc:
            print(f"gRPC health check failed: {exc.code().name}", file=sys.stderr)
            return False
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        print(f"gRPC health: {status}", file=sys.stderr)
        return False
    return True


def http_ok(port: int, path: str) -> bool:
    url = f"http://127.0.0.1:{port}/{path.lstrip('/')}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as reply:
            return 200 <= reply.status < 300
    except (urllib.error.URLError, OSError) as exc:
        print(f"GET {url} failed: {exc}", file=sys.stderr)
        return False


def main(argv: list[str]) -> int:
    if argv[:1] == ["grpc"]:
        port = argv[1] if len(argv) > 1 else os.environ.get("CRM_GRPC_PORT", "")
        if port.isdigit():
            return 0 if grpc_serving(int(port), argv[2] if len(argv) > 2 else "") else 1
    if len(argv) == 3 and argv[0] == "http":
        return 0 if http_ok(int(argv[1]), argv[2]) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

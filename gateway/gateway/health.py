"""/healthz (the process is alive) and /readyz (it can do its job: database and every service answer).

`/readyz?scope=self` checks only what the gateway owns (its database). That is what a load balancer
should gate traffic on: with one service down the gateway still serves everything else and a partial
customer-360, whereas gating on every service would take all gateway replicas out at once.

Liveness checks nothing outside the process, so a slow dependency never gets the gateway restarted;
readiness asks everything in parallel under the service deadline, so a probe never hangs.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import grpc
from flask import Blueprint, Response, jsonify, request
from grpc_health.v1 import health_pb2

from gateway.problems import Problem, problem_type
from gateway.settings import SERVICES
from gateway.state import state

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)
# The database ping runs here so that it can be abandoned at the deadline; threads start on first use,
# so none exists before gunicorn forks.
_db_pinger = ThreadPoolExecutor(max_workers=2, thread_name_prefix="readyz-db")


READINESS_SCOPES = ("all", "self")


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    scope = request.args.get("scope", "all")
    if scope not in READINESS_SCOPES:
        raise Problem(
            400, f"scope must be one of {', '.join(READINESS_SCOPES)}.", type=problem_type("bad-request")
        )
    gateway = state()
    deadline = gateway.settings.service_deadline_seconds
    checks: dict[str, str] = {}
    probes: dict[str, grpc.Future] = {}
    for service in SERVICES if scope == "all" else ():
        try:
            probes[service] = gateway.clients.health(service).Check.future(
                health_pb2.HealthCheckRequest(service=""), timeout=deadline
            )
        except Exception:
            log.exception("cannot probe the %s service", service)
            checks[service] = "unreachable"
    database = _db_pinger.submit(gateway.database.ping)
    try:
        database.result(timeout=deadline)
        checks["database"] = "ok"
    except FutureTimeout:
        checks["database"] = "timeout"
    except Exception as error:
        log.warning("gateway database not reachable: %s", error)
        checks["database"] = "unreachable"
    for service, probe in probes.items():
        try:
            serving = probe.result().status == health_pb2.HealthCheckResponse.SERVING
            checks[service] = "ok" if serving else "not serving"
        except grpc.RpcError as error:
            code = error.code() if hasattr(error, "code") else None
            checks[service] = "timeout" if code == grpc.StatusCode.DEADLINE_EXCEEDED else "unreachable"
    failing = [name for name, result in checks.items() if result != "ok"]
    if failing:
        raise Problem(
            503,
            f"Not ready: {', '.join(f'{name} ({checks[name]})' for name in failing)}.",
            type=problem_type("not-ready"),
            extra={"unavailable": failing, "checks": checks},
        )
    return jsonify({"status": "ready", "checks": checks})

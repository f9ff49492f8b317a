"""A service that commits and then answers too late for the gateway: the client sees 504, retries with
the same Idempotency-Key, and there is still exactly one contact (the key is deduplicated in the
service's own write transaction, never released by the gateway)."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import requests
from werkzeug.serving import make_server

from crm_platform.grpc_server import GrpcServer
from crm_platform.service import open_runtime
from gateway.app import create_app
from gateway.main import prepare
from gateway.settings import SERVICES, GatewaySettings

from .tokens import ADMIN_EMAIL, admin_token


class SlowAfterCommit(grpc.ServerInterceptor):
    """Holds back the answer of the first CreateContact after the servicer has committed it."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.delayed = threading.Event()

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        handler = continuation(details)
        if handler is None or not details.method.endswith("/CreateContact"):
            return handler
        inner = handler.unary_unary

        def slow(request: Any, context: grpc.ServicerContext) -> Any:
            reply = inner(request, context)  # committed by now
            if not self.delayed.is_set():
                self.delayed.set()
                time.sleep(self.delay)
            return reply

        return grpc.unary_unary_rpc_method_handler(
            slow,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


@pytest.fixture
def slow_contacts_gateway(tmp_path: Path) -> Iterator[str]:
    import contacts.api
    import contacts.main

    runtime = open_runtime(contacts.main.DEFINITION, f"sqlite:///{tmp_path / 'contacts.db'}")
    # Innermost of the interceptors: it sees the reply once the servicer has committed and returned.
    server = GrpcServer(
        "contacts",
        "127.0.0.1:0",
        lambda s: contacts.api.register(s, runtime),
        interceptors=[SlowAfterCommit(1.5)],
    ).start()
    settings = GatewaySettings(
        jwt_secret=secrets.token_urlsafe(48),
        admin_email=ADMIN_EMAIL,
        admin_password=secrets.token_urlsafe(18),
        database_url=f"sqlite:///{tmp_path / 'gateway.db'}",
        service_addrs={**{s: "127.0.0.1:1" for s in SERVICES}, "contacts": f"127.0.0.1:{server.port}"},
        call_deadline_seconds=0.5,
    )
    prepare(settings)
    app = create_app(settings)
    http_server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=http_server.serve_forever, daemon=True).start()
    token = admin_token(app.extensions["crm_gateway"])
    try:
        yield f"http://127.0.0.1:{http_server.server_port}", token
    finally:
        http_server.shutdown()
        server.stop(0)
        runtime.engine.dispose()


def test_a_retry_after_a_timeout_that_committed_makes_no_second_contact(slow_contacts_gateway) -> None:
    url, token = slow_contacts_gateway
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "retry-after-timeout"}
    body = {"first_name": "Grace", "last_name": "Hopper", "email": f"g-{secrets.token_hex(4)}@example.com"}
    first = requests.post(f"{url}/api/v1/contacts", json=body, headers=headers, timeout=10)
    assert first.status_code == 504, first.text  # committed, but answered after the gateway's deadline
    retry = _past_deadlines(
        lambda: requests.post(f"{url}/api/v1/contacts", json=body, headers=headers, timeout=10)
    )
    assert retry.status_code == 201, retry.text
    assert retry.headers.get("Idempotent-Replayed") == "true"
    listed = _past_deadlines(
        lambda: requests.get(
            f"{url}/api/v1/contacts",
            params={"filter": f'email = "{body["email"]}"'},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
    )
    assert listed.status_code == 200, listed.text
    assert [c["id"] for c in listed.json()["items"]] == [retry.json()["id"]]


def _past_deadlines(call: Callable[[], requests.Response], tries: int = 5) -> requests.Response:
    """`call`'s answer, asked again while it is 504. The gateway gives every call 0.5 s here; on a loaded
    machine (the suite's heaviest modules run beside this one) a retry or the list can miss that too. A
    client retries a 504 with the same key as often as it likes: what must hold is one contact, whatever
    number of tries it took."""
    for _attempt in range(tries - 1):
        answer = call()
        if answer.status_code != 504:
            return answer
    return call()

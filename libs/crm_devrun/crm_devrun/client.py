"""A minimal HTTP client for the gateway, used by the end-to-end tests and the benchmarks.

Standard library only, one keep-alive connection per client object (make one per thread).
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class GatewayClient:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 10.0) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self.token = token
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        if self.token and "authorization" not in {k.lower() for k in sent}:
            sent["Authorization"] = f"Bearer {self.token}"
        payload = raw
        if body is not None:
            payload = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        for attempt in range(2):
            conn = self._connection()
            try:
                conn.request(method, path, body=payload, headers=sent)
                response = conn.getresponse()
                data = response.read()
                return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A keep-alive connection the server closed meanwhile: reconnect once.
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def login(self, email: str, password: str) -> str:
        reply = self.request("POST", "/api/v1/auth/token", {"email": email, "password": password})
        if reply.status != 200:
            raise RuntimeError(f"login failed: {reply.status} {reply.body[:200]!r}")
        self.token = reply.json()["access_token"]
        return self.token

    def create_contact(self, **fields: str) -> dict[str, Any]:
        reply = self.request("POST", "/api/v1/contacts", fields)
        if reply.status != 201:
            raise RuntimeError(f"create contact failed: {reply.status} {reply.body[:300]!r}")
        return reply.json()

    def customer_360(self, contact_id: str) -> Reply:
        return self.request("GET", f"/api/v1/customers/{contact_id}/360")

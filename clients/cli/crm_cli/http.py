"""The gateway over HTTP (standard library only): JSON calls, multipart uploads, streamed downloads, and
the credentials: an API key (`CRM_API_KEY`), a token (`CRM_TOKEN`), or what `crm login` saved (an access
token refreshed with its refresh token when it expires)."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

DEFAULT_URL = "http://localhost:8080"


class ApiError(Exception):
    """The gateway answered with a problem (or not at all)."""

    def __init__(self, status: int, problem: Mapping[str, Any]) -> None:
        self.status = status
        self.problem = dict(problem)
        detail = problem.get("detail") or problem.get("title") or "request failed"
        fields = "; ".join(
            f"{e.get('field')}: {e.get('message')}"
            for e in problem.get("errors") or []
            if isinstance(e, dict)
        )
        super().__init__(f"{status}: {detail}" + (f" ({fields})" if fields else ""))


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "crm"


@dataclass
class Credentials:
    url: str
    access_token: str = ""
    refresh_token: str = ""
    api_key: str = ""

    @staticmethod
    def path() -> Path:
        return config_dir() / "credentials.json"

    @classmethod
    def load(cls, url: str | None = None) -> Credentials:
        saved: dict[str, str] = {}
        with contextlib.suppress(OSError, ValueError):
            saved = json.loads(cls.path().read_text())
        found = cls(
            url=(url or os.environ.get("CRM_URL") or saved.get("url") or DEFAULT_URL).rstrip("/"),
            access_token=os.environ.get("CRM_TOKEN") or saved.get("access_token", ""),
            refresh_token="" if os.environ.get("CRM_TOKEN") else saved.get("refresh_token", ""),
            api_key=os.environ.get("CRM_API_KEY", ""),
        )
        return found

    def save(self) -> None:
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"url": self.url, "access_token": self.access_token, "refresh_token": self.refresh_token}
        # Owner-only from the start: the file holds credentials.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            json.dump(data, out)


@dataclass
class Api:
    credentials: Credentials
    timeout: float = 60.0
    _refreshed: bool = field(default=False, repr=False)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json, text/csv, application/x-ndjson", "User-Agent": "crm-cli/0.1"}
        if self.credentials.api_key:
            headers["X-API-Key"] = self.credentials.api_key
        elif self.credentials.access_token:
            headers["Authorization"] = f"Bearer {self.credentials.access_token}"
        return headers

    def open(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
        authenticated: bool = True,
    ) -> Any:
        """The open response (to read or stream); ApiError for a problem."""
        url = self.credentials.url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v not in (None, "")})
        headers = self._headers() if authenticated else {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)  # noqa: S310
        except urllib.error.HTTPError as error:
            if error.code == 401 and authenticated and self._refresh():
                return self.open(method, path, query=query, body=body, content_type=content_type)
            raise ApiError(error.code, _problem_of(error)) from None
        except urllib.error.URLError as error:
            raise ApiError(0, {"detail": f"cannot reach {self.credentials.url}: {error.reason}"}) from None

    def _refresh(self) -> bool:
        """A new access token from the saved refresh token, once per command."""
        if self._refreshed or not self.credentials.refresh_token or self.credentials.api_key:
            return False
        self._refreshed = True
        try:
            answer = self.json(
                "POST", "/api/v1/auth/refresh", {"refresh_token": self.credentials.refresh_token}, auth=False
            )
        except ApiError:
            return False
        self.credentials.access_token = answer["access_token"]
        self.credentials.refresh_token = answer.get("refresh_token", "")
        self.credentials.save()
        return True

    def json(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Mapping[str, str] | None = None,
        auth: bool = True,
    ) -> Any:
        data = None if body is None else json.dumps(body).encode()
        with self.open(
            method,
            path,
            query=query,
            body=data,
            content_type="application/json" if data is not None else None,
            authenticated=auth,
        ) as response:
            text = response.read()
        return json.loads(text) if text else None

    def upload(
        self, path: str, fields: Mapping[str, str], file_field: str, filename: str, content: bytes
    ) -> Any:
        boundary = "crm-" + secrets.token_hex(16)
        parts: list[bytes] = []
        for name, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            )
        safe_name = filename.replace('"', "")
        parts.append(
            (
                f"--{boundary}\r\nContent-Disposition: form-data; "
                f'name="{file_field}"; filename="{safe_name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
        parts.append(f"--{boundary}--\r\n".encode())
        with self.open(
            "POST", path, body=b"".join(parts), content_type=f"multipart/form-data; boundary={boundary}"
        ) as response:
            return json.loads(response.read())

    def stream(
        self, path: str, query: Mapping[str, str] | None, out: BinaryIO, chunk: int = 64 * 1024
    ) -> int:
        """Copy a streamed answer to `out` as it arrives; returns the bytes written."""
        written = 0
        with self.open("GET", path, query=query) as response:
            while block := response.read(chunk):
                out.write(block)
                written += len(block)
        out.flush()
        return written

    def pages(self, path: str, query: Mapping[str, str]) -> Iterator[dict[str, Any]]:
        """Every item of a list, following `next_cursor`."""
        asked = dict(query)
        while True:
            page = self.json("GET", path, query=asked)
            yield from page.get("items", [])
            if not page.get("next_cursor"):
                return
            asked["cursor"] = page["next_cursor"]


def _problem_of(error: urllib.error.HTTPError) -> dict[str, Any]:
    try:
        found = json.loads(error.read() or b"{}")
        return found if isinstance(found, dict) else {"detail": str(found)}
    except ValueError:
        return {"detail": error.reason}

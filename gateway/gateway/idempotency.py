"""`Idempotency-Key` on POST: a retried request gets the first answer instead of doing the work twice.

The first request with a key claims it (a row with no response yet), does the work and stores the
response; a retry with the same key and the same request replays that response; the same key with a
different request is refused (422), and a retry that arrives while the first is still running gets 409.
Keys belong to the caller, so two users can never see each other's responses. Server failures (5xx)
release the key: nothing was decided, so the client may retry with it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar, cast

from flask import Response, make_response, request
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crm_platform.db import transaction, utcnow
from gateway.auth import current_caller
from gateway.bodies import read_body
from gateway.problems import Problem, problem_response, problem_type
from gateway.schema import IdempotencyRecord
from gateway.state import state

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
RETENTION = timedelta(hours=24)
PURGE_INTERVAL_SECONDS = 60.0
# Only headers that describe the stored result are replayed; per-request ones (trace, date) are not.
REPLAYED_HEADERS = ("Location", "Retry-After")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str]


class IdempotencyStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._next_purge = 0.0

    def claim(self, user_id: str, key: str, request_hash: str) -> StoredResponse | None:
        """None when this request now owns the key; the stored response when it is a replay."""
        self._purge_expired()
        for _ in range(2):  # a lost insert race is settled by reading the winner's row
            try:
                with transaction(self.sessions) as session:
                    record = session.get(IdempotencyRecord, (user_id, key))
                    if record is not None and record.created_at < utcnow() - RETENTION:
                        session.delete(record)
                        session.flush()
                        record = None
                    if record is None:
                        session.add(
                            IdempotencyRecord(
                                user_id=user_id, key=key, request_hash=request_hash, created_at=utcnow()
                            )
                        )
                        return None
                    return _stored(record, request_hash)
            except IntegrityError:
                continue
        raise _in_progress()

    def complete(self, user_id: str, key: str, response: Response) -> None:
        with transaction(self.sessions) as session:
            record = session.get(IdempotencyRecord, (user_id, key))
            if record is None:
                return
            record.status = response.status_code
            record.response_body = response.get_data()
            record.content_type = response.content_type
            record.response_headers = {
                h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers
            }

    def release(self, user_id: str, key: str) -> None:
        with transaction(self.sessions) as session:
            session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.user_id == user_id,
                    IdempotencyRecord.key == key,
                    IdempotencyRecord.status.is_(None),
                )
            )

    def _purge_expired(self) -> None:
        now = time.monotonic()
        if now < self._next_purge:
            return
        self._next_purge = now + PURGE_INTERVAL_SECONDS
        with transaction(self.sessions) as session:
            session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - RETENTION)
            )


def _stored(record: IdempotencyRecord, request_hash: str) -> StoredResponse:
    if record.request_hash != request_hash:
        raise Problem(
            422,
            f"This {HEADER} was already used for a different request; use a new key for a new request.",
            type=problem_type("idempotency-key-reused"),
        )
    if record.status is None:
        raise _in_progress()
    return StoredResponse(
        record.status,
        record.response_body or b"",
        record.content_type or "",
        dict(record.response_headers or {}),
    )


def _in_progress() -> Problem:
    return Problem(
        409,
        f"A request with this {HEADER} is still being processed; retry shortly.",
        type=problem_type("idempotency-key-in-use"),
        headers={"Retry-After": "1"},
    )


def _request_key() -> str:
    key = request.headers.get(HEADER, "")
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise Problem(
            400,
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters.",
            type=problem_type("bad-idempotency-key"),
        )
    return key


def _request_hash() -> str:
    raw = read_body()
    try:
        # Same JSON with other whitespace or key order is the same request.
        canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        canonical = raw
    digest = hashlib.sha256()
    for part in (
        request.method.encode(),
        request.path.encode(),
        (request.mimetype or "").encode(),
        canonical,
    ):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _replay(stored: StoredResponse) -> Response:
    response = Response(stored.body, status=stored.status, content_type=stored.content_type)
    response.headers.update(stored.headers)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view: F) -> F:
    """Decorates a POST view of the authenticated API."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if HEADER not in request.headers:
            return view(*args, **kwargs)
        key = _request_key()
        user_id = current_caller().user_id
        store = state().idempotency
        stored = store.claim(user_id, key, _request_hash())
        if stored is not None:
            return _replay(stored)
        try:
            response = make_response(view(*args, **kwargs))
        except Problem as problem:
            response = problem_response(problem)
        except BaseException:
            store.release(user_id, key)
            raise
        if response.status_code >= 500:
            store.release(user_id, key)
        else:
            store.complete(user_id, key, response)
        return response

    return cast(F, wrapper)

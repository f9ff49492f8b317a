"""`Idempotency-Key` on POST: a retried request gets the first answer instead of doing the work twice.

The gateway only checks the key's shape and passes it on (gRPC metadata `idempotency-key`): the
service that makes the change deduplicates it in its own write transaction (crm_platform.resources),
so the key can never be released while the first call may still commit, and two concurrent requests
with one key make one resource. Keys are scoped to the caller there.
"""

from __future__ import annotations

from flask import request

from gateway.problems import Problem, problem_type

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def request_key() -> str:
    """The request's key, or a 400 when it is not 1 to 255 printable ASCII characters."""
    key = request.headers.get(HEADER, "")
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise Problem(
            400,
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters.",
            type=problem_type("bad-idempotency-key"),
        )
    return key

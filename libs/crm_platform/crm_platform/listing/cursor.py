"""Opaque, tamper-proof page cursors bound to the query they came from.

A cursor is URL-safe base64 (no padding) of

    version (1 byte) | query id (16 bytes) | JSON payload | HMAC-SHA256 of all that (32 bytes)

The payload is the sort key of the last row of a page; a keyset cursor must hold it, so a cursor is
opaque by convention, not secret (its values are those of a row the caller has already seen). The MAC is
what matters: without it a client could hand-craft a key and, for instance, skip the tie-breaker's
guarantees, or probe values of rows it cannot see in an order it was not offered.

The query id is a hash of the normalised filter and order (and the resource name), so a cursor is only
accepted by the query that produced it: with another filter or order the key would be meaningless and
paging would silently skip or repeat rows. The MAC is checked first, so garbage and forgeries are told
apart from genuine cursors of another query.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from crm_platform.listing.invalid import CURSOR_NOT_OURS, CURSOR_OTHER_QUERY, cursor_error

VERSION = 1
MIN_SECRET_BYTES = 32
MAX_CURSOR_LENGTH = 4096  # characters; a real cursor is a few hundred at most
_ID_BYTES = 16
_MAC_BYTES = 32


def query_id(*parts: str) -> bytes:
    """A short, stable id of a query's normalised parts (unambiguous: parts are length-prefixed)."""
    digest = hashlib.sha256()
    for part in parts:
        encoded = part.encode()
        digest.update(len(encoded).to_bytes(4, "big") + encoded)
    return digest.digest()[:_ID_BYTES]


class CursorCodec:
    """Signs and checks cursors with `secret` (at least 32 random bytes, the same on every replica;
    rotating it invalidates the cursors in flight, which only costs clients a restart from page 1)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the cursor secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = bytes(secret)

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._secret, body, hashlib.sha256).digest()

    def encode(self, query: bytes, payload: Any) -> str:
        """A cursor carrying `payload` (JSON-serialisable) for the query with id `query`."""
        if len(query) != _ID_BYTES:
            raise ValueError("query id must come from query_id()")
        data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        body = bytes([VERSION]) + query + data
        return base64.urlsafe_b64encode(body + self._mac(body)).decode("ascii").rstrip("=")

    def decode(self, cursor: str, query: bytes) -> Any:
        """The payload of `cursor`; InvalidArgument (field `cursor`) when it is not a cursor this codec
        signed, or was signed for another query."""
        raw = self._unwrap(cursor)
        body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(body)):
            raise cursor_error(CURSOR_NOT_OURS)
        if body[0] != VERSION:  # signed by us, in a format this code no longer reads
            raise cursor_error(CURSOR_NOT_OURS)
        if not hmac.compare_digest(body[1 : 1 + _ID_BYTES], query):
            raise cursor_error(CURSOR_OTHER_QUERY)
        try:
            return json.loads(body[1 + _ID_BYTES :])
        except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise cursor_error(CURSOR_NOT_OURS) from None

    @staticmethod
    def _unwrap(cursor: str) -> bytes:
        if len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
            raise cursor_error(CURSOR_NOT_OURS)
        try:
            raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise cursor_error(CURSOR_NOT_OURS) from None
        if len(raw) < 1 + _ID_BYTES + _MAC_BYTES:
            raise cursor_error(CURSOR_NOT_OURS)
        return raw

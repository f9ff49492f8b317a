"""Keyset (cursor) pagination: stable under inserts, no OFFSET scans.

A cursor is an opaque, URL-safe token holding the sort key of the last row a page returned; the next
page starts strictly after it. Order is always (timestamp, id) so ties on the timestamp are broken stably.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, and_, or_

from crm_platform.errors import InvalidArgument

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200

SortKey = tuple[datetime, str]


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str


def clamp_limit(limit: int) -> int:
    """0 means the default; anything outside 1..MAX_LIMIT is the caller's mistake."""
    if limit == 0:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidArgument("invalid limit", {"limit": f"must be between 1 and {MAX_LIMIT}"})
    return limit


def encode_cursor(key: SortKey) -> str:
    raw = json.dumps([key[0].isoformat(), key[1]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> SortKey:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return datetime.fromisoformat(stamp), str(row_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidArgument("invalid cursor", {"cursor": "is not a cursor this API returned"}) from None


def after_cursor(stamp_column: Any, id_column: Any, key: SortKey) -> ColumnElement[bool]:
    stamp, row_id = key
    return or_(stamp_column > stamp, and_(stamp_column == stamp, id_column > row_id))


def before_cursor(stamp_column: Any, id_column: Any, key: SortKey) -> ColumnElement[bool]:
    stamp, row_id = key
    return or_(stamp_column < stamp, and_(stamp_column == stamp, id_column < row_id))


def page_of(rows: Sequence[T], limit: int, key: Callable[[T], SortKey]) -> Page[T]:
    """`rows` was fetched with limit + 1; the extra row only tells whether another page exists."""
    items = list(rows[:limit])
    has_more = len(rows) > limit
    return Page(items, encode_cursor(key(items[-1])) if has_more and items else "")

"""Lists of the identity resources: query parameters checked against an allow-list, keyset paging with
opaque cursors signed by the server and bound to the caller, the collection and the filter, so a cursor
cannot be forged, replayed by another caller or moved to another query."""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import request
from sqlalchemy import Select, and_, or_

from gateway.identity.keyed_hash import KeyedHash
from gateway.problems import Problem, problem_type

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_VALUE_LENGTH = 512
BAD_QUERY = problem_type("bad-query")


def query_args(allowed: Iterable[str]) -> dict[str, str]:
    """The query string as a dict; 400 naming unknown or repeated parameters."""
    allowed = {*allowed, "limit", "cursor"}
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        raise Problem(
            400,
            f"Unknown query parameter(s): {', '.join(unknown)}.",
            type=BAD_QUERY,
            errors=[{"field": name, "message": "unknown parameter"} for name in unknown],
        )
    repeated = sorted(name for name in request.args if len(request.args.getlist(name)) > 1)
    if repeated:
        raise Problem(400, f"Query parameter(s) given more than once: {', '.join(repeated)}.", type=BAD_QUERY)
    found = {name: request.args[name] for name in request.args}
    for name, value in found.items():
        # NUL cannot even reach PostgreSQL in a parameter; nothing we filter on is long or has controls.
        if len(value) > MAX_VALUE_LENGTH or not value.isprintable():
            raise Problem(
                400,
                f"Query parameter {name} is too long or has control characters.",
                type=BAD_QUERY,
                errors=[{"field": name, "message": "too long or has control characters"}],
            )
    return found


def limit_of(args: dict[str, str]) -> int:
    raw = args.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise Problem(
            400,
            f"limit must be an integer from 1 to {MAX_LIMIT}.",
            type=BAD_QUERY,
            errors=[{"field": "limit", "message": f"must be 1-{MAX_LIMIT}"}],
        )
    return int(raw)


def bool_arg(args: dict[str, str], name: str) -> bool | None:
    raw = args.get(name)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise Problem(
            400,
            f"{name} must be true or false.",
            type=BAD_QUERY,
            errors=[{"field": name, "message": "must be true or false"}],
        )
    return raw == "true"


def time_arg(args: dict[str, str], name: str) -> datetime | None:
    raw = args.get(name)
    if raw is None:
        return None
    try:
        # In UTC now: an offset that moves the year out of 1-9999 is an error here, not in the database.
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        value = value.astimezone(UTC) if value.tzinfo is not None else None
    except (ValueError, OverflowError):
        value = None
    if value is None:
        raise Problem(
            400,
            f"{name} must be an RFC 3339 timestamp with a zone.",
            type=BAD_QUERY,
            errors=[{"field": name, "message": "must be RFC 3339 with a zone"}],
        )
    return value


@dataclass(frozen=True)
class CursorCodec:
    hasher: KeyedHash

    def encode(self, position: list[Any], binding: str) -> str:
        body = json.dumps(position, separators=(",", ":")).encode()
        mac = self.hasher.digest("cursor|" + binding + "|" + body.decode())[:32]
        return base64.urlsafe_b64encode(body).decode().rstrip("=") + "." + mac

    def decode(self, cursor: str, binding: str) -> list[Any]:
        payload, _, mac = cursor.partition(".")
        try:
            body = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            expected = self.hasher.digest("cursor|" + binding + "|" + body.decode())[:32]
            if not hmac.compare_digest(mac.encode(), expected.encode()):  # bytes: mac may be any text
                raise ValueError("bad signature")
            position = json.loads(body)
            if not isinstance(position, list):
                raise ValueError("bad position")
        except (ValueError, UnicodeDecodeError):
            raise Problem(
                400,
                "The cursor is not valid for this list.",
                type=BAD_QUERY,
                errors=[{"field": "cursor", "message": "not valid for this query"}],
            ) from None
        return position


def binding_of(caller: str, collection: str, args: dict[str, str]) -> str:
    filters = sorted((k, v) for k, v in args.items() if k not in ("cursor", "limit"))
    return json.dumps([caller, collection, filters], separators=(",", ":"))


def keyset(stmt: Select[Any], sort: Any, tie: Any, after: list[Any] | None, descending: bool) -> Select[Any]:
    """Orders by (sort, tie) and starts after `after` ([sort value as ISO text, tie value])."""
    if after is not None:
        try:
            value, tie_value = datetime.fromisoformat(str(after[0])), str(after[1])
            if len(after) != 2 or value.tzinfo is None:
                raise ValueError("not a position")
        except (ValueError, IndexError):
            raise Problem(400, "The cursor is not valid for this list.", type=BAD_QUERY) from None
        if descending:
            stmt = stmt.where(or_(sort < value, and_(sort == value, tie < tie_value)))
        else:
            stmt = stmt.where(or_(sort > value, and_(sort == value, tie > tie_value)))
    order = (sort.desc(), tie.desc()) if descending else (sort.asc(), tie.asc())
    return stmt.order_by(*order)


def position_of(sort_value: datetime, tie_value: str) -> list[Any]:
    return [sort_value.isoformat(), tie_value]

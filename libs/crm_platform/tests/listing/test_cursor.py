"""Cursors: URL-safe, signed, bound to their query; anything else is refused with a fixed sentence."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

import pytest

from crm_platform.errors import InvalidArgument
from crm_platform.listing import CursorCodec, query_id
from crm_platform.listing.cursor import MAX_CURSOR_LENGTH

SECRET = b"s" * 32
CODEC = CursorCodec(SECRET)
QUERY = query_id("contacts", 'email = "*@x.com"', "last_name desc")
PAYLOAD = ["Lovelace", "2026-01-01T00:00:00+00:00", None, 3, 1.5, True, "é😀"]
NOT_OURS = {"cursor": "is not a cursor this API returned"}


def refused(cursor: str, query: bytes = QUERY, codec: CursorCodec = CODEC) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as raised:
        codec.decode(cursor, query)
    assert raised.value.message.startswith("invalid cursor: the cursor ")
    return raised.value.fields


def test_round_trip_url_safe_without_padding() -> None:
    cursor = CODEC.encode(QUERY, PAYLOAD)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)
    assert CODEC.decode(cursor, QUERY) == PAYLOAD


def test_same_payload_same_cursor() -> None:
    # Deterministic: no nonce, so a client retrying a page gets the same next cursor.
    assert CODEC.encode(QUERY, PAYLOAD) == CODEC.encode(QUERY, PAYLOAD)


def test_a_cursor_of_another_query_is_refused_as_such() -> None:
    cursor = CODEC.encode(QUERY, PAYLOAD)
    other = query_id("contacts", 'email = "*@y.com"', "last_name desc")
    assert refused(cursor, other) == {"cursor": "does not belong to this query"}


def test_query_ids_do_not_collide_by_concatenation() -> None:
    assert query_id("ab", "c") != query_id("a", "bc")
    assert query_id("a", "") != query_id("a")


def test_every_tampered_byte_is_detected() -> None:
    raw = base64.urlsafe_b64decode(CODEC.encode(QUERY, PAYLOAD) + "==")
    for i in range(len(raw)):
        tampered = bytearray(raw)
        tampered[i] ^= 0x01
        cursor = base64.urlsafe_b64encode(bytes(tampered)).decode().rstrip("=")
        assert refused(cursor) == NOT_OURS, i


def test_a_forged_payload_with_a_guessed_query_id_is_refused() -> None:
    forged = CursorCodec(b"x" * 32).encode(QUERY, ["Zzz", "2099-01-01T00:00:00+00:00"])
    assert refused(forged) == NOT_OURS


def test_truncated_and_extended_cursors_are_refused() -> None:
    cursor = CODEC.encode(QUERY, PAYLOAD)
    assert refused(cursor[:-1]) == NOT_OURS
    assert refused(cursor[:-4]) == NOT_OURS
    assert refused(cursor + "A") == NOT_OURS
    assert refused(cursor + "AAAA") == NOT_OURS


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "x",
        "not-a-cursor",
        "!!!!",
        "e30",  # base64 of "{}"
        "W10",  # base64 of "[]"
        "a" * 200,
        "é" * 80,
        "abc=def",
        "abc\ndef",
        "A" * (MAX_CURSOR_LENGTH + 4),
        base64.urlsafe_b64encode(b"\x01" + b"\x00" * 60).decode(),
    ],
)
def test_garbage_is_refused(cursor: str) -> None:
    assert refused(cursor) == NOT_OURS


def test_a_cursor_signed_with_another_secret_is_refused() -> None:
    assert refused(CursorCodec(b"t" * 32).encode(QUERY, PAYLOAD)) == NOT_OURS


def test_a_short_secret_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        CursorCodec(b"short")


def test_payload_must_be_json() -> None:
    with pytest.raises(TypeError):
        CODEC.encode(QUERY, [datetime(2026, 1, 1, tzinfo=UTC)])

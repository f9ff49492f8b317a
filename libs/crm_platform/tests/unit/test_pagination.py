from datetime import UTC, datetime

import pytest

from crm_platform.errors import InvalidArgument
from crm_platform.pagination import MAX_LIMIT, clamp_limit, decode_cursor, encode_cursor, page_of


def test_cursor_round_trip() -> None:
    key = (datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), "b7c1")
    assert decode_cursor(encode_cursor(key)) == key


@pytest.mark.parametrize("cursor", ["not-a-cursor", "e30", "W10", "!!!!", "WyJ4IiwgMV0"])
def test_garbage_cursor_is_invalid_argument(cursor: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        decode_cursor(cursor)
    assert "cursor" in raised.value.fields


def test_limit_bounds() -> None:
    assert clamp_limit(0) == 50
    assert clamp_limit(MAX_LIMIT) == MAX_LIMIT
    for bad in (-1, MAX_LIMIT + 1):
        with pytest.raises(InvalidArgument):
            clamp_limit(bad)


def test_page_of_only_sets_cursor_when_more_rows_exist() -> None:
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [(stamp, str(i)) for i in range(3)]
    full = page_of(rows, 2, lambda r: r)
    assert full.items == rows[:2]
    assert decode_cursor(full.next_cursor) == rows[1]
    assert page_of(rows[:2], 2, lambda r: r).next_cursor == ""

"""On SQLite an import chunk's rows follow how long chunks take (contacts.imports.runner.next_chunk_rows),
so that a chunk never holds the database's one writer turn for long."""

from __future__ import annotations

from contacts.imports.runner import MIN_SQLITE_CHUNK_ROWS, next_chunk_rows


def test_a_slow_chunk_halves_the_next_at_most() -> None:
    assert next_chunk_rows(500, took=0.5, target=0.25, most=500) == 250
    assert next_chunk_rows(500, took=5.0, target=0.25, most=500) == 250  # not to 25 at once


def test_quick_chunks_grow_back_to_the_setting_at_most_doubling() -> None:
    assert next_chunk_rows(100, took=0.05, target=0.25, most=500) == 200
    assert next_chunk_rows(400, took=0.05, target=0.25, most=500) == 500
    assert next_chunk_rows(200, took=0.2, target=0.25, most=500) == 250  # scaled toward the target


def test_never_below_the_floor_nor_above_the_setting() -> None:
    assert next_chunk_rows(60, took=10.0, target=0.25, most=500) == MIN_SQLITE_CHUNK_ROWS
    assert next_chunk_rows(3, took=10.0, target=0.25, most=3) == 3  # a setting under the floor holds
    assert next_chunk_rows(500, took=0.0, target=0.25, most=500) == 500

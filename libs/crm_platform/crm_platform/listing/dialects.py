"""The few string semantics SQLite and PostgreSQL disagree on, made the same on both.

The rules every list endpoint promises, whatever the backend:

- Strings order and compare (`<`, `>`, ORDER BY, cursors) by Unicode code point. SQLite's BINARY
  collation already does; PostgreSQL's depends on the database's locale (en_US puts "a_b" after "ab"), so
  on PostgreSQL string sort keys are compiled with `COLLATE "C"`, which is code-point order for UTF-8.
  Consequence: an index used for ordering a string column on PostgreSQL must be created `COLLATE "C"`.
- `=` on strings is exact and case-sensitive, and so is a `*` wildcard match: SQLite's LIKE ignores ASCII
  case, so on SQLite wildcards are compiled to GLOB (case-sensitive) and on PostgreSQL to LIKE.
- `:` (has) on a list field (a JSON array of strings) is exact membership: SQLite looks through
  `json_each`, PostgreSQL tests `CAST(column AS JSONB) @> '["value"]'`, which a GIN index over
  `(column::jsonb)` serves.
- `:` (has) on strings is a substring test that ignores the case of ASCII letters only. That is what
  both can do without extensions: SQLite's lower() folds ASCII only, and PostgreSQL's lower() does the
  same under `COLLATE "C"`. Non-ASCII letters match only in the same case ("é" does not find "É").
  A service that needs full Unicode case folding should store a folded copy of the column and expose it.

Values always travel as bound parameters; only the pattern syntax (escaping) differs per backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, cast, exists, func, literal
from sqlalchemy.dialects.postgresql import JSONB

from crm_platform.listing.fields import FieldType

POSTGRESQL = "postgresql"
SQLITE = "sqlite"

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_LIKE_ESCAPES = str.maketrans({"\\": "\\\\", "%": "\\%", "_": "\\_"})
_GLOB_ESCAPES = str.maketrans({"*": "[*]", "?": "[?]", "[": "[[]"})


def ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only: the case folding both backends apply in `:` (see module doc)."""
    return text.translate(_ASCII_LOWER)


def like_escape(text: str) -> str:
    """`text` as a LIKE pattern matching itself (escape character: backslash)."""
    return text.translate(_LIKE_ESCAPES)


def glob_escape(text: str) -> str:
    """`text` as a SQLite GLOB pattern matching itself (GLOB has no escape character: use classes)."""
    return text.translate(_GLOB_ESCAPES)


def sort_key(clause: ColumnElement[Any], field_type: FieldType, dialect: str) -> ColumnElement[Any]:
    """`clause` as it must be compared with <, > and ordered: code-point order for strings."""
    if dialect == POSTGRESQL and field_type in (FieldType.STRING, FieldType.ENUM):
        return clause.collate("C")
    return clause


def contains_ignoring_case(clause: ColumnElement[Any], needle: str, dialect: str) -> ColumnElement[bool]:
    """`needle` occurs in `clause`, ASCII letters compared case-insensitively."""
    target = clause.collate("C") if dialect == POSTGRESQL else clause
    pattern = f"%{like_escape(ascii_lower(needle))}%"
    return func.lower(target).like(pattern, escape="\\")


def matches_wildcards(clause: ColumnElement[Any], parts: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """`clause` equals `parts` joined by runs of any characters (the `*` of `=`), case-sensitively."""
    if dialect == SQLITE:
        return clause.op("GLOB", is_comparison=True)("*".join(glob_escape(p) for p in parts))
    return clause.like("%".join(like_escape(p) for p in parts), escape="\\")


def list_holds(clause: ColumnElement[Any], item: str, dialect: str) -> ColumnElement[bool]:
    """The JSON array in `clause` has an element equal to `item` (exactly; see the module docstring)."""
    if dialect == POSTGRESQL:
        return cast(clause, JSONB).contains(literal([item], JSONB))
    elements = func.json_each(clause).table_valued("value")
    return exists().select_from(elements).where(elements.c.value == item)

"""The caller's mistakes in a list request, as the platform's InvalidArgument.

One constructor per request field so that every error names the field it is about (`filter`, `order_by`,
`cursor`) in the BadRequest field violation the gateway turns into problem+json, and the message repeats
the detail so a client that only shows the message still says where the expression went wrong.
"""

from __future__ import annotations

from crm_platform.errors import InvalidArgument

# The cursor errors are fixed sentences: a cursor is opaque, so saying more would only describe its format.
CURSOR_NOT_OURS = "is not a cursor this API returned"
CURSOR_OTHER_QUERY = "does not belong to this query"


def filter_error(detail: str) -> InvalidArgument:
    return InvalidArgument(f"invalid filter: {detail}", {"filter": detail})


def order_by_error(detail: str) -> InvalidArgument:
    return InvalidArgument(f"invalid order_by: {detail}", {"order_by": detail})


def cursor_error(detail: str) -> InvalidArgument:
    return InvalidArgument(f"invalid cursor: the cursor {detail}", {"cursor": detail})


# Longer input is cut in messages: the position already says where it is.
_SHOWN_CHARACTERS = 40


def quoted(text: str) -> str:
    """`text` in double quotes for a message, control characters made visible, long text cut short."""
    cut = text[:_SHOWN_CHARACTERS]
    shown = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in cut)
    return f'"{shown}..."' if len(text) > _SHOWN_CHARACTERS else f'"{shown}"'

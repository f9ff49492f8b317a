"""List conventions every resource of every service shares: filter, order_by, cursor, limit.

    CONTACTS = ListSpec(
        name="contacts",
        fields={
            "email": Field(Contact.email, STRING),
            "created_at": Field(Contact.created_at, TIMESTAMP),
            "kind": Field(Contact.kind, ENUM, enum_values=("company", "person")),
        },
        orderable={"email", "created_at"},
        default_order="created_at",
        tie_breaker=Contact.id,
    )
    page = list_page(session, select(Contact).where(scope), CONTACTS, ListRequest(...), codec)

- `filter`: AIP-160 (parser.py has the grammar, compiler.py the semantics, dialects.py the string
  rules that hold on SQLite and PostgreSQL alike), bounded in length, depth and number of comparisons.
- Lists (`tags:"vip"`: the list holds "vip"), fields kept in another table (`Lookup`: custom fields)
  and computed fields (`years_since`: an age compared as a birth-date range), all through fields.py.
- `order_by`: AIP-132 (`"last_name desc, created_at"`), allow-listed, tie-breaker appended, NULL
  smallest (ordering.py).
- `cursor`: keyset, HMAC-signed and bound to the query (cursor.py, keyset.py).
- `limit`: 0 is 50, 1..200 (crm_platform.pagination.clamp_limit).

Every mistake in a request is an InvalidArgument naming the request field and, for filter and order_by,
the character position where it went wrong.
"""

from crm_platform.listing.compiler import compile_filter, compile_node
from crm_platform.listing.computed import years_since
from crm_platform.listing.cursor import CursorCodec, query_id
from crm_platform.listing.fields import (
    BOOLEAN,
    DATE,
    ENUM,
    INTEGER,
    NUMBER,
    STRING,
    TIMESTAMP,
    Field,
    FieldType,
    Lookup,
)
from crm_platform.listing.ordering import OrderKey, parse_order_by
from crm_platform.listing.page import ListPlan, ListRequest, list_page, plan_listing
from crm_platform.listing.parser import MAX_DEPTH, MAX_FILTER_LENGTH, MAX_TERMS, parse_filter
from crm_platform.listing.spec import ListSpec
from crm_platform.listing.syntax import to_text
from crm_platform.pagination import Page

__all__ = [
    "BOOLEAN",
    "DATE",
    "ENUM",
    "INTEGER",
    "MAX_DEPTH",
    "MAX_FILTER_LENGTH",
    "MAX_TERMS",
    "NUMBER",
    "STRING",
    "TIMESTAMP",
    "CursorCodec",
    "Field",
    "FieldType",
    "ListPlan",
    "ListRequest",
    "ListSpec",
    "Lookup",
    "OrderKey",
    "Page",
    "compile_filter",
    "compile_node",
    "list_page",
    "parse_filter",
    "parse_order_by",
    "plan_listing",
    "query_id",
    "to_text",
    "years_since",
]

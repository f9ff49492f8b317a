"""The one SQL expression the reports need that the two databases spell differently: the seconds
between two timestamps (SQLite has no interval type; timestamps are text there)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class seconds_between(FunctionElement[float]):
    """`end - start` in seconds, as a float (NULL when either is NULL)."""

    type = Float()
    inherit_cache = True

    def __init__(self, start: Any, end: Any) -> None:
        super().__init__(start, end)


@compiles(seconds_between, "sqlite")
def _sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"

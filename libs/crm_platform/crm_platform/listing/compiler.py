"""Filter AST to a SQLAlchemy boolean expression over a resource's allow-listed fields.

Only fields the spec lists can be named, every literal becomes a bound parameter of the column's type,
and no SQL text is ever assembled from the input: the worst a filter can do is select nothing.

Comparisons are two-valued, with NULL as a value of its own: `f = null` / `f != null` test for NULL, any
other comparison with a NULL column value is false except `!=`, which is true (NULL is not equal to 5).
SQL's three-valued logic would make `NOT f = 5` drop the rows where f is NULL, which nobody means, so
comparisons on nullable fields are guarded (`f IS NOT NULL AND ...`, `f IS NULL OR f != ...`) and
NOT is then plain negation.

Lists (`Field.repeated`) take `:` (has: `tags:"vip"`) and a comparison with null; fields kept in another
table (`Field.lookup`) compile to `id IN (SELECT record id FROM that table WHERE value <op> literal)`,
which the other table's value index serves, `!=` and `= null` being the negated membership; computed
fields (`Field.predicate`, e.g. computed.years_since) are compiled by their own function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, literal, not_, or_

from crm_platform.listing import dialects
from crm_platform.listing.fields import Field, FieldType, clause_of
from crm_platform.listing.invalid import filter_error, quoted
from crm_platform.listing.parser import parse_filter
from crm_platform.listing.spec import ListSpec
from crm_platform.listing.syntax import And, Comparison, Node, Not, Null, Number, Or, String, Value
from crm_platform.listing.values import (
    as_bool,
    as_date,
    as_enum,
    as_float,
    as_int,
    as_string,
    as_timestamp,
)

_ORDERED = ("=", "!=", "<", "<=", ">", ">=")
_EQUALITY = ("=", "!=")
# The operators each type accepts. ":" is for strings only; enums and booleans have no order worth
# filtering on.
_OPERATORS: dict[FieldType, tuple[str, ...]] = {
    FieldType.STRING: (*_ORDERED, ":"),
    FieldType.INTEGER: _ORDERED,
    FieldType.NUMBER: _ORDERED,
    FieldType.TIMESTAMP: _ORDERED,
    FieldType.BOOLEAN: _EQUALITY,
    FieldType.ENUM: _EQUALITY,
    FieldType.DATE: _ORDERED,
}
_COMPARE: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def compile_filter(text: str, spec: ListSpec, dialect: str) -> ColumnElement[bool] | None:
    """`text` (an AIP-160 filter) as a WHERE clause for `spec`'s resource, or None for no filter.

    `dialect` is the SQLAlchemy dialect name (`session.get_bind().dialect.name`): string order and
    pattern matching differ between SQLite and PostgreSQL (see `dialects`)."""
    node = parse_filter(text)
    return None if node is None else compile_node(node, spec, dialect)


def compile_node(node: Node, spec: ListSpec, dialect: str) -> ColumnElement[bool]:
    if isinstance(node, Comparison):
        return _comparison(node, spec, dialect)
    if isinstance(node, And):
        return and_(*(compile_node(term, spec, dialect) for term in node.terms))
    if isinstance(node, Or):
        return or_(*(compile_node(term, spec, dialect) for term in node.terms))
    assert isinstance(node, Not)
    return not_(compile_node(node.operand, spec, dialect))


def normalise(node: Node, spec: ListSpec) -> Node:
    """`node` with every literal in its canonical spelling for its field (enum values lower case,
    timestamps in UTC, numbers as Python prints them), so that `to_text` of it is the same for filters
    that mean the same: what a cursor is bound to. Call it on a node that compiled."""
    if isinstance(node, And):
        return And(tuple(normalise(term, spec) for term in node.terms))
    if isinstance(node, Or):
        return Or(tuple(normalise(term, spec) for term in node.terms))
    if isinstance(node, Not):
        return Not(normalise(node.operand, spec))
    field = spec.fields[node.field]
    if isinstance(node.value, Null) or field.type in (FieldType.STRING, FieldType.BOOLEAN):
        return node
    value: Value
    if field.type is FieldType.INTEGER:
        value = Number(str(as_int(node.value, node.field)))
    elif field.type is FieldType.NUMBER:
        value = Number(repr(as_float(node.value, node.field)))
    elif field.type is FieldType.TIMESTAMP:
        value = String((as_timestamp(node.value, node.field).isoformat(),))
    elif field.type is FieldType.DATE:
        value = String((as_date(node.value, node.field),))
    else:
        value = String((as_enum(node.value, field, node.field),))
    return Comparison(node.field, node.op, value)


def _comparison(node: Comparison, spec: ListSpec, dialect: str) -> ColumnElement[bool]:
    field = _filterable(node, spec)
    _check_operator(node, field)
    if field.predicate is not None:
        value = None if isinstance(node.value, Null) else _python_value(node.value, field, node.field)
        return field.predicate(node.op, value)
    if field.lookup is not None:
        return _looked_up(node, field, dialect)
    clause = field.clause
    if isinstance(node.value, Null):
        return clause.is_(None) if node.op == "=" else clause.is_not(None)
    if field.repeated:
        return and_(
            clause.is_not(None), dialects.list_holds(clause, as_string(node.value, node.field).text, dialect)
        )
    test = _test(node, field, dialect)
    if not field.nullable:
        return test
    # Two-valued comparisons on a nullable column (see the module docstring).
    return or_(clause.is_(None), test) if node.op == "!=" else and_(clause.is_not(None), test)


def _check_operator(node: Comparison, field: Field) -> None:
    if field.repeated:
        if node.op == ":" and not isinstance(node.value, Null):
            return
        if node.op in _EQUALITY and isinstance(node.value, Null):
            return
        raise filter_error(
            f'{node.field} is a list at position {node.position}: use {node.field}:"value" (the list '
            f"holds it) or compare it with null (an empty list)"
        )
    allowed = _OPERATORS[field.type]
    if node.op not in allowed:
        raise filter_error(
            f'"{node.op}" does not apply to {field.type.value} field {node.field} at position '
            f"{node.position}; use {', '.join(allowed)}"
        )
    if isinstance(node.value, Null) and node.op not in _EQUALITY:
        raise filter_error(f"null can only be compared with = or != at position {node.value.position}")


def _looked_up(node: Comparison, field: Field, dialect: str) -> ColumnElement[bool]:
    """A comparison on a field whose values are another table's rows (fields.Lookup), as a membership
    test of the record's key in those rows, so the rows' index on the value serves it. A record without a
    row has no value: only `= null` and `!=` hold for it, as for a NULL column."""
    lookup = field.lookup
    assert lookup is not None
    key, rows = clause_of(lookup.key), lookup.rows
    if isinstance(node.value, Null):
        return key.in_(rows) if node.op == "!=" else not_(key.in_(rows))
    value_field = Field(lookup.value, field.type, field.enum_values, nullable=False)
    if field.repeated:
        test = value_field.clause == as_string(node.value, node.field).text
        return key.in_(rows.where(test))
    if node.op == "!=":  # not equal: the record has no row equal to the literal (or no row at all)
        equal = Comparison(node.field, "=", node.value, node.position)
        return not_(key.in_(rows.where(_test(equal, value_field, dialect))))
    return key.in_(rows.where(_test(node, value_field, dialect)))


def _filterable(node: Comparison, spec: ListSpec) -> Field:
    field = spec.fields.get(node.field)
    if field is None or not field.filterable:
        problem = "unknown field" if field is None else "cannot filter on field"
        raise filter_error(
            f"{problem} {quoted(node.field)} at position {node.position}; "
            f"filterable fields: {', '.join(spec.filterable_names)}"
        )
    return field


def _test(node: Comparison, field: Field, dialect: str) -> ColumnElement[bool]:
    """The comparison for a non-NULL column value and a non-null literal."""
    value, name, op, clause = node.value, node.field, node.op, field.clause
    if field.type is FieldType.STRING:
        string = as_string(value, name)
        if op == ":":
            return dialects.contains_ignoring_case(clause, string.text, dialect)
        if op in _EQUALITY and string.has_wildcard:
            match = dialects.matches_wildcards(clause, string.parts, dialect)
            return match if op == "=" else not_(match)
        if op in _EQUALITY:  # equality needs no collation, so an ordinary index still serves it
            return _COMPARE[op](clause, string.text)
        return _COMPARE[op](dialects.sort_key(clause, field.type, dialect), string.text)
    return _COMPARE[op](clause, _literal(value, field, name))


def _python_value(value: Value, field: Field, name: str) -> Any:
    """The literal as a plain Python value of the field's type (what a predicate field gets)."""
    if field.type is FieldType.INTEGER:
        return as_int(value, name)
    if field.type is FieldType.STRING:
        return as_string(value, name).text
    return _literal(value, field, name)


def _literal(value: Value, field: Field, name: str) -> Any:
    if field.type is FieldType.DATE:
        return as_date(value, name)
    if field.type is FieldType.INTEGER:
        # Bound as BIGINT whatever the column's width: PostgreSQL casts a bind to the column's type, and
        # `score < 3000000000` on an INTEGER column must be true, not an "integer out of range" error.
        return literal(as_int(value, name), BigInteger())
    if field.type is FieldType.NUMBER:
        return as_float(value, name)
    if field.type is FieldType.BOOLEAN:
        return as_bool(value, name)
    if field.type is FieldType.TIMESTAMP:
        return as_timestamp(value, name)
    return as_enum(value, field, name)

"""The filter AST, and its canonical text.

The parser produces these; the SQL compiler and the tests' Python evaluator both walk them, which is what
lets a property test check the SQL against an independent reading of the same expression. Positions are
kept for error messages but are not part of a node's identity (two parses of the same expression with
different spacing are equal).

The canonical text (`to_text`) is what a cursor is bound to: spacing, quote style, `-` vs `NOT`, implicit
vs explicit AND and redundant parentheses do not change it, so an equivalent filter keeps its cursor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

# Comparison operators, in the order error messages list them.
OPERATORS = ("=", "!=", "<", "<=", ">", ">=", ":")


@dataclass(frozen=True)
class String:
    """A quoted string or a bare word; `parts` is the text split at unescaped `*` wildcards."""

    parts: tuple[str, ...]
    position: int = field(default=0, compare=False)

    @property
    def text(self) -> str:
        """The literal text, reading every `*` as a plain star (where wildcards do not apply)."""
        return "*".join(self.parts)

    @property
    def has_wildcard(self) -> bool:
        return len(self.parts) > 1


@dataclass(frozen=True)
class Number:
    text: str  # as written, sign included: the field's type decides whether it is an int or a float
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Boolean:
    value: bool
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Null:
    position: int = field(default=0, compare=False)


Value: TypeAlias = String | Number | Boolean | Null


@dataclass(frozen=True)
class Comparison:
    field: str
    op: str
    value: Value
    position: int = field(default=0, compare=False)  # of the field name


@dataclass(frozen=True)
class And:
    terms: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    terms: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    operand: Node
    position: int = field(default=0, compare=False)


Node: TypeAlias = Comparison | And | Or | Not


def conjunction(terms: list[Node]) -> Node:
    """AND of `terms`, flattened (nested ANDs merge) and collapsed when there is only one."""
    flat: list[Node] = []
    for term in terms:
        flat.extend(term.terms if isinstance(term, And) else (term,))
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def disjunction(terms: list[Node]) -> Node:
    """OR of `terms`, flattened and collapsed like `conjunction`."""
    flat: list[Node] = []
    for term in terms:
        flat.extend(term.terms if isinstance(term, Or) else (term,))
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def to_text(node: Node | None) -> str:
    """The canonical text of `node`; parsing it gives back an equal AST. "" for no filter.

    AIP-160 gives OR a higher precedence than AND, so an OR inside an AND needs no parentheses and an AND
    inside an OR does.
    """
    if node is None:
        return ""
    if isinstance(node, Comparison):
        return f"{node.field} {node.op} {_value_text(node.value)}"
    if isinstance(node, And):
        return " AND ".join(to_text(t) for t in node.terms)
    if isinstance(node, Or):
        return " OR ".join(f"({to_text(t)})" if isinstance(t, And) else to_text(t) for t in node.terms)
    inner = to_text(node.operand)
    return f"NOT {inner}" if isinstance(node.operand, Comparison) else f"NOT ({inner})"


def _value_text(value: Value) -> str:
    if isinstance(value, String):
        return '"' + "*".join(_escape(part) for part in value.parts) + '"'
    if isinstance(value, Number):
        return value.text
    if isinstance(value, Boolean):
        return "true" if value.value else "false"
    return "null"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("*", "\\*")

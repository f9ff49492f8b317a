"""Recursive-descent parser for the AIP-160 filter subset we support, with hard limits.

Grammar (AIP-160, without functions, member traversal and global restrictions):

    filter      = [expression]
    expression  = sequence {"AND" sequence}
    sequence    = factor {factor}                  juxtaposition is AND
    factor      = term {"OR" term}                 OR binds tighter than AND (AIP-160!)
    term        = ["NOT" | "-"] simple
    simple      = restriction | "(" expression ")"
    restriction = FIELD comparator value
    comparator  = "=" | "!=" | "<" | "<=" | ">" | ">=" | ":"
    value       = STRING | ["-"]NUMBER | "true" | "false" | "null" | WORD

So `a = 1 b = 2 OR c = 3` means `a = 1 AND (b = 2 OR c = 3)`, exactly as in Google's APIs. Only one
negation may precede a `simple`, so negations nest only through parentheses, and the parenthesis depth
bounds the recursion (and the cost of compiling): a filter is untrusted input.
"""

from __future__ import annotations

from crm_platform.listing.invalid import filter_error, quoted
from crm_platform.listing.syntax import (
    OPERATORS,
    Boolean,
    Comparison,
    Node,
    Not,
    Null,
    Number,
    String,
    Value,
    conjunction,
    disjunction,
)
from crm_platform.listing.tokens import Kind, Token, tokenize

MAX_FILTER_LENGTH = 2000  # characters
MAX_DEPTH = 16  # nested parentheses
MAX_TERMS = 50  # comparisons

_TERM_STARTS = frozenset({Kind.WORD, Kind.LPAREN, Kind.NOT, Kind.MINUS})
_KEYWORD_VALUES = {"true": Boolean(True), "false": Boolean(False)}


def parse_filter(text: str) -> Node | None:
    """The AST of `text`, or None when it is empty (no filter). Raises InvalidArgument naming the
    position where the text stops making sense and what was expected there."""
    if len(text) > MAX_FILTER_LENGTH:
        raise filter_error(f"is {len(text)} characters long; the limit is {MAX_FILTER_LENGTH}")
    return _Parser(tokenize(text)).parse()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0
        self.terms = 0

    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind is not Kind.END:
            self.index += 1
        return token

    def parse(self) -> Node | None:
        if self.peek().kind is Kind.END:
            return None
        node = self.expression()
        token = self.peek()
        if token.kind is not Kind.END:
            # sequence() consumes every token that can start a term, so this is a stray ")" or value.
            raise filter_error(f"unexpected {token.describe()} at position {token.position}")
        return node

    def expression(self) -> Node:
        terms = [self.sequence()]
        while self.peek().kind is Kind.AND:
            self.expect_term_after(self.advance())
            terms.append(self.sequence())
        return conjunction(terms)

    def sequence(self) -> Node:
        terms = [self.factor()]
        while self.peek().kind in _TERM_STARTS:
            terms.append(self.factor())
        return conjunction(terms)

    def factor(self) -> Node:
        terms = [self.term()]
        while self.peek().kind is Kind.OR:
            self.expect_term_after(self.advance())
            terms.append(self.term())
        return disjunction(terms)

    def term(self) -> Node:
        token = self.peek()
        if token.kind in (Kind.NOT, Kind.MINUS):
            self.advance()
            return Not(self.simple(after=token), token.position)
        return self.simple(after=None)

    def simple(self, after: Token | None) -> Node:
        token = self.peek()
        if token.kind is Kind.LPAREN:
            return self.composite()
        if token.kind is Kind.WORD:
            return self.restriction()
        where = f' after "{after.text}"' if after else ""
        raise filter_error(
            f'expected a field name or "("{where} at position {token.position}, found {token.describe()}'
        )

    def composite(self) -> Node:
        opening = self.advance()
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise filter_error(
                f"parentheses nest deeper than {MAX_DEPTH} levels at position {opening.position}"
            )
        node = self.expression()
        closing = self.peek()
        if closing.kind is not Kind.RPAREN:
            raise filter_error(
                f'expected ")" to close the "(" at position {opening.position}, '
                f"found {closing.describe()} at position {closing.position}"
            )
        self.advance()
        self.depth -= 1
        return node

    def restriction(self) -> Comparison:
        name = self.advance()
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise filter_error(f"has more than {MAX_TERMS} comparisons at position {name.position}")
        op = self.peek()
        if op.kind is not Kind.COMPARATOR:
            raise filter_error(
                f"expected a comparison operator ({', '.join(OPERATORS)}) after "
                f"{quoted(name.text)} at position {op.position}, found {op.describe()}"
            )
        self.advance()
        return Comparison(name.text, op.text, self.value(op), name.position)

    def value(self, op: Token) -> Value:
        token = self.peek()
        if token.kind is Kind.STRING:
            self.advance()
            return String(token.parts, token.position)
        if token.kind is Kind.NUMBER:
            self.advance()
            return Number(token.text, token.position)
        if token.kind is Kind.MINUS:
            number = self.tokens[self.index + 1]
            if number.kind is Kind.NUMBER and number.position == token.position + 1:
                self.index += 2
                return Number("-" + number.text, token.position)
        if token.kind is Kind.WORD:
            self.advance()
            if token.text == "null":
                return Null(token.position)
            keyword = _KEYWORD_VALUES.get(token.text)
            if keyword is not None:
                return Boolean(keyword.value, token.position)
            return String((token.text,), token.position)
        raise filter_error(
            f'expected a value after "{op.text}" at position {token.position}, found {token.describe()}'
        )

    def expect_term_after(self, keyword: Token) -> None:
        token = self.peek()
        if token.kind not in _TERM_STARTS:
            raise filter_error(
                f'expected a comparison after "{keyword.text}" at position {token.position}, '
                f"found {token.describe()}"
            )

"""The filter tokenizer: source text to a list of tokens, each with the character position it starts at.

Hand-written rather than built from a parser generator: the grammar is small, and owning the scanner is
what lets every error say exactly where the input went wrong. Positions are 0-based character offsets.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from crm_platform.listing.invalid import filter_error, quoted


class Kind(enum.Enum):
    LPAREN = "("
    RPAREN = ")"
    COMPARATOR = "comparator"
    MINUS = "-"
    STRING = "string"
    NUMBER = "number"
    WORD = "word"  # a field name, a bare value, or true/false/null
    AND = "AND"
    OR = "OR"
    NOT = "NOT"
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str  # as written in the source (for messages)
    position: int
    # STRING only: the unescaped value split at each unescaped "*" (a wildcard where "=" allows one).
    # One part means no wildcard; "\*" is a literal star and never splits.
    parts: tuple[str, ...] = ()

    def describe(self) -> str:
        """How an error message names this token."""
        if self.kind is Kind.END:
            return "the end of the filter"
        return quoted("*".join(self.parts) if self.kind is Kind.STRING else self.text)


# AIP-160 keywords are upper case; "and" in lower case is an ordinary word (and so an unknown field).
_KEYWORDS = {"AND": Kind.AND, "OR": Kind.OR, "NOT": Kind.NOT}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_SPACE = re.compile(r"\s+")
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r"}
_SINGLE = {"(": Kind.LPAREN, ")": Kind.RPAREN, "-": Kind.MINUS}


def tokenize(text: str) -> list[Token]:
    """Every token of `text`, ending with an END token positioned at len(text)."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        space = _SPACE.match(text, i)
        if space:
            i = space.end()
            continue
        ch = text[i]
        if ch in _SINGLE:
            tokens.append(Token(_SINGLE[ch], ch, i))
            i += 1
        elif ch in "=:":
            tokens.append(Token(Kind.COMPARATOR, ch, i))
            i += 1
        elif ch in "<>!":
            op = text[i : i + 2] if text.startswith("=", i + 1) else ch
            if op == "!":
                raise filter_error(f'expected "!=" at position {i}')
            tokens.append(Token(Kind.COMPARATOR, op, i))
            i += len(op)
        elif ch in "\"'":
            token = _string(text, i)
            tokens.append(token)
            i += len(token.text)
        elif number := _NUMBER.match(text, i):
            tokens.append(Token(Kind.NUMBER, number.group(), i))
            i = number.end()
        elif word := _WORD.match(text, i):
            value = word.group()
            tokens.append(Token(_KEYWORDS.get(value, Kind.WORD), value, i))
            i = word.end()
        else:
            raise filter_error(f"unexpected character {quoted(ch)} at position {i}")
    tokens.append(Token(Kind.END, "", n))
    return tokens


# Runs of ordinary characters inside a string literal, per quote: scanned in one regex step each, so a
# long literal costs one C-level scan instead of a Python iteration per character.
_PLAIN = {quote: re.compile(f"[^{quote}\\\\*\x00]+") for quote in "\"'"}


def _string(text: str, start: int) -> Token:
    """The quoted string starting at `start`: backslash escapes resolved, wildcards split out."""
    quote = text[start]
    plain = _PLAIN[quote]
    parts: list[str] = []
    current: list[str] = []
    i = start + 1
    while i < len(text):
        run = plain.match(text, i)
        if run:
            current.append(run.group())
            i = run.end()
            continue
        ch = text[i]
        if ch == quote:
            parts.append("".join(current))
            return Token(Kind.STRING, text[start : i + 1], start, tuple(parts))
        if ch == "\\":
            if i + 1 >= len(text):
                break
            escaped = text[i + 1]
            if escaped == "*":
                current.append("*")
            elif escaped in _ESCAPES:
                current.append(_ESCAPES[escaped])
            else:
                raise filter_error(
                    f"unknown escape {quoted(text[i : i + 2])} at position {i}; "
                    "use \\\\, \\\", \\', \\*, \\n, \\t or \\r"
                )
            i += 2
        elif ch == "*":
            parts.append("".join(current))
            current = []
            i += 1
        else:  # NUL: PostgreSQL text cannot hold it; refusing it here keeps both backends alike.
            raise filter_error(f"a string cannot contain the NUL character at position {i}")
    raise filter_error(f"unterminated string starting at position {start}")

"""The filter tokenizer and parser: what parses to what, what is refused, where, and the limits."""

from __future__ import annotations

import pytest

from crm_platform.errors import InvalidArgument
from crm_platform.listing import MAX_DEPTH, MAX_FILTER_LENGTH, MAX_TERMS, parse_filter, to_text
from crm_platform.listing.syntax import And, Boolean, Comparison, Node, Not, Null, Number, Or, String


def eq(field: str, value: object, op: str = "=") -> Comparison:
    if isinstance(value, bool):
        return Comparison(field, op, Boolean(value))
    if isinstance(value, str):
        return Comparison(field, op, String((value,)))
    return Comparison(field, op, Number(str(value)))


A, B, C = eq("a", 1), eq("b", 2), eq("c", 3)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("a = 1", A),
        ("a=1", A),
        ("  a = 1  ", A),
        # Juxtaposition is AND; AND and juxtaposition mix.
        ("a = 1 b = 2", And((A, B))),
        ("a = 1 AND b = 2 c = 3", And((A, B, C))),
        # AIP-160: OR binds tighter than AND, also than juxtaposition.
        ("a = 1 AND b = 2 OR c = 3", And((A, Or((B, C))))),
        ("a = 1 b = 2 OR c = 3", And((A, Or((B, C))))),
        ("a = 1 OR b = 2 AND c = 3", And((Or((A, B)), C))),
        ("(a = 1 AND b = 2) OR c = 3", Or((And((A, B)), C))),
        ("a = 1 OR (b = 2 OR c = 3)", Or((A, B, C))),
        ("((a = 1))", A),
        # Negation: NOT (with a space) or a leading minus.
        ("NOT a = 1", Not(A)),
        ("-a = 1", Not(A)),
        ("NOT(a = 1 OR b = 2)", Not(Or((A, B)))),
        ("-(a = 1) b = 2", And((Not(A), B))),
        ("NOT (NOT a = 1)", Not(Not(A))),
        # Every operator.
        *[(f"a {op} 1", eq("a", 1, op)) for op in ("=", "!=", "<", "<=", ">", ">=", ":")],
        ("a<=1", eq("a", 1, "<=")),
        # Values.
        ('a = "x y"', eq("a", "x y")),
        ("a = 'x y'", eq("a", "x y")),
        ("a = ''", eq("a", "")),
        ("a = bare_word", eq("a", "bare_word")),
        ("a = PERSON", eq("a", "PERSON")),
        ("a = true b = false", And((eq("a", True), eq("b", False)))),
        ("a = null", Comparison("a", "=", Null())),
        ('a = "null"', eq("a", "null")),
        ("a = -5", Comparison("a", "=", Number("-5"))),
        ("a=-5", Comparison("a", "=", Number("-5"))),
        ("a = 1.5e-3", Comparison("a", "=", Number("1.5e-3"))),
        ("address.city = x", eq("address.city", "x")),
        # Lower-case "and" is not a keyword: it is a field name in a juxtaposition (then unknown).
        ("a = 1 and = 2", And((A, eq("and", 2)))),
    ],
)
def test_parses(text: str, tree: Node) -> None:
    assert parse_filter(text) == tree


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_filter_is_no_filter(text: str) -> None:
    assert parse_filter(text) is None


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        (r'"a\"b"', ('a"b',)),
        (r"'a\'b'", ("a'b",)),
        (r'"a\\b"', ("a\\b",)),
        (r'"tab\there\nnl\r"', ("tab\there\nnl\r",)),
        ('"\'"', ("'",)),
        ("'\"'", ('"',)),
        # Wildcards: an unescaped * splits the value; \* is a literal star.
        ('"*@example.com"', ("", "@example.com")),
        ('"ada*"', ("ada", "")),
        ('"a*b*c"', ("a", "b", "c")),
        (r'"5\*"', ("5*",)),
        (r'"\**"', ("*", "")),
        ('"100%_x"', ("100%_x",)),  # LIKE metacharacters are nothing special in a filter
        ('"é😀"', ("é😀",)),
    ],
)
def test_string_literals(text: str, parts: tuple[str, ...]) -> None:
    assert parse_filter(f"a = {text}") == Comparison("a", "=", String(parts))


def test_an_injection_attempt_is_just_a_string() -> None:
    node = parse_filter("""name = "x' OR 1=1 --" """)
    assert node == eq("name", "x' OR 1=1 --")


def test_positions_are_kept_for_messages() -> None:
    node = parse_filter('a = 1 AND NOT bb != "x"')
    assert isinstance(node, And)
    first, negation = node.terms
    assert isinstance(first, Comparison) and first.position == 0 and first.value.position == 4
    assert isinstance(negation, Not) and negation.position == 10
    assert isinstance(negation.operand, Comparison)
    assert negation.operand.position == 14 and negation.operand.value.position == 20


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("a =", 'expected a value after "=" at position 3, found the end of the filter'),
        ("first_name = ", 'expected a value after "=" at position 13, found the end of the filter'),
        ("= 1", 'expected a field name or "(" at position 0, found "="'),
        ("a 1", 'expected a comparison operator (=, !=, <, <=, >, >=, :) after "a" at position 2, found "1"'),
        (
            "a",
            'expected a comparison operator (=, !=, <, <=, >, >=, :) after "a" at position 1, '
            "found the end of the filter",
        ),
        ('"a" = 1', 'expected a field name or "(" at position 0, found "a"'),
        ("1 = 1", 'expected a field name or "(" at position 0, found "1"'),
        ("a = 1 AND", 'expected a comparison after "AND" at position 9, found the end of the filter'),
        ("a = 1 OR OR b = 1", 'expected a comparison after "OR" at position 9, found "OR"'),
        ("AND a = 1", 'expected a field name or "(" at position 0, found "AND"'),
        ("(a = 1", 'expected ")" to close the "(" at position 0, found the end of the filter at position 6'),
        ("(a = 1 b <", 'expected a value after "<" at position 10, found the end of the filter'),
        ("a = 1)", 'unexpected ")" at position 5'),
        ("()", 'expected a field name or "(" at position 1, found ")"'),
        ('a = "abc', "unterminated string starting at position 4"),
        ('a = "abc\\', "unterminated string starting at position 4"),
        ('a = "x\\q"', 'unknown escape "\\q" at position 6; use \\\\, \\", \\\', \\*, \\n, \\t or \\r'),
        ("a ! 1", 'expected "!=" at position 2'),
        ("a = 1 ; b = 2", 'unexpected character ";" at position 6'),
        ("id; DROP TABLE contacts", 'unexpected character ";" at position 2'),
        ("a = 1 -- comment", 'expected a field name or "(" after "-" at position 7, found "-"'),
        ("NOT NOT a = 1", 'expected a field name or "(" after "NOT" at position 4, found "NOT"'),
        ("a = NOT", 'expected a value after "=" at position 4, found "NOT"'),
        ("a = - 1", 'expected a value after "=" at position 4, found "-"'),
        ("a = (1)", 'expected a value after "=" at position 4, found "("'),
        ("a = b = 1", 'unexpected "=" at position 6'),
        ('a = "x\x00"', "a string cannot contain the NUL character at position 6"),
        ("a = 1 \x07", 'unexpected character "\\u0007" at position 6'),
        ("a = @", 'unexpected character "@" at position 4'),
    ],
)
def test_errors_say_where_and_what_was_expected(text: str, detail: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        parse_filter(text)
    assert raised.value.fields["filter"] == detail
    assert raised.value.message == f"invalid filter: {detail}"


def test_long_values_are_cut_in_messages() -> None:
    with pytest.raises(InvalidArgument) as raised:
        parse_filter(f'a "{"x" * 500}"')
    assert raised.value.fields["filter"].endswith(f'found "{"x" * 40}..."')


def test_length_limit() -> None:
    at_limit = 'a = "' + "x" * (MAX_FILTER_LENGTH - 6) + '"'
    assert len(at_limit) == MAX_FILTER_LENGTH
    assert parse_filter(at_limit) is not None
    with pytest.raises(InvalidArgument) as raised:
        parse_filter(at_limit + " ")
    assert raised.value.fields["filter"] == f"is {MAX_FILTER_LENGTH + 1} characters long; the limit is 2000"


def test_depth_limit() -> None:
    assert parse_filter("(" * MAX_DEPTH + "a = 1" + ")" * MAX_DEPTH) == A
    too_deep = "(" * (MAX_DEPTH + 1) + "a = 1" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(InvalidArgument) as raised:
        parse_filter(too_deep)
    assert raised.value.fields["filter"] == "parentheses nest deeper than 16 levels at position 16"
    # The limit is on nesting, not on the number of parenthesised groups.
    assert parse_filter(" ".join(["(a = 1)"] * 40)) is not None


def test_deep_negation_needs_parentheses_so_it_is_bounded_too() -> None:
    with pytest.raises(InvalidArgument, match="deeper than 16"):
        parse_filter("NOT (" * 17 + "a = 1" + ")" * 17)


def test_term_limit() -> None:
    assert parse_filter(" OR ".join(["a = 1"] * MAX_TERMS)) is not None
    too_many = " ".join(["a = 1"] * (MAX_TERMS + 1))
    with pytest.raises(InvalidArgument) as raised:
        parse_filter(too_many)
    assert raised.value.fields["filter"] == f"has more than 50 comparisons at position {6 * MAX_TERMS}"


@pytest.mark.parametrize(
    "text",
    [
        "a = 1",
        'a = 1 b = "x" OR c != null',
        "(a = 1 AND b = 2) OR NOT (c < 3 OR d : 'q')",
        '-a = "*@x.com" AND b = "\\*lit\\"eral\\\\"',
        "a = 1 OR b = 2 AND c = 3 OR d = 4",
        'a = "line\nbreak"',
    ],
)
def test_canonical_text_parses_back_to_the_same_tree(text: str) -> None:
    tree = parse_filter(text)
    assert parse_filter(to_text(tree)) == tree
    assert to_text(parse_filter(to_text(tree))) == to_text(tree)


def test_equivalent_spellings_have_one_canonical_text() -> None:
    spellings = [
        "a = 1 b = 'x' OR c = true",
        '(a=1) AND (b = "x" OR c = true)',
        "a = 1 AND ((b = x) OR c = true)",
    ]
    assert {to_text(parse_filter(text)) for text in spellings} == {'a = 1 AND b = "x" OR c = true'}
    assert to_text(parse_filter("-a = 1")) == to_text(parse_filter("NOT (a = 1)")) == "NOT a = 1"
    assert to_text(None) == ""

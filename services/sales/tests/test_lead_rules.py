"""The lead rules as plain functions (sales.leads.domain), over generated inputs: a score is the sum of
its breakdown and each rule's share is what the rule says; round robin gives every user of a rule the same
number of leads, give or take one; territories match case-insensitively and an empty list means any."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from sales.leads.domain import SCORABLE_FIELDS, AssignmentRule, ScoringRule, first_match, next_in_turn, score

values = st.sampled_from(["Energy", "energy", "Retail", "DE", "de", "FR", ""])
attribute_rules = st.builds(
    ScoringRule,
    id=st.uuids().map(str),
    name=st.just("attribute"),
    points=st.integers(-1000, 1000),
    field=st.sampled_from(SCORABLE_FIELDS),
    values=st.lists(values.filter(bool), min_size=1, max_size=3).map(tuple),
)
behaviour_rules = st.builds(
    ScoringRule,
    id=st.uuids().map(str),
    name=st.just("behaviour"),
    points=st.integers(-1000, 1000),
    event_type=st.sampled_from(["email_opened", "email_clicked"]),
)


@given(
    attributes=st.fixed_dictionaries({name: values for name in SCORABLE_FIELDS}),
    counts=st.dictionaries(st.sampled_from(["email_opened", "email_clicked"]), st.integers(0, 50)),
    rules=st.lists(st.one_of(attribute_rules, behaviour_rules), max_size=8),
)
def test_a_score_is_the_sum_of_what_each_matching_rule_gives(
    attributes: dict[str, str], counts: dict[str, int], rules: list[ScoringRule]
) -> None:
    total, items = score(attributes, counts, rules)
    assert total == sum(item.points for item in items)
    expected = []
    for rule in rules:
        if rule.field:
            value = attributes[rule.field]
            if value and value.lower() in {v.lower() for v in rule.values}:
                expected.append((rule.id, rule.points))
        elif counts.get(rule.event_type):
            expected.append((rule.id, rule.points * counts[rule.event_type]))
    assert [(item.rule_id, item.points) for item in items] == expected


@given(users=st.lists(st.uuids().map(str), min_size=1, max_size=7, unique=True), leads=st.integers(0, 200))
def test_round_robin_is_fair_to_one_lead(users: list[str], leads: int) -> None:
    given_out = Counter(next_in_turn(users, turn) for turn in range(leads))
    got = [given_out[user] for user in users]
    assert sum(got) == leads and max(got) - min(got) <= 1
    assert got == sorted(got, reverse=True)  # the earlier users get the extra one


def test_the_first_rule_whose_territory_holds_the_lead_wins() -> None:
    bavaria = AssignmentRule("bav", ("DE",), ("Bayern",), ("u1",), "south")
    germany = AssignmentRule("de", ("de",), (), ("u2",), "dach")
    anywhere = AssignmentRule("any", (), (), ("u3",), "")
    rules = [bavaria, germany, anywhere]
    assert first_match(rules, "de", "BAYERN") is bavaria
    assert first_match(rules, "DE", "Hessen") is germany
    assert first_match(rules, "FR", "") is anywhere
    assert first_match(rules[:2], "FR", "") is None

"""What one deal adds to the funnel's monthly rollup: plain Python, no I/O.

The funnel of a period counts, per stage, the deals that entered it in the period (each deal once per
stage: its first entry there in the period), their amounts, those of them that `advanced` (a later
stage change reached a stage with a higher position, or the deal was won), and the stays that began
in the period and have ended (at the deal's next stage change, or its close) with their length.
Periods are whole UTC months, quarters and years (reports.domain.parse_period), so the rollup is kept
per month, and "once per stage in the period" is kept for each kind of period apart: an entry counts
in `entered_month` when it is the deal's first into that stage in its month, in `entered_quarter` when
first in its quarter, in `entered_year` when first in its year. A quarter's funnel sums three months'
`*_quarter` counters, a year's twelve months' `*_year` counters.

Every figure depends on the deal as it is now (owner, team and partner account for the caller's scope,
amount and currency, won, closed, archived) and on the stages' current positions; so a write to a deal
recomputes the deal's whole contribution before and after (its history is a handful of rows) and the
store adds the difference (sales.reports.rollup). This module is that contribution, and the same
function backfills the rollup from the stage history, so the incremental and the bulk path cannot
disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

GRAINS = ("month", "quarter", "year")
# The counters a rollup row holds, in this order in every Figures list.
COUNTERS = (
    *(f"entered_{g}" for g in GRAINS),
    *(f"value_{g}" for g in GRAINS),
    *(f"advanced_{g}" for g in GRAINS),
    "stays",
    "stay_micros",
)
_ENTERED, _VALUE, _ADVANCED = 0, len(GRAINS), 2 * len(GRAINS)
_STAYS, _MICROS = 3 * len(GRAINS), 3 * len(GRAINS) + 1
_MICROSECOND = timedelta(microseconds=1)

Figures = list[int]  # one value per COUNTERS name


class Key(NamedTuple):
    """A rollup row's key. None is stored as "" so that the key is a plain unique key on both databases
    (the scope compares owner, team and partner with the caller's ids, which are never empty)."""

    pipeline_id: str
    month: str  # "2026-03": the month the stage was entered (UTC)
    stage_id: str
    owner_id: str
    team_id: str
    partner_account_id: str
    currency: str


KEY_COLUMNS = Key._fields


@dataclass(frozen=True)
class Entry:
    """One stage change of the deal: the stage it entered and when."""

    pipeline_id: str
    stage_id: str
    at: datetime


@dataclass(frozen=True)
class DealState:
    """What the funnel reads from the deal itself."""

    owner_id: str | None
    team_id: str | None
    partner_account_id: str | None
    currency: str | None
    amount_minor: int | None
    won: bool
    closed_at: datetime | None
    archived: bool


def month_of(at: datetime) -> str:
    return f"{at.year:04d}-{at.month:02d}"


def _periods(at: datetime) -> tuple[str, str, str]:
    """The month, quarter and year `at` falls in, one label per grain."""
    return month_of(at), f"{at.year:04d}-Q{(at.month - 1) // 3 + 1}", f"{at.year:04d}"


def contribution(
    entries: Sequence[Entry], positions: Mapping[str, int], deal: DealState
) -> dict[Key, Figures]:
    """The deal's rows of the rollup. `entries` are its stage changes in the order they were recorded;
    `positions` the stages' current positions (a stage missing from them is one the funnel cannot join:
    its entries are not counted, its stays are)."""
    if deal.archived:
        return {}
    out: dict[Key, Figures] = {}
    count = len(entries)
    # Per entry: the earliest time and the highest known position among the entries after it.
    next_at: list[datetime | None] = [None] * count
    highest_after: list[int | None] = [None] * count
    earliest: datetime | None = None
    highest: int | None = None
    for index in range(count - 1, -1, -1):
        next_at[index], highest_after[index] = earliest, highest
        entry = entries[index]
        earliest = entry.at if earliest is None else min(earliest, entry.at)
        position = positions.get(entry.stage_id)
        if position is not None:
            highest = position if highest is None else max(highest, position)
    seen: set[tuple[str, str]] = set()
    value = (deal.amount_minor or 0) if deal.currency else 0
    for index, entry in enumerate(entries):
        periods = _periods(entry.at)
        key = Key(
            entry.pipeline_id,
            periods[0],
            entry.stage_id,
            deal.owner_id or "",
            deal.team_id or "",
            deal.partner_account_id or "",
            deal.currency or "",
        )
        figures = out.setdefault(key, [0] * len(COUNTERS))
        end = next_at[index] if next_at[index] is not None else deal.closed_at
        if end is not None:
            figures[_STAYS] += 1
            figures[_MICROS] += (end - entry.at) // _MICROSECOND
        position = positions.get(entry.stage_id)
        if position is None:
            continue
        later = highest_after[index]
        advanced = deal.won or (later is not None and later > position)
        for grain, label in enumerate(periods):
            if (entry.stage_id, label) in seen:
                continue  # the deal entered this stage earlier in the same period
            seen.add((entry.stage_id, label))
            figures[_ENTERED + grain] += 1
            figures[_VALUE + grain] += value
            figures[_ADVANCED + grain] += int(advanced)
    return out


def same_order(before: Mapping[str, int], after: Mapping[str, int]) -> bool:
    """Whether the stages of `before` still compare the same way by position in `after` (lower, equal,
    higher): only then do the rollup's `advanced` counters still hold. Stages new in `after` have no
    stage changes yet; a stage is never deleted (removed ones are archived with their position)."""
    old = sorted(before)
    return all(
        _compare(before[a], before[b]) == _compare(after[a], after[b])
        for i, a in enumerate(old)
        for b in old[i + 1 :]
    )


def _compare(a: int, b: int) -> int:
    return (a > b) - (a < b)


def add_into(total: dict[Key, Figures], part: Mapping[Key, Figures]) -> None:
    for key, figures in part.items():
        into = total.setdefault(key, [0] * len(COUNTERS))
        for index, amount in enumerate(figures):
            into[index] += amount


def difference(before: Mapping[Key, Figures], after: Mapping[Key, Figures]) -> dict[Key, Figures]:
    """after - before, per key; keys whose every counter is unchanged are left out."""
    out: dict[Key, Figures] = {}
    zero = [0] * len(COUNTERS)
    for key in before.keys() | after.keys():
        delta = [a - b for a, b in zip(after.get(key, zero), before.get(key, zero), strict=True)]
        if any(delta):
            out[key] = delta
    return out


def nonzero(rows: Iterable[tuple[Key, Figures]]) -> dict[Key, Figures]:
    """The rows that hold something (a row emptied by a reassignment stays in the table as zeros)."""
    return {key: list(figures) for key, figures in rows if any(figures)}

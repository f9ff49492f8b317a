"""The rules for pipelines and deals: plain Python, no I/O.

The contract's field rules (crm/sales/v1/deals.proto) have already been checked; what is here needs more
than one field or a setting: money is an integer amount of an ISO 4217 currency's minor units, a
pipeline's stages have distinct names, a closed deal neither moves nor closes again, and which amounts
make a deal a big one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crm_platform import config
from crm_platform.errors import FailedPrecondition, InvalidArgument

OPEN, WON, LOST = "open", "won", "lost"
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Amount:
    """Money as the platform carries it: integer minor units of a currency (never a float)."""

    amount_minor: int
    currency: str


def check_amount(amount_minor: int, currency: str, field: str) -> Amount | None:
    """The amount, None for no amount (both parts empty), or InvalidArgument naming `field`."""
    if not currency and not amount_minor:
        return None
    if not _CURRENCY.match(currency):
        raise InvalidArgument("invalid amount", {f"{field}.currency": "must be an ISO 4217 code, e.g. EUR"})
    if amount_minor < 0:
        raise InvalidArgument("invalid amount", {f"{field}.amount_minor": "must not be negative"})
    return Amount(amount_minor, currency)


def check_close_date(text: str, field: str = "expected_close_date") -> str:
    """A real calendar date ("2026-02-30" passes the contract's pattern, not this)."""
    if text:
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            raise InvalidArgument("invalid date", {field: "is not a calendar date (YYYY-MM-DD)"}) from None
    return text


@dataclass(frozen=True)
class StageSpec:
    """A stage as asked for: its id when it exists already ("" for a new one)."""

    id: str
    name: str
    probability: int


def check_stages(stages: Sequence[StageSpec], field: str = "stages") -> list[StageSpec]:
    """Trimmed stages with distinct names (case-insensitively) and distinct ids."""
    cleaned = [StageSpec(s.id.strip(), s.name.strip(), s.probability) for s in stages]
    errors: dict[str, str] = {}
    names: set[str] = set()
    ids: set[str] = set()
    for index, stage in enumerate(cleaned):
        if not stage.name:
            errors[f"{field}[{index}].name"] = "is required"
        elif stage.name.casefold() in names:
            errors[f"{field}[{index}].name"] = "is the name of another stage of this pipeline"
        if stage.id and stage.id in ids:
            errors[f"{field}[{index}].id"] = "names a stage twice"
        names.add(stage.name.casefold())
        ids.add(stage.id)
    if not cleaned:
        errors[field] = "needs at least one stage"
    if errors:
        raise InvalidArgument("invalid stages", errors)
    return cleaned


def require_open(status: str, deal_id: str, doing: str) -> None:
    """A won or lost deal is closed: it no longer moves or closes again (FAILED_PRECONDITION)."""
    if status != OPEN:
        raise FailedPrecondition(f"deal {deal_id} is {status}; only open deals can be {doing}")


def insert_position(taken: Sequence[int], asked: int | None) -> int:
    """Where a deal lands in a stage whose deals hold `taken` positions: the asked place, or after the
    last one (0 in an empty stage)."""
    if asked is not None:
        return asked
    return max(taken, default=-1) + 1


# --- big deals ---------------------------------------------------------------------------------------


def parse_thresholds(raw: str) -> dict[str, int]:
    """`EUR=5000000,USD=5000000` -> {"EUR": 5000000, ...}: per currency, in minor units."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        currency, _, amount = part.partition("=")
        currency = currency.strip().upper()
        if not _CURRENCY.match(currency) or not amount.strip().isdigit():
            raise ValueError(f"expected CURRENCY=amount_minor pairs, got {part!r}")
        out[currency] = int(amount)
    return out


BIG_DEAL_THRESHOLDS = config.Setting(
    "SALES_BIG_DEAL_THRESHOLDS",
    parse_thresholds,
    default="EUR=5000000,USD=5000000,GBP=5000000,CHF=5000000",
    help="per currency, the amount (minor units) from which a deal is big: big_deal_detected, managers told",
)


def big_deal_threshold(amount: Amount | None, thresholds: Mapping[str, int]) -> int | None:
    """The threshold `amount` reaches, or None (no amount, a currency without one, below it)."""
    if amount is None:
        return None
    threshold = thresholds.get(amount.currency)
    return threshold if threshold is not None and amount.amount_minor >= threshold else None


def becomes_big(before: Amount | None, after: Amount | None, thresholds: Mapping[str, int]) -> int | None:
    """The threshold crossed when a deal's amount goes from `before` to `after` (announced once per
    crossing: an amount that stays big, or changes while big, is no news)."""
    reached = big_deal_threshold(after, thresholds)
    if reached is None or big_deal_threshold(before, thresholds) is not None:
        return None
    return reached

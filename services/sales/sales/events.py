"""Events the sales service consumes (none yet) and publishes (none yet)."""

from __future__ import annotations

from crm_platform.service import Subscription

SUBSCRIPTIONS: tuple[Subscription, ...] = ()

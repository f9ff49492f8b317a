"""Behaviour scoring: marketing events about a lead's person recorded against the lead, which is then
re-scored (behaviour rules count them). An event names the lead (`lead_id`) or its email (`email`);
one naming neither is about no lead and is skipped. Marketing does not publish these yet: the
subscriptions are inert until it does, with these payload fields."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm_platform.db import utcnow
from crm_platform.events.wire import Event
from crm_platform.service import Subscription
from sales.leads import store

BEHAVIOUR_EVENTS = ("email_opened", "email_clicked", "campaign_response")


def on_behaviour(session: Session, event: Event) -> None:
    lead_id = str(event.data.get("lead_id") or "")
    email = str(event.data.get("email") or "")
    leads = store.leads_of_person(session, lead_id, email)
    if not leads:
        return
    rules = store.scoring_rules(session)
    for lead in leads:
        # One event id per lead: the same event about two leads of one email counts for both.
        if store.record_activity(
            session, lead.id, event.type, f"{event.id}:{lead.id}", event.time or utcnow()
        ):
            store.rescore(session, lead, rules)
    session.flush()


SUBSCRIPTIONS = tuple(Subscription("marketing", name, on_behaviour) for name in BEHAVIOUR_EVENTS)

"""Leads: captured from the API and public web forms, scored by editable rules, assigned by territory
and round robin, qualified, and converted into a contact, a company and a deal.

Served by the sales service process (`crm.sales.v1.LeadsService` and the rules' and forms' services):
domain.py (rules, no I/O), store.py (tables and queries), events.py (outbox), behaviour.py (marketing
events that move the score), contacts_link.py (conversion's calls to contacts), api.py (the servicers).
"""

from __future__ import annotations

from sales.leads.api import install, register

__all__ = ["install", "register"]

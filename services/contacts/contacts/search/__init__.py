"""Contacts search: `q` on ListContacts (docs/architecture.md, "Contacts search").

terms.py    what a contact is found by (its search terms)
typos.py    one-letter typos by deletion keys
schema.py   the index's tables
index.py    keeping the index in step with the contacts, in each change's transaction
query.py    what a query asks for: ranked tiers of term ranges
engine.py   reading one page of results from the index
listing.py  ListContacts with q: the list's scope, filter and cursors
"""

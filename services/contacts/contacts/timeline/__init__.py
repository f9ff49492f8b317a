"""The customer timeline: a read model of everything that happened with a contact, built from events.

store.py     the `timeline_entries` table and its list allow-list
mapping.py   THE declared mapping: (source service, event type) -> how to build the entry
events.py    applying an event through the mapping (the worker's handlers, and in-transaction calls)
api.py       TimelineService.ListTimelineEntries, gated by the contact's read scope
"""

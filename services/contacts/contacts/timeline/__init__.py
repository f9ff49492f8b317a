"""The customer timeline: a read model of everything that happened with a contact, built from events.

store.py     the `timeline_entries` table (each entry with its record's resource type and ownership), its
             list allow-list and `visible`, the per-entry scope
mapping.py   THE declared mapping: (source service, event type) -> how to build the entry, and whose
             scope it is in
events.py    applying an event through the mapping (the worker's handlers, and in-transaction calls), and
             re-pointing entries scoped like their contact when it is reassigned
api.py       TimelineService.ListTimelineEntries: the contact's read scope, then each entry's own
"""

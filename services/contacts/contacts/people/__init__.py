"""The people profile of a contact: several emails, phones and postal addresses (one primary of each),
social profiles, preferences, segmentation fields, important dates, memberships, tags and notes.

`domain` holds the rules (plain Python, no I/O); the table columns, the per-book email index and the
mapping to the contract are in contacts.store, the wiring in contacts.api.
"""

"""Interactions: calls, emails, texts, meetings and notes logged under a contact (resource type
`interaction`), on the chassis' standard methods.

    store.py    the `interactions` table, its mapping to the contract and its list allow-list
    events.py   interaction_logged / _updated / _archived to the outbox, and the timeline entry, in the
                change's transaction
    api.py      InteractionsService: every method first reads the contact in the caller's scope
"""

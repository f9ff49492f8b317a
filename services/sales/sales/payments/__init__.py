"""Payments (resource type `payment`): received amounts applied to orders, balances, and the overdue sweep.

store.py    the `payments` table, its mapping to the contract and list allow-list
events.py   payment_received, payment_overdue
overdue.py  the worker's sweep: unpaid orders past due become overdue, each announced once
api.py      PaymentsService; `install(definition)` (with the sweep as a worker background job)
"""

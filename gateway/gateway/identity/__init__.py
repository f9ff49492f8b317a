"""Identity and access, the gateway's side: who is calling (users, API keys), what they may do (roles,
teams, partner accounts), and the signed caller context the services enforce it with.

One module per job; `runtime.py` builds them for an app, `routes/` serves them under /api/v1.
"""

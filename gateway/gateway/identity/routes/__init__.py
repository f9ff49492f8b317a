"""The identity routes under /api/v1: users and /me, teams, roles, partner accounts, API keys, audit.

Who may do what: managing identity (users, teams, custom roles, partner accounts, API keys) and reading
the audit trail is the `admin` role's (a staff user; not a matrix cell, so a custom role cannot grant
it). Everyone signed in reads /me and changes their own password. Partner accounts are readable by staff
(they assign records to partners); a partner user sees only their own account and gets 404 for others.
"""

from flask import Blueprint

from gateway.identity.routes import api_keys, audit, me, partner_accounts, roles, teams, users
from gateway.identity.routes.common import check_path_ids

_ALL = [users.bp, me.bp, teams.bp, roles.bp, partner_accounts.bp, api_keys.bp, audit.bp]
for _bp in _ALL:
    _bp.before_request(check_path_ids)


def blueprints() -> list[Blueprint]:
    return list(_ALL)

"""Who is calling: a user or an API key, with what they may do right now (fresh from the state cache)."""

from __future__ import annotations

from dataclasses import dataclass, field

from crm_platform.access import API_KEY, USER, Rights
from crm_platform.access.rights import Level, level_of

ADMIN = "admin"
PARTNER = "partner"


@dataclass(frozen=True)
class Principal:
    kind: str  # USER or API_KEY
    subject: str  # the user's or the API key's id
    roles: tuple[str, ...] = ()
    team_ids: tuple[str, ...] = ()
    primary_team_id: str | None = None
    partner_account_id: str | None = None
    scopes: tuple[str, ...] = ()
    rights: Rights = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_user(self) -> bool:
        return self.kind == USER

    @property
    def is_api_key(self) -> bool:
        return self.kind == API_KEY

    @property
    def is_admin(self) -> bool:
        # Identity management is the admin role's, not a matrix cell: a custom role cannot grant it.
        return self.is_user and ADMIN in self.roles and self.partner_account_id is None

    @property
    def is_partner(self) -> bool:
        return self.partner_account_id is not None

    def may_read(self, resource_type: str) -> bool:
        """Whether any of the caller's rights lets them read records of `resource_type` at all."""
        return level_of(self.rights, resource_type, "read") is not Level.NONE

    def fingerprint(self) -> tuple[object, ...]:
        """Everything a signed caller context is made of except the rights (derived from the roles)."""
        return (
            self.kind,
            self.subject,
            self.roles,
            self.team_ids,
            self.primary_team_id,
            self.partner_account_id,
            self.scopes,
        )

"""Identity and access, the services' side: rights matrix, signed caller context, record-level scope."""

from crm_platform.access.caller import (
    API_KEY,
    METADATA_KEY,
    SERVICE,
    USER,
    CallerContext,
    CallerContextSigner,
    CallerContextVerifier,
    InvalidCallerContext,
    service_identity,
)
from crm_platform.access.rights import (
    ACTIONS,
    BUILTIN_ROLES,
    Level,
    Rights,
    builtin_rights,
    parse_permissions,
    register_resource_type,
    resource_types,
    union,
)
from crm_platform.access.scope import (
    Ownership,
    OwnershipColumns,
    assign_ownership,
    in_scope,
    require,
    scope_clause,
)

__all__ = [
    "ACTIONS",
    "API_KEY",
    "BUILTIN_ROLES",
    "METADATA_KEY",
    "SERVICE",
    "USER",
    "CallerContext",
    "CallerContextSigner",
    "CallerContextVerifier",
    "InvalidCallerContext",
    "Level",
    "Ownership",
    "OwnershipColumns",
    "Rights",
    "assign_ownership",
    "builtin_rights",
    "in_scope",
    "parse_permissions",
    "register_resource_type",
    "require",
    "resource_types",
    "scope_clause",
    "service_identity",
    "union",
]

"""Signed caller contexts for tests and benchmarks that call a service over gRPC without the gateway.

They sign with the same local key pair the gateway would use (crm_platform.access.keys: under
`<data_dir>/keys`, CRM_DATA_DIR by default), so a service started with that data directory believes them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc

from crm_platform.access import CallerContext, CallerContextSigner, builtin_rights
from crm_platform.access.keys import signing_key
from crm_platform.grpc_client import CALLER_CONTEXT_METADATA_KEY


def caller(
    subject: str = "tester",
    role: str = "admin",
    *,
    team_ids: tuple[str, ...] = (),
    partner_account_id: str | None = None,
) -> CallerContext:
    return CallerContext(
        subject=subject,
        roles=(role,),
        team_ids=team_ids,
        primary_team_id=team_ids[0] if team_ids else None,
        partner_account_id=partner_account_id,
        rights=builtin_rights(role),
    )


@contextmanager
def _data_dir(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    previous = os.environ.get("CRM_DATA_DIR")
    os.environ["CRM_DATA_DIR"] = str(path)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("CRM_DATA_DIR", None)
        else:
            os.environ["CRM_DATA_DIR"] = previous


def signed_context(context: CallerContext | None = None, *, data_dir: Path | None = None) -> str:
    with _data_dir(data_dir):
        pem, kid = signing_key()
    return CallerContextSigner(pem, kid, ttl_seconds=3600).sign(context or caller())


def caller_metadata(
    subject: str = "tester", role: str = "admin", *, data_dir: Path | None = None, **kwargs: object
) -> tuple[tuple[str, str], ...]:
    """gRPC metadata carrying a signed context for `subject` with the built-in `role`'s rights."""
    return (
        (CALLER_CONTEXT_METADATA_KEY, signed_context(caller(subject, role, **kwargs), data_dir=data_dir)),
    )  # type: ignore[arg-type]


class _DefaultCaller(grpc.UnaryUnaryClientInterceptor):
    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.metadata = metadata

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        present = list(details.metadata or ())
        if not any(key == CALLER_CONTEXT_METADATA_KEY for key, _ in present):
            details = details._replace(metadata=[*present, *self.metadata])
        return continuation(details, request)


def with_default_caller(
    channel: grpc.Channel, metadata: tuple[tuple[str, str], ...] | None = None
) -> grpc.Channel:
    """`channel` adding a signed admin caller (or `metadata`) to every call that does not carry one."""
    return grpc.intercept_channel(channel, _DefaultCaller(metadata or caller_metadata()))

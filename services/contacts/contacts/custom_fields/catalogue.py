"""The current custom field definitions, cached per process and reloaded when they change.

Every change of a definition bumps `custom_field_catalogue.version` in its transaction (store.py); a
reader compares that one row with the version it loaded and reloads all definitions only when they
differ. So a definition made through one replica is in force in every other from their next request,
and a request costs one primary-key read rather than a read of every definition. The list allow-list
(ListSpec) of each resource is built once per version too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from contacts.custom_fields import store
from contacts.custom_fields.domain import Definition
from crm_platform.listing import ListSpec


@dataclass(frozen=True)
class Snapshot:
    version: int
    by_resource: Mapping[str, Mapping[str, Definition]]
    specs: dict[str, ListSpec] = field(default_factory=dict)  # built on first use, per resource

    def of(self, resource: str) -> Mapping[str, Definition]:
        return self.by_resource.get(resource, {})


class Catalogue:
    """One database's definitions (one per servicer: tests run several databases in one process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot = Snapshot(-1, {})

    def current(self, session: Session) -> Snapshot:
        version = store.catalogue_version(session)
        snapshot = self._snapshot
        if snapshot.version == version:
            return snapshot
        by_resource: dict[str, dict[str, Definition]] = {}
        for row in store.all_definitions(session):
            by_resource.setdefault(row.resource, {})[row.name] = store.definition_of(row)
        fresh = Snapshot(version, by_resource)
        with self._lock:
            # A concurrent reader may have loaded a newer version meanwhile: keep the newest.
            if fresh.version > self._snapshot.version:
                self._snapshot = fresh
        return fresh

    def spec(
        self, session: Session, resource: str, build: Callable[[Mapping[str, Definition]], ListSpec]
    ) -> ListSpec:
        """`build(definitions)` for the current version, made once per version."""
        snapshot = self.current(session)
        spec = snapshot.specs.get(resource)
        if spec is None:
            spec = snapshot.specs[resource] = build(snapshot.of(resource))
        return spec

"""Contacts created by a bulk import get no welcome unless the import asked for one."""

from __future__ import annotations

from crm_platform.events.wire import Event
from notifications.events import is_quiet_import


def event(**headers: object) -> Event:
    return Event(
        id="e1", type="contact_created", source="contacts", time=None, version=1, data={}, headers=headers
    )


def test_only_an_import_that_did_not_ask_for_welcomes_is_quiet() -> None:
    assert not is_quiet_import(event())
    assert is_quiet_import(event(**{"ce-crmorigin": "import", "ce-crmnotify": "false"}))
    assert is_quiet_import(event(**{"ce-crmorigin": b"import"}))
    assert not is_quiet_import(event(**{"ce-crmorigin": "import", "ce-crmnotify": "true"}))

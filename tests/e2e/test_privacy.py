"""Consent, export and erasure on the real platform, through the gateway over HTTP (docs/architecture.md,
"Privacy: consent, export, erasure").

A partner user creates a contact whose names, email, phone and company are unique marker strings, logs
a call that names the person and records a consent; once the welcome notification exists and the
timeline shows it, the export holds all five services' sections and the markers, another partner
account's user gets 404 for the export and the erasure, and an admin erases the person. Then, once
`contact_erased` has been applied everywhere, no table of any service's database (the gateway's own
included: audit events) holds any marker, the contact reads as a tombstone and a repeated erasure
changes nothing.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from crm_devrun.client import GatewayClient, Reply
from crm_devrun.platform import SERVICES
from crm_devrun.probes import wait_until

PASSWORD = "privacy-e2e-password-1"
# Every database of the platform: the five services' and the gateway's own.
DATABASES = (*SERVICES, "gateway")
ERASURE_DEADLINE_SECONDS = 20.0


def _created(reply: Reply) -> dict[str, Any]:
    assert reply.status == 201, (reply.status, reply.body[:300])
    return reply.json()


def _ok(reply: Reply) -> dict[str, Any]:
    assert reply.status == 200, (reply.status, reply.body[:300])
    return reply.json()


@pytest.fixture(scope="module")
def partners(platform) -> Iterator[dict[str, GatewayClient]]:
    """A partner user of each of two partner accounts, signed in (names unique per run)."""
    admin = platform.client()
    run = secrets.token_hex(4)
    clients = {}
    for label in ("P1", "P2"):
        account = _created(
            admin.request(
                "POST", "/api/v1/partner-accounts", {"name": f"Priv{label}-{run}", "kind": "reseller"}
            )
        )
        email = f"privacy-{label.lower()}-{run}@example.com"
        _created(
            admin.request(
                "POST",
                "/api/v1/users",
                {
                    "email": email,
                    "name": f"privacy {label}",
                    "password": PASSWORD,
                    "roles": ["partner"],
                    "team_ids": [],
                    "partner_account_id": account["id"],
                },
            )
        )
        client = platform.client(login=False)
        client.login(email, PASSWORD)
        clients[label] = client
    yield clients
    admin.close()
    for client in clients.values():
        client.close()


# --- scanning the databases -----------------------------------------------------------------------------


def database_files(data_dir: Path) -> list[Path]:
    """Every SQLite database in the platform's data dir; each of the six expected ones must be there (a
    platform on another database engine cannot be scanned this way)."""
    expected = [data_dir / f"{name}.db" for name in DATABASES]
    missing = [p.name for p in expected if not p.is_file()]
    assert not missing, f"no SQLite database file for {missing} in {data_dir}"
    return sorted({*expected, *data_dir.glob("*.db")})


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        return [raw.decode("utf-8", errors="ignore"), raw.decode("latin-1")]
    return []


def scan(paths: list[Path], markers: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(database, table, column, marker name) for every text or blob value of every table holding a
    marker, case-insensitively. Pure Python over sqlite3, read-only."""
    needles = {name: marker.lower() for name, marker in markers.items()}
    hits: list[tuple[str, str, str, str]] = []
    for path in paths:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            tables = [
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
            for table in tables:
                quoted = table.replace('"', '""')  # a name read from sqlite_master, quoted as an identifier
                cursor = connection.execute(f'SELECT * FROM "{quoted}"')  # noqa: S608
                columns = [d[0] for d in cursor.description]
                for row in cursor:
                    for column, value in zip(columns, row, strict=True):
                        for text in _texts(value):
                            lowered = text.lower()
                            for name, needle in needles.items():
                                if needle in lowered:
                                    hits.append((path.name, table, column, name))
        finally:
            connection.close()
    return sorted(set(hits))


# --- the test ------------------------------------------------------------------------------------------


def _kinds(client: GatewayClient, contact_id: str) -> set[str]:
    reply = client.request("GET", f"/api/v1/contacts/{contact_id}/timeline?limit=200")
    return {e["event_type"] for e in _ok(reply)["items"]}


def _phone_number() -> phonenumbers.PhoneNumber:
    """A random valid number (the contacts service refuses invalid ones): a German mobile, 0151 plus
    eight random digits."""
    while True:
        number = phonenumbers.parse("+49151" + "".join(secrets.choice("0123456789") for _ in range(8)))
        if phonenumbers.is_valid_number(number):
            return number


def _contains_any(document: Any, markers: dict[str, str]) -> list[str]:
    text = json.dumps(document).lower()
    return [name for name, marker in markers.items() if marker.lower() in text]


def test_export_then_erase_leaves_the_person_in_no_database(
    platform, api: GatewayClient, partners: dict[str, GatewayClient]
) -> None:
    p1, p2 = partners["P1"], partners["P2"]
    run = secrets.token_hex(5)
    phone = _phone_number()
    markers = {
        "first_name": f"Firstmark{run}",
        "last_name": f"Lastmark{run}",
        "email": f"privacy-mark-{run}@example.com",
        # The number as given (E.164) and as the service may store or show it.
        "phone": phonenumbers.format_number(phone, phonenumbers.PhoneNumberFormat.E164),
        "phone_international": phonenumbers.format_number(
            phone, phonenumbers.PhoneNumberFormat.INTERNATIONAL
        ),
        "phone_national": phonenumbers.format_number(phone, phonenumbers.PhoneNumberFormat.NATIONAL),
        "company": f"Companymark{run}",
    }
    files = database_files(platform.config.data_dir)
    assert scan(files, markers) == []  # unique: nothing of this run yet

    contact = p1.create_contact(
        first_name=markers["first_name"],
        last_name=markers["last_name"],
        email=markers["email"],
        phone=markers["phone"],
        company=markers["company"],
    )
    contact_id = contact["id"]
    base = f"/api/v1/contacts/{contact_id}"
    person = f"{markers['first_name']} {markers['last_name']}"
    # Idempotency keys: the services keep the responses (which name the person) with the claims.
    call = _created(
        p1.request(
            "POST",
            f"{base}/interactions",
            {
                "kind": "call",
                "direction": "outbound",
                "channel": "phone",
                "occurred_at": "2026-03-01T10:00:00Z",
                "subject": f"Call with {person}",
                "summary": f"{person} of {markers['company']} asked for a call"
                f" at {markers['phone_national']}",
            },
            headers={"Idempotency-Key": f"privacy-call-{run}"},
        )
    )
    # RecordConsent is a custom method (not a standard Create): 200 with the record.
    consent = _ok(
        p1.request(
            "POST",
            f"{base}/consents",
            {
                "channel": "email",
                "purpose": "marketing",
                "status": "granted",
                "source": f"web form signed by {person} <{markers['email']}>",
            },
            headers={"Idempotency-Key": f"privacy-consent-{run}"},
        )
    )
    assert (consent["channel"], consent["purpose"], consent["status"]) == ("email", "marketing", "granted")

    # The welcome notification (notifications worker) and, on the timeline, everything above.
    wait_until(
        lambda: _ok(api.customer_360(contact_id))["notifications"]["items"],
        timeout=15,
        what="the welcome notification",
    )
    wanted = {"contact_created", "interaction_logged", "consent_changed", "notification_sent"}
    wait_until(
        lambda: wanted <= _kinds(api, contact_id), timeout=15, what=f"{sorted(wanted)} on the timeline"
    )

    # The export: one section per service, the person's data in it; audited.
    export = _ok(api.request("GET", f"{base}:exportData"))
    assert export["contact_id"] == contact_id
    assert set(export["services"]) == set(SERVICES), export["services"].keys()
    assert all(isinstance(export["services"][s], dict) for s in SERVICES), export["services"]
    assert export["forbidden"] == []
    given = {"first_name", "last_name", "email", "phone", "company"}
    assert given <= set(_contains_any(export["services"]["contacts"], markers)), export["services"][
        "contacts"
    ]
    contacts_section = json.dumps(export["services"]["contacts"])
    assert call["id"] in contacts_section and consent["id"] in contacts_section
    notifications = export["services"]["notifications"]["notifications"]
    assert [n["contact_id"] for n in notifications] == [contact_id]
    assert {"first_name", "company"} <= set(_contains_any(notifications, markers))
    # The partner who owns the contact exports it too.
    assert p1.request("GET", f"{base}:exportData").status == 200
    audited = _ok(api.request("GET", f"/api/v1/audit-events?action=contact.exported&target_id={contact_id}"))
    assert audited["items"], "the export was not audited"

    # Another partner account's user: the contact does not exist for them.
    assert p2.request("GET", f"{base}:exportData").status == 404
    assert p2.request("POST", f"{base}:erase", {}).status == 404
    assert _ok(api.request("GET", base))["email"] == markers["email"]  # nothing was erased

    # The scan sees the person where they are stored before the erasure (contacts' tables, the
    # notifications' titles and bodies, the idempotency claims' responses).
    before = scan(files, markers)
    stored = {(database, table) for database, table, _, _ in before}
    assert {
        ("contacts.db", "contacts"),
        ("contacts.db", "interactions"),
        ("contacts.db", "consent_records"),
        ("contacts.db", "idempotency_keys"),
        ("notifications.db", "notifications"),
    } <= stored, before

    # The erasure, by an admin.
    erasure = _ok(api.request("POST", f"{base}:erase", {}))
    assert erasure["contact_id"] == contact_id and erasure["erased_at"]

    # contact_erased is applied by every service's worker: poll until no marker is left, then assert.
    deadline = time.monotonic() + ERASURE_DEADLINE_SECONDS
    hits = scan(files, markers)
    while hits and time.monotonic() < deadline:
        time.sleep(0.25)
        hits = scan(files, markers)
    assert hits == [], "the erased person's data is still stored:\n" + "\n".join(map(str, hits))

    # The contact reads as a tombstone; its timeline and the export hold nothing of the person.
    tombstone = _ok(api.request("GET", base))
    assert tombstone["id"] == contact_id and tombstone["archived_at"]
    assert _contains_any(tombstone, markers) == []
    timeline = _ok(api.request("GET", f"{base}/timeline?limit=200"))
    assert timeline["items"] and _contains_any(timeline, markers) == []
    after = _ok(api.request("GET", f"{base}:exportData"))
    assert _contains_any(after, markers) == []

    # A repeated erasure is harmless: the first erasure's answer, and still nothing stored.
    again = _ok(api.request("POST", f"{base}:erase", {}))
    assert again["erased_at"] == erasure["erased_at"]
    assert _ok(api.request("GET", base))["archived_at"] == tombstone["archived_at"]
    time.sleep(0.5)  # a second contact_erased, if one was published, has time to be applied
    assert scan(files, markers) == []

"""Tasks, appointments and the calendar feed on the real platform, through the gateway over HTTP: scope
(another team's rep, another partner), a task rescheduled and completed with If-Match, and a user's
secret feed address read without a login by a calendar app: it parses with `icalendar`, holds that
user's appointments and open tasks only, and answers 404 once the feed is deleted."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
from crm_devrun.client import GatewayClient, Reply

PASSWORD = "activities-e2e-password-1"


@dataclass
class Cast:
    admin: GatewayClient
    people: dict[str, GatewayClient]
    anonymous: GatewayClient
    run: str


def _ok(reply: Reply, status: int = 200) -> Any:
    assert reply.status == status, (reply.status, reply.body[:400])
    return reply.json() if reply.body else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def cast(platform) -> Iterator[Cast]:
    admin = platform.client()
    run = secrets.token_hex(4)
    teams = {
        t: _ok(admin.request("POST", "/api/v1/teams", {"name": f"Act{t}-{run}"}), 201)["id"] for t in "AB"
    }
    partners = {
        p: _ok(
            admin.request("POST", "/api/v1/partner-accounts", {"name": f"Act{p}-{run}", "kind": "reseller"}),
            201,
        )["id"]
        for p in ("P1", "P2")
    }
    plan = {
        "rep_a": ("sales_rep", [teams["A"]], None),
        "rep_b": ("sales_rep", [teams["B"]], None),
        "partner_p1": ("partner", [], partners["P1"]),
        "partner_p2": ("partner", [], partners["P2"]),
    }
    people = {}
    for name, (role, team_ids, partner) in plan.items():
        email = f"act-{name.replace('_', '-')}-{run}@example.com"
        body = {"email": email, "name": name, "password": PASSWORD, "roles": [role], "team_ids": team_ids}
        if partner:
            body["partner_account_id"] = partner
        _ok(admin.request("POST", "/api/v1/users", body), 201)
        client = platform.client(login=False)
        client.login(email, PASSWORD)
        people[name] = client
    anonymous = platform.client(login=False)
    yield Cast(admin, people, anonymous, run)
    for client in (admin, anonymous, *people.values()):
        client.close()


def test_tasks_and_appointments_keep_to_their_scope_and_a_task_is_worked_with_if_match(cast: Cast) -> None:
    rep_a, rep_b = cast.people["rep_a"], cast.people["rep_b"]
    p1, p2 = cast.people["partner_p1"], cast.people["partner_p2"]
    due = datetime.now(UTC) + timedelta(days=2)
    task = _ok(
        rep_a.request(
            "POST",
            "/api/v1/tasks",
            {
                "title": f"Call back {cast.run}",
                "contact_id": "c-e2e",
                "due_at": _iso(due),
                "priority": "high",
                "reminder_minutes_before": [15],
            },
        ),
        201,
    )
    assert task["status"] == "open" and task["priority"] == "high"
    assert _ok(rep_a.request("GET", f"/api/v1/tasks/{task['id']}"))["id"] == task["id"]
    for outsider in (rep_b, p1):
        assert outsider.request("GET", f"/api/v1/tasks/{task['id']}").status == 404
    # A partner's appointment is theirs alone among partners.
    start = datetime.now(UTC) + timedelta(days=3)
    meeting = _ok(
        p1.request(
            "POST",
            "/api/v1/appointments",
            {
                "title": f"Demo {cast.run}",
                "contact_id": "c-p1",
                "start_at": _iso(start),
                "end_at": _iso(start + timedelta(hours=1)),
                "location": "Reykjavik",
            },
        ),
        201,
    )
    assert meeting["partner_account_id"]
    assert p2.request("GET", f"/api/v1/appointments/{meeting['id']}").status == 404
    assert meeting["id"] not in [a["id"] for a in _ok(p2.request("GET", "/api/v1/appointments"))["items"]]
    # Reschedule with If-Match; a stale etag is a 412; completing records it in the history.
    moved = rep_a.request(
        "PATCH",
        f"/api/v1/tasks/{task['id']}",
        {"due_at": _iso(due + timedelta(days=1))},
        headers={"If-Match": f'"{task["etag"]}"'},
    )
    assert moved.status == 200, moved.body[:300]
    stale = rep_a.request(
        "POST", f"/api/v1/tasks/{task['id']}:complete", {}, headers={"If-Match": f'"{task["etag"]}"'}
    )
    assert stale.status == 412
    done = _ok(rep_a.request("POST", f"/api/v1/tasks/{task['id']}:complete", {}))
    assert done["status"] == "done"
    history = _ok(rep_a.request("GET", f"/api/v1/tasks/{task['id']}/history"))["items"]
    assert len(history) == 3
    orphan = rep_a.request("POST", "/api/v1/tasks", {"title": "About nothing"})
    assert orphan.status == 422


def test_the_calendar_feed_holds_the_users_own_items_and_is_revocable(cast: Cast) -> None:
    rep_a, rep_b = cast.people["rep_a"], cast.people["rep_b"]
    soon = datetime.now(UTC) + timedelta(days=1)
    mine = _ok(
        rep_a.request(
            "POST",
            "/api/v1/appointments",
            {
                "title": f"Mine {cast.run}",
                "contact_id": "c-1",
                "start_at": _iso(soon),
                "end_at": _iso(soon + timedelta(minutes=30)),
                "reminder_minutes_before": [10],
                "attendees": [{"name": "Ada", "email": "ada@example.com"}],
            },
        ),
        201,
    )
    task = _ok(
        rep_a.request(
            "POST", "/api/v1/tasks", {"title": f"Todo {cast.run}", "contact_id": "c-1", "due_at": _iso(soon)}
        ),
        201,
    )
    done = _ok(
        rep_a.request(
            "POST", "/api/v1/tasks", {"title": f"Done {cast.run}", "contact_id": "c-1", "due_at": _iso(soon)}
        ),
        201,
    )
    _ok(rep_a.request("POST", f"/api/v1/tasks/{done['id']}:complete", {}))
    theirs = _ok(
        rep_b.request(
            "POST",
            "/api/v1/appointments",
            {
                "title": f"Theirs {cast.run}",
                "contact_id": "c-2",
                "start_at": _iso(soon),
                "end_at": _iso(soon + timedelta(minutes=30)),
            },
        ),
        201,
    )
    # 200, not 201: a feed has no address of its own to put in Location but its secret one.
    feed = _ok(rep_a.request("POST", "/api/v1/calendar-feeds", {"name": "Phone"}))
    assert feed["url"].endswith("/calendar.ics") and feed["token"]
    listed = _ok(rep_a.request("GET", "/api/v1/calendar-feeds"))["items"]
    assert [f["id"] for f in listed] == [feed["id"]] and not listed[0]["token"]
    assert _ok(rep_b.request("GET", "/api/v1/calendar-feeds"))["items"] == []

    answer = cast.anonymous.request("GET", feed["url"])
    assert answer.status == 200, answer.body[:300]
    assert answer.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(answer.body)
    events = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    assert f"Mine {cast.run}" in events and f"Todo {cast.run}" in events
    assert f"Done {cast.run}" not in events and f"Theirs {cast.run}" not in events
    assert all(
        str(e["uid"]).split("-", 1)[1].split("@")[0] in {mine["id"], task["id"]} for e in events.values()
    )
    assert [a["trigger"].dt for a in events[f"Mine {cast.run}"].walk("VALARM")] == [timedelta(minutes=-10)]
    assert theirs["id"] not in answer.body.decode()

    assert rep_b.request("DELETE", f"/api/v1/calendar-feeds/{feed['id']}").status == 404  # not theirs
    assert rep_a.request("DELETE", f"/api/v1/calendar-feeds/{feed['id']}").status == 204
    assert cast.anonymous.request("GET", feed["url"]).status == 404
    assert cast.anonymous.request("GET", "/api/v1/calendar-feeds/not-a-token/calendar.ics").status == 404


def test_a_deactivated_users_feed_stops_answering_and_answers_again_once_reactivated(
    cast: Cast,
    platform,  # type: ignore[no-untyped-def]
) -> None:
    """The gateway serves a feed only while its user is active (its identity store keeps that, not
    sales): 404 within the identity cache's seconds of the deactivation, 200 again after reactivation."""
    email = f"act-leaver-{cast.run}@example.com"
    body = {"email": email, "name": "leaver", "password": PASSWORD, "roles": ["sales_rep"], "team_ids": []}
    user = _ok(cast.admin.request("POST", "/api/v1/users", body), 201)
    leaver = platform.client(login=False)
    try:
        leaver.login(email, PASSWORD)
        feed = _ok(leaver.request("POST", "/api/v1/calendar-feeds", {"name": "Phone"}))
    finally:
        leaver.close()
    assert cast.anonymous.request("GET", feed["url"]).status == 200

    def answers_within(status: int, seconds: float) -> float:
        started = time.monotonic()
        while (got := cast.anonymous.request("GET", feed["url"]).status) != status:
            assert time.monotonic() - started < seconds, f"still {got} after {seconds} s"
            time.sleep(0.2)
        return time.monotonic() - started

    _ok(cast.admin.request("POST", f"/api/v1/users/{user['id']}:deactivate", {}))
    gone = answers_within(404, 10)
    reply = cast.anonymous.request("GET", feed["url"])
    assert reply.headers["content-type"].startswith("application/problem+json")
    _ok(cast.admin.request("POST", f"/api/v1/users/{user['id']}:reactivate", {}))
    back = answers_within(200, 10)
    print(f"\nfeed of a deactivated user: 404 after {gone:.2f} s; 200 again {back:.2f} s after reactivation")

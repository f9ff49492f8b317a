"""The thin real path: gateway -> contacts -> event -> notifications, read back through the 360 view."""

from __future__ import annotations

import os
import secrets
import signal
import time
from typing import Any

from crm_devrun.client import GatewayClient
from crm_devrun.probes import wait_until

# How long a restarted service may take to be ready again: a bound, not a measure. In a clean-clone CI run
# under the whole suite's load, sales restarted had printed nothing after 30 s.
READY_AGAIN_SECONDS = 120


def new_email() -> str:
    return f"e2e-{secrets.token_hex(6)}@example.com"


def test_created_contact_appears_in_360_with_its_welcome_notification(api: GatewayClient) -> None:
    contact = api.create_contact(first_name="Ada", last_name="Lovelace", email=new_email(), company="Engines")

    def welcomed() -> dict | None:
        view = api.customer_360(contact["id"])
        assert view.status == 200, view.body
        body = view.json()
        return body if body["notifications"]["items"] else None

    view = wait_until(welcomed, timeout=10, what="the welcome notification in the 360 view")
    assert view["contact"]["id"] == contact["id"]
    assert view["contact"]["email"] == contact["email"]
    assert view["unavailable"] == []
    for section in ("sales", "marketing", "support"):
        assert view[section] is not None
    [welcome] = view["notifications"]["items"]
    assert welcome["kind"] == "welcome"
    assert "Ada" in welcome["title"]


def _created(reply: Any) -> dict[str, Any]:
    assert reply.status == 201, (reply.status, reply.body[:300])
    return reply.json()


def test_360_shows_companies_consents_timeline_and_counts_as_the_caller_may_see_them(platform, api) -> None:
    """A sales rep's contact linked to a company of the rep's team and to one of another team, with a
    consent and an interaction: the rep's 360 shows their company, the consent and the interaction (on
    the timeline and in the counts), and nothing of the other team's company; the admin's shows both."""
    run = secrets.token_hex(4)
    team_a, team_b = (
        _created(api.request("POST", "/api/v1/teams", {"name": f"360-{t}-{run}"}))["id"] for t in "AB"
    )
    email, password = f"rep-360-{run}@example.com", "customer-360-password-1"
    body = {"email": email, "name": "rep", "password": password, "roles": ["sales_rep"], "team_ids": [team_a]}
    _created(api.request("POST", "/api/v1/users", body))
    rep = platform.client(login=False)
    rep.login(email, password)
    try:
        contact = rep.create_contact(first_name="Ada", last_name=f"L{run}", email=new_email())
        companies = {
            name: _created(
                api.request("POST", "/api/v1/companies", {"name": f"{name} {run}", "team_id": team})
            )
            for name, team in (("Ours", team_a), ("Theirs", team_b))
        }
        for company in companies.values():
            link = {"contact_id": contact["id"], "role": "decision_maker", "title": "Buyer"}
            assert api.request("POST", f"/api/v1/companies/{company['id']}/people", link).status == 200
        consent = {"channel": "email", "purpose": "marketing", "status": "granted", "source": "web_form"}
        assert rep.request("POST", f"/api/v1/contacts/{contact['id']}/consents", consent).status == 200
        subject = f"Renewal {run}"
        call = {"kind": "call", "direction": "outbound", "subject": subject}
        interaction = _created(rep.request("POST", f"/api/v1/contacts/{contact['id']}/interactions", call))

        reply = rep.customer_360(contact["id"])
        assert reply.status == 200, reply.body
        view = reply.json()
        assert view["contact"] == rep.request("GET", f"/api/v1/contacts/{contact['id']}").json()
        assert [(c["company_id"], c["company_name"], c["role"], c["title"]) for c in view["companies"]] == [
            (companies["Ours"]["id"], f"Ours {run}", "decision_maker", "Buyer")
        ]
        assert (
            companies["Theirs"]["id"] not in reply.body.decode()
            and f"Theirs {run}" not in reply.body.decode()
        )
        granted = [c for c in view["consents"] if c["status"] == "granted"]
        assert [(c["channel"], c["purpose"], c["source"]) for c in granted] == [
            ("email", "marketing", "web_form")
        ]
        assert interaction["id"] in {e["ref_id"] for e in view["timeline"]}
        counts = view["counts"]
        assert (counts["interactions"], counts["companies"]) == (1, 1)
        assert counts["timeline_entries"] >= 1 and counts["last_interaction_at"] == interaction["occurred_at"]

        as_admin = api.customer_360(contact["id"]).json()
        assert {c["company_id"] for c in as_admin["companies"]} == {c["id"] for c in companies.values()}
        assert as_admin["counts"]["companies"] == 2
    finally:
        rep.close()


def test_unknown_customer_is_404_problem(api: GatewayClient) -> None:
    reply = api.customer_360("00000000-0000-4000-8000-000000000000")
    assert reply.status == 404
    assert reply.headers["content-type"].startswith("application/problem+json")


def test_360_with_a_service_stopped_answers_within_deadline(platform, api: GatewayClient) -> None:
    contact = api.create_contact(first_name="Grace", last_name="Hopper", email=new_email())
    sales = platform.supervisor["sales"]
    sales.stop()
    try:
        started = time.monotonic()
        reply = api.customer_360(contact["id"])
        elapsed = time.monotonic() - started
    finally:
        sales.start()
    assert reply.status == 200
    body = reply.json()
    assert body["unavailable"] == ["sales"]
    assert body["unavailable_reasons"] == {"sales": "service unavailable (UNAVAILABLE)"}
    assert body["sales"] is None
    assert body["contact"]["id"] == contact["id"]
    assert elapsed < 3.0
    platform.supervisor.wait_ready(READY_AGAIN_SECONDS, ["sales"])
    _gateway_reaches_every_service(platform)


def test_360_with_a_hung_service_is_cut_at_its_deadline(platform, api: GatewayClient) -> None:
    """A frozen process accepts connections but never answers: only the deadline saves the page."""
    contact = api.create_contact(first_name="Barbara", last_name="Liskov", email=new_email())
    support = platform.supervisor["support"].process
    assert support is not None
    os.kill(support.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        reply = api.customer_360(contact["id"])
        elapsed = time.monotonic() - started
    finally:
        os.kill(support.pid, signal.SIGCONT)
    assert reply.status == 200
    body = reply.json()
    assert "support" in body["unavailable"]
    assert body["contact"]["id"] == contact["id"]
    # The deadline is 1 s (GATEWAY_SERVICE_DEADLINE_SECONDS in the fixture); allow scheduling slack.
    assert 0.9 <= elapsed < 3.0


def test_360_answers_at_once_while_a_hung_service_circuit_is_open(platform, api: GatewayClient) -> None:
    """Each gateway worker opens the support circuit after GATEWAY_BREAKER_FAILURES (default 5) calls
    that ran out of time; from then on the view does not wait for the deadline, and once the service
    answers again a probe after the cool-down (default 5 s) closes the circuit."""
    contact = api.create_contact(first_name="Edsger", last_name="Dijkstra", email=new_email())
    support = platform.supervisor["support"].process
    assert support is not None
    os.kill(support.pid, signal.SIGSTOP)
    timings: list[tuple[float, str]] = []
    try:
        # Two gunicorn workers learn on their own: ask until several answers in a row say "circuit open".
        for _ in range(40):
            started = time.monotonic()
            reply = api.customer_360(contact["id"])
            elapsed = time.monotonic() - started
            assert reply.status == 200, reply.body
            body = reply.json()
            # Only support is asked about: sales may still be reconnecting after the test before.
            assert "support" in body["unavailable"] and body["contact"]["id"] == contact["id"]
            timings.append((elapsed, body["unavailable_reasons"]["support"]))
            if [reason for _, reason in timings[-4:]] == ["service unavailable (circuit open)"] * 4:
                break
    finally:
        os.kill(support.pid, signal.SIGCONT)
    open_answers = [elapsed for elapsed, reason in timings if reason.endswith("(circuit open)")]
    waited = [elapsed for elapsed, reason in timings if not reason.endswith("(circuit open)")]
    assert len(open_answers) >= 4, timings
    assert all(0.9 <= elapsed < 3.0 for elapsed in waited), timings  # the deadline, before it opened
    assert max(open_answers) < 0.3, timings  # generous: on this machine they take a few ms
    print(
        f"waited {len(waited)} x ~{sum(waited) / len(waited):.2f} s; circuit open: {len(open_answers)} x "
        f"max {max(open_answers) * 1000:.0f} ms"
    )

    def whole() -> bool:
        api.close()  # a new connection, so the check reaches either gunicorn worker
        reply = api.customer_360(contact["id"])
        return reply.status == 200 and reply.json()["unavailable"] == []

    # Every worker must probe and close before the next tests (which expect complete views) run.
    wait_until(
        lambda: all(whole() for _ in range(6)), timeout=30, interval=0.5, what="support circuits closed"
    )


def _gateway_reaches_every_service(platform) -> None:
    """Once a restarted service is ready, the gateway's channels reach it again within about a second
    (grpc_client.MAX_RECONNECT_BACKOFF_MS): the next tests expect every service."""
    gateway = GatewayClient(platform.config.gateway_url)

    def ready() -> bool:
        gateway.close()  # a new connection, so the check reaches either gunicorn worker
        return gateway.request("GET", "/readyz").status == 200

    wait_until(
        lambda: all(ready() for _ in range(4)),
        timeout=10,
        interval=0.2,
        what="the gateway reaching every service",
    )


def test_readyz_names_a_stopped_service(platform) -> None:
    anonymous = GatewayClient(platform.config.gateway_url)
    assert anonymous.request("GET", "/readyz").status == 200
    marketing = platform.supervisor["marketing"]
    marketing.stop()
    try:
        reply = anonymous.request("GET", "/readyz")
        own_only = anonymous.request("GET", "/readyz?scope=self")
    finally:
        marketing.start()
    assert reply.status == 503
    assert "marketing" in reply.body.decode()
    # What a load balancer gates on: the gateway itself is still fit to serve.
    assert own_only.status == 200
    platform.supervisor.wait_ready(READY_AGAIN_SECONDS, ["marketing"])
    _gateway_reaches_every_service(platform)

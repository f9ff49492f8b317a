"""Leads and deals on the real platform, through the gateway over HTTP: a lead captured from a public web
form (no login; honeypot; rate limited), assigned by a territory rule to a rep, scored, converted into a
contact, a company and a deal through contacts, the deal moved and won, and each step on the contact's
timeline (through sales.events and the contacts worker)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from crm_devrun.client import GatewayClient, Reply
from crm_devrun.probes import wait_until

PASSWORD = "pipeline-e2e-password-1"
PROBLEM = "application/problem+json"


@dataclass
class Cast:
    admin: GatewayClient
    rep: GatewayClient
    anonymous: GatewayClient
    rep_id: str
    team_id: str
    run: str


def _ok(reply: Reply, status: int = 200) -> Any:
    assert reply.status == status, (reply.status, reply.body[:400])
    return reply.json() if reply.body else None


@pytest.fixture(scope="module")
def cast(platform) -> Iterator[Cast]:
    admin = platform.client()
    run = secrets.token_hex(4)
    team = _ok(admin.request("POST", "/api/v1/teams", {"name": f"Pipeline-{run}"}), 201)["id"]
    email = f"pipeline-rep-{run}@example.com"
    user = _ok(
        admin.request(
            "POST",
            "/api/v1/users",
            {"email": email, "name": "Rep", "password": PASSWORD, "roles": ["sales_rep"], "team_ids": [team]},
        ),
        201,
    )
    rep = platform.client(login=False)
    rep.login(email, PASSWORD)
    anonymous = platform.client(login=False)
    yield Cast(admin, rep, anonymous, user["id"], team, run)
    for client in (admin, rep, anonymous):
        client.close()


def test_web_form_lead_to_won_deal_with_every_step_on_the_contacts_timeline(cast: Cast) -> None:
    admin, rep, run = cast.admin, cast.rep, cast.run
    country = "IS"  # a territory of this test's own rule
    _ok(
        admin.request(
            "POST",
            "/api/v1/lead-assignment-rules",
            {
                "name": f"Iceland {run}",
                "countries": [country],
                "user_ids": [cast.rep_id],
                "team_id": cast.team_id,
            },
        ),
        201,
    )
    _ok(
        admin.request(
            "POST",
            "/api/v1/lead-scoring-rules",
            {"name": f"Iceland {run}", "field": "country", "values": [country], "points": 7},
        ),
        201,
    )
    form = _ok(
        admin.request("POST", "/api/v1/lead-forms", {"name": f"Contact us {run}", "campaign_id": run}), 201
    )
    submissions = f"/api/v1/web-forms/{form['key']}/submissions"
    email = f"pipeline-{run}@example.com"
    lead_fields = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": email,
        "company": f"Engines {run}",
        "company_domain": f"engines-{run}.com",
        "country": country,
    }
    # No login needed; a honeypot filled creates nothing but is answered the same.
    assert _ok(cast.anonymous.request("POST", submissions, lead_fields), 202) == {"status": "received"}
    trap = {**lead_fields, "email": f"bot-{run}@example.com", "hp_website": "http://spam.example"}
    assert _ok(cast.anonymous.request("POST", submissions, trap), 202) == {"status": "received"}
    unknown = cast.anonymous.request("POST", submissions, {"last_name": "X", "owner_id": "me"})
    assert unknown.status == 400 and unknown.headers["content-type"].startswith(PROBLEM)
    # Form fields are text, the honeypot too (a number there is a client error, not a silent 202).
    # A bot's submission that breaks the form's contract is refused like a person's would be.
    nameless = cast.anonymous.request("POST", submissions, {"email": "", "hp_website": "x"})
    assert nameless.status == 422 and nameless.json()["errors"][0]["field"] == "last_name"
    for typed in ({**lead_fields, "hp_website": 7}, {**lead_fields, "last_name": 7}):
        wrong = cast.anonymous.request("POST", submissions, typed)
        assert wrong.status == 422 and wrong.headers["content-type"].startswith(PROBLEM)
    assert (
        cast.anonymous.request("POST", "/api/v1/web-forms/no-such-form/submissions", lead_fields).status
        == 404
    )

    leads = _ok(rep.request("GET", f"/api/v1/leads?filter=campaign_id%20%3D%20%22{run}%22"))["items"]
    assert [lead["email"] for lead in leads] == [email]  # the honeypot's never arrived
    lead = leads[0]
    assert (lead["owner_id"], lead["team_id"], lead["source"], lead["status"]) == (
        cast.rep_id,
        cast.team_id,
        "web_form",
        "new",
    )
    assert lead["score"] == 7 and lead["score_breakdown"][0]["points"] == 7

    converted = _ok(
        rep.request(
            "POST",
            f"/api/v1/leads/{lead['id']}:convert",
            {"create_deal": True, "deal_amount": {"amount_minor": 1_250_000, "currency": "EUR"}},
        )
    )
    again = _ok(rep.request("POST", f"/api/v1/leads/{lead['id']}:convert", {"create_deal": True}))
    assert again == converted and converted["deal_id"] and converted["company_id"]
    contact = _ok(rep.request("GET", f"/api/v1/contacts/{converted['contact_id']}"))
    assert contact["email"] == email and contact["owner_id"] == cast.rep_id

    deal_path = f"/api/v1/deals/{converted['deal_id']}"
    deal = _ok(rep.request("GET", deal_path))
    assert deal["amount"] == {"amount_minor": 1_250_000, "currency": "EUR"} and deal["status"] == "open"
    pipeline = _ok(rep.request("GET", f"/api/v1/pipelines/{deal['pipeline_id']}"))
    proposal = pipeline["stages"][2]
    moved = _ok(rep.request("POST", f"{deal_path}:move", {"stage_id": proposal["id"]}))
    assert (moved["stage_id"], moved["probability"]) == (proposal["id"], proposal["probability"])
    won = _ok(rep.request("POST", f"{deal_path}:win", {"reason": "best fit"}))
    assert won["status"] == "won"
    lost_again = rep.request("POST", f"{deal_path}:lose", {"reason": "too late"})
    assert lost_again.status == 409 and lost_again.headers["content-type"].startswith(PROBLEM)
    history = _ok(rep.request("GET", f"{deal_path}/stage-history"))["items"]
    assert [h["to_stage_id"] for h in history] == [pipeline["stages"][0]["id"], proposal["id"]]
    assert {h["actor_id"] for h in history} == {cast.rep_id}
    board = _ok(
        rep.request(
            "GET", f"/api/v1/deals?order_by=stage%2Cposition&filter=contact_id%20%3D%20%22{contact['id']}%22"
        )
    )
    assert [d["id"] for d in board["items"]] == [deal["id"]]

    wanted = {"lead_converted", "deal_created", "deal_stage_changed", "deal_won"}

    def on_timeline() -> set[str]:
        reply = rep.request("GET", f"/api/v1/contacts/{contact['id']}/timeline?limit=200")
        return {e["event_type"] for e in _ok(reply)["items"]} & wanted

    wait_until(lambda: on_timeline() == wanted, timeout=30, what="the pipeline's steps on the timeline")
    entries = _ok(rep.request("GET", f"/api/v1/contacts/{contact['id']}/timeline?limit=200"))["items"]
    titles = {e["event_type"]: e["title"] for e in entries}
    assert titles["deal_won"] == f"Deal won: Engines {run}"
    assert titles["deal_stage_changed"] == f"Deal Engines {run} moved to {proposal['name']}"


def test_a_web_form_is_rate_limited_per_client_address(cast: Cast) -> None:
    form = _ok(cast.admin.request("POST", "/api/v1/lead-forms", {"name": f"Limited {cast.run}"}), 201)
    path = f"/api/v1/web-forms/{form['key']}/submissions"
    statuses = [cast.anonymous.request("POST", path, {"last_name": f"Spammer {n}"}).status for n in range(7)]
    assert statuses[:5] == [202] * 5  # SALES_WEB_FORM_RATE: 5 a minute from one address
    limited = cast.anonymous.request("POST", path, {"last_name": "One more"})
    assert limited.status == 429 and limited.headers.get("retry-after")

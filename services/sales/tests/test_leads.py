"""Leads through a real sales gRPC server on SQLite and PostgreSQL: scoring by editable rules with the
breakdown on the lead (attributes, and behaviour events consumed once each), round-robin assignment by
territory, status moves, and capture from a web form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
import pytest

from crm.sales.v1 import leads_pb2
from crm_platform.db import transaction
from crm_platform.errors import field_errors_from
from crm_platform.events.wire import Event
from crm_platform.testing.callers import caller_metadata
from sales.leads.behaviour import on_behaviour

ADMIN = caller_metadata("admin-1", "admin")
MARKETER = caller_metadata("mkt-1", "marketer", team_ids=("team-m",))


def _lead(sales: Any, metadata: Any = MARKETER, **fields: Any) -> leads_pb2.Lead:
    fields.setdefault("last_name", "Lovelace")
    return sales.leads.CreateLead(leads_pb2.CreateLeadRequest(**fields), metadata=metadata)


def _get(sales: Any, lead_id: str) -> leads_pb2.Lead:
    return sales.leads.GetLead(leads_pb2.GetLeadRequest(id=lead_id), metadata=ADMIN)


def _rule(sales: Any, name: str, points: int, **fields: Any) -> leads_pb2.LeadScoringRule:
    request = leads_pb2.CreateLeadScoringRuleRequest(name=name, points=points, **fields)
    return sales.scoring.CreateLeadScoringRule(request, metadata=ADMIN)


def _behaviour(sales: Any, event_id: str, event_type: str, **data: str) -> None:
    event = Event(event_id, event_type, "marketing", datetime.now(UTC), 1, dict(data))
    with transaction(sales.runtime.sessions) as session:
        on_behaviour(session, event)


def test_the_score_is_the_sum_of_matching_rules_with_its_breakdown_and_follows_every_change(
    sales: Any,
) -> None:
    target = _rule(sales, "Target industry", 10, field="industry", values=["Manufacturing", "Energy"])
    _rule(sales, "Home market", 5, field="country", values=["DE"])
    opened = _rule(sales, "Opened an email", 3, event_type="email_opened")
    lead = _lead(sales, industry="manufacturing", country="de", email="Ada@Example.com")
    assert lead.score == 15
    assert [(i.rule_name, i.points, i.reason) for i in lead.score_breakdown] == [
        ("Target industry", 10, 'industry is "manufacturing"'),
        ("Home market", 5, 'country is "DE"'),
    ]
    # Behaviour: each event once (a redelivery adds nothing), found by the lead's id or its email.
    _behaviour(sales, "ev-1", "email_opened", email="ada@example.com")
    _behaviour(sales, "ev-1", "email_opened", email="ada@example.com")
    _behaviour(sales, "ev-2", "email_opened", lead_id=lead.id)
    _behaviour(sales, "ev-3", "email_opened", email="someone-else@example.com")
    rescored = _get(sales, lead.id)
    assert rescored.score == 21
    assert rescored.score_breakdown[-1].rule_id == opened.id
    assert rescored.score_breakdown[-1].reason == "2 x email_opened"
    # An update of a scored field re-scores; so does a change of the rules.
    request = leads_pb2.UpdateLeadRequest(lead=leads_pb2.Lead(id=lead.id, industry="Retail"))
    request.update_mask.paths.append("industry")
    assert sales.leads.UpdateLead(request, metadata=MARKETER).score == 11
    sales.scoring.DeleteLeadScoringRule(leads_pb2.DeleteLeadScoringRuleRequest(id=opened.id), metadata=ADMIN)
    assert _get(sales, lead.id).score == 5
    change = leads_pb2.UpdateLeadScoringRuleRequest(
        rule=leads_pb2.LeadScoringRule(id=target.id, values=["Retail"])
    )
    change.update_mask.paths.append("values")
    sales.scoring.UpdateLeadScoringRule(change, metadata=ADMIN)
    assert _get(sales, lead.id).score == 15
    by_score = sales.leads.ListLeads(leads_pb2.ListLeadsRequest(filter="score >= 15"), metadata=ADMIN).items
    assert [x.id for x in by_score] == [lead.id]


def test_scoring_rules_are_checked_and_only_configurable_at_level_all(sales: Any) -> None:
    with pytest.raises(grpc.RpcError) as both:
        _rule(sales, "Both", 1, field="industry", values=["x"], event_type="email_opened")
    assert both.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as unknown:
        _rule(sales, "Shoe size", 1, field="shoe_size", values=["44"])
    assert "field" in field_errors_from(unknown.value)
    with pytest.raises(grpc.RpcError) as marketer:
        sales.scoring.CreateLeadScoringRule(
            leads_pb2.CreateLeadScoringRuleRequest(name="Mine", points=1, event_type="email_opened"),
            metadata=MARKETER,
        )
    assert marketer.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert (
        sales.scoring.ListLeadScoringRules(leads_pb2.ListLeadScoringRulesRequest(), metadata=MARKETER).items
        == []
    )


def test_leads_without_an_owner_go_round_robin_to_the_users_of_the_first_matching_territory(
    sales: Any,
) -> None:
    def rule(name: str, priority: int, users: list[str], **territory: Any) -> None:
        request = leads_pb2.CreateLeadAssignmentRuleRequest(
            name=name, priority=priority, user_ids=users, **territory
        )
        sales.assignment.CreateLeadAssignmentRule(request, metadata=ADMIN)

    rule("Bavaria", 1, ["bav-1"], countries=["DE"], regions=["Bayern"], team_id="team-south")
    rule("DACH", 2, ["u1", "u2", "u3"], countries=["de", "AT", "CH"], team_id="team-dach")
    owners = [_lead(sales, country=c).owner_id for c in ("DE", "AT", "DE", "CH", "DE")]
    assert owners == ["u1", "u2", "u3", "u1", "u2"]
    south = _lead(sales, country="DE", region="bayern")
    assert (south.owner_id, south.team_id) == ("bav-1", "team-south")
    elsewhere = _lead(sales, country="FR")  # no rule: the creator's
    assert (elsewhere.owner_id, elsewhere.team_id) == ("mkt-1", "team-m")
    chosen = _lead(sales, metadata=ADMIN, country="DE", owner_id="picked")  # an owner asked for wins
    assert chosen.owner_id == "picked"
    assert _lead(sales, country="AT").owner_id == "u3"  # the turn was not spent on it
    listed = sales.assignment.ListLeadAssignmentRules(
        leads_pb2.ListLeadAssignmentRulesRequest(), metadata=ADMIN
    )
    assert [r.name for r in listed.items] == ["Bavaria", "DACH"]


def test_status_moves_need_a_reason_to_disqualify_and_converted_only_comes_from_converting(
    sales: Any,
) -> None:
    lead = _lead(sales, source="trade_show", campaign_id="camp-1")
    assert (lead.status, lead.source, lead.campaign_id) == (leads_pb2.LEAD_STATUS_NEW, "trade_show", "camp-1")

    def set_status(status: int, reason: str = "") -> leads_pb2.Lead:
        request = leads_pb2.UpdateLeadRequest(
            lead=leads_pb2.Lead(id=lead.id, status=status, disqualified_reason=reason)
        )
        request.update_mask.paths.extend(["status", "disqualified_reason"])
        return sales.leads.UpdateLead(request, metadata=MARKETER)

    assert set_status(leads_pb2.LEAD_STATUS_WORKING).status == leads_pb2.LEAD_STATUS_WORKING
    with pytest.raises(grpc.RpcError) as no_reason:
        set_status(leads_pb2.LEAD_STATUS_DISQUALIFIED)
    assert "lead.disqualified_reason" in field_errors_from(no_reason.value)
    assert set_status(leads_pb2.LEAD_STATUS_DISQUALIFIED, "no budget").disqualified_reason == "no budget"
    with pytest.raises(grpc.RpcError) as converted:
        set_status(leads_pb2.LEAD_STATUS_CONVERTED)
    assert converted.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    moves = sales.outbox("lead_status_changed")
    assert [(e["from_status"], e["to_status"], e["actor_id"]) for e in moves] == [
        ("new", "working", "mkt-1"),
        ("working", "disqualified", "mkt-1"),
    ]
    assert moves[1]["disqualified_reason"] == "no budget"
    created = sales.outbox("lead_created")
    assert (created[0]["lead_id"], created[0]["source"], created[0]["actor_id"]) == (
        lead.id,
        "trade_show",
        "mkt-1",
    )


def test_a_web_form_captures_leads_with_its_source_and_campaign_within_its_rate(
    sales: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALES_WEB_FORM_RATE", "2/60")
    form = sales.forms.CreateLeadForm(
        leads_pb2.CreateLeadFormRequest(name="Contact us", campaign_id="spring"), metadata=ADMIN
    )
    assert len(form.key) >= 20 and form.source == "web_form"
    service = caller_metadata("gateway", "admin")
    submitted = sales.leads.SubmitWebForm(
        leads_pb2.SubmitWebFormRequest(
            form_key=form.key, lead=leads_pb2.CreateLeadRequest(last_name="Hopper", email="grace@example.com")
        ),
        metadata=service,
    )
    lead = _get(sales, submitted.lead_id)
    assert (lead.source, lead.campaign_id, lead.email) == ("web_form", "spring", "grace@example.com")
    assert lead.owner_id == ""  # no rule matched and no person captured it: nobody's until assigned
    with pytest.raises(grpc.RpcError) as unknown:
        sales.leads.SubmitWebForm(
            leads_pb2.SubmitWebFormRequest(form_key="nope", lead=leads_pb2.CreateLeadRequest(last_name="X")),
            metadata=service,
        )
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND

    def submit(address: str) -> Any:
        request = leads_pb2.SubmitWebFormRequest(
            form_key=form.key, lead=leads_pb2.CreateLeadRequest(last_name="Bot"), client_address=address
        )
        return sales.leads.SubmitWebForm(request, metadata=service)

    submit("203.0.113.7")
    submit("203.0.113.7")
    with pytest.raises(grpc.RpcError) as limited:
        submit("203.0.113.7")
    assert limited.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert submit("198.51.100.1").lead_id  # another address has its own count
    with pytest.raises(grpc.RpcError) as anonymous:  # a caller without the right to create leads
        sales.leads.SubmitWebForm(
            leads_pb2.SubmitWebFormRequest(
                form_key=form.key, lead=leads_pb2.CreateLeadRequest(last_name="X")
            ),
            metadata=caller_metadata("svc", "read_only"),
        )
    assert anonymous.value.code() == grpc.StatusCode.PERMISSION_DENIED

"""The leads gRPC servicers (`crm.sales.v1.LeadsService`, `LeadScoringRulesService`,
`LeadAssignmentRulesService`, `LeadFormsService`).

Leads use the chassis' standard methods (idempotency, etags, history, scope, outbox events), with what is
particular to them: assignment by rules on capture, the score recomputed with every change of what it
depends on, status moves checked by the domain, and conversion through the contacts service
(`contacts_link`). The rules and forms are configuration (`check_configuration_right`).
"""

from __future__ import annotations

import uuid
from typing import Any

import grpc
from google.protobuf import empty_pb2
from sqlalchemy import delete
from sqlalchemy.orm import Session

from crm.common.v1 import history_pb2
from crm.sales.v1 import leads_pb2, leads_pb2_grpc
from crm_platform.access import Ownership, assign_ownership, require
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading, utcnow
from crm_platform.errors import FailedPrecondition, InvalidArgument, NotFound
from crm_platform.resources import (
    Action,
    Change,
    ResourceEvents,
    StandardMethods,
    actor_of,
    check_etag,
    compare_and_set,
    idempotent_write,
    record_change,
)
from crm_platform.resources.field_mask import check_mask
from crm_platform.resources.history import jsonable
from crm_platform.service import Runtime, ServiceDefinition
from sales.deals import writes as deal_writes
from sales.deals.api import amount_of
from sales.deals.store import check_configuration_right
from sales.leads import domain, events, store, web_forms
from sales.leads.contacts_link import ContactsLink, LeadPerson, forwarded_caller

DEFAULT_SOURCE = "api"


def _new_lead(request: leads_pb2.CreateLeadRequest, source: str = "", campaign_id: str = "") -> store.Lead:
    """The lead's own fields from a create request (ownership, status and score come later)."""
    return store.Lead(
        first_name=request.first_name.strip() or None,
        last_name=request.last_name.strip(),
        email=request.email.strip().lower() or None,
        phone=request.phone.strip() or None,
        company=request.company.strip() or None,
        company_domain=request.company_domain.strip().lower() or None,
        title=request.title.strip() or None,
        industry=request.industry.strip() or None,
        country=request.country.upper() or None,
        region=request.region.strip() or None,
        source=source or request.source.strip() or DEFAULT_SOURCE,
        campaign_id=campaign_id or request.campaign_id or None,
        notes=request.notes or None,
    )


def capture(
    session: Session, lead: store.Lead, actor_id: str, ownership: Ownership | None, *, assign: bool
) -> Change[store.Lead]:
    """Inserts a new lead (status new): assigned by the rules when `assign` (no owner asked for), scored."""
    lead.id = str(uuid.uuid4())
    lead.status = domain.NEW
    lead.score, lead.score_breakdown = 0, []
    if ownership is not None:
        lead.owner_id, lead.team_id = ownership.owner_id, ownership.team_id
        lead.partner_account_id = ownership.partner_account_id
    if assign:
        assigned = store.assign(session, lead.country or "", lead.region or "")
        if assigned is not None:
            lead.owner_id, team = assigned
            lead.team_id = team or lead.team_id
    store.rescore(session, lead, store.scoring_rules(session))
    return store.leads.create(session, lead, actor_id)


def _rescored_update(session: Session, *args: Any, **kwargs: Any) -> Change[store.Lead]:
    """The repository's update, then the score of the lead as it now is."""
    change = store.leads.update(session, *args, **kwargs)
    if change.changes and store.rescore(session, change.row, store.scoring_rules(session)):
        session.flush()
    return change


class LeadsServicer(leads_pb2_grpc.LeadsServiceServicer):
    def __init__(self, runtime: Runtime, contacts: ContactsLink | None = None) -> None:
        self.sessions = runtime.sessions
        self.contacts = contacts or ContactsLink()
        self.leads = StandardMethods(
            runtime.sessions,
            store.leads,
            leads_pb2.Lead,
            list_spec=store.LIST_SPEC,
            listed=store.active_leads,
            events=ResourceEvents(
                created=events.record_lead_created,
                updated=events.record_lead_updated,
                archived=events.record_lead_archived,
            ),
        )

    def CreateLead(
        self, request: leads_pb2.CreateLeadRequest, context: grpc.ServicerContext
    ) -> leads_pb2.Lead:
        def add(session: Session, actor_id: str, ownership: Ownership | None) -> Change[Any]:
            return capture(session, _new_lead(request), actor_id, ownership, assign=not request.owner_id)

        return self.leads.create(context, request, add=add)

    def GetLead(self, request: leads_pb2.GetLeadRequest, context: grpc.ServicerContext) -> leads_pb2.Lead:
        return self.leads.get(request.id)

    def ListLeads(
        self, request: leads_pb2.ListLeadsRequest, context: grpc.ServicerContext
    ) -> leads_pb2.ListLeadsResponse:
        return leads_pb2.ListLeadsResponse(**self.leads.list(request))

    def UpdateLead(
        self, request: leads_pb2.UpdateLeadRequest, context: grpc.ServicerContext
    ) -> leads_pb2.Lead:
        before: list[str] = []

        def prepare(merged: leads_pb2.Lead) -> None:
            status = store.to_columns(merged)["status"]
            domain.check_status_change(before[0] if before else status, status, merged.disqualified_reason)
            merged.email = merged.email.strip().lower()
            merged.country = merged.country.upper()

        def apply(session: Session, lead_id: str, *args: Any, **kwargs: Any) -> Change[store.Lead]:
            current = session.get(store.Lead, lead_id)
            before[:] = [current.status] if current is not None else []
            return _rescored_update(session, lead_id, *args, **kwargs)

        return self.leads.update(context, request, request.lead, apply=apply, prepare=prepare)

    def DeleteLead(
        self, request: leads_pb2.DeleteLeadRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        return self.leads.delete(context, request)

    def ListLeadHistory(
        self, request: leads_pb2.ListLeadHistoryRequest, context: grpc.ServicerContext
    ) -> history_pb2.ListHistoryResponse:
        return self.leads.history(request)  # type: ignore[arg-type]

    def ConvertLead(
        self, request: leads_pb2.ConvertLeadRequest, context: grpc.ServicerContext
    ) -> leads_pb2.ConvertLeadResponse:
        caller = current_caller_or_none()
        deal_amount = amount_of(request, "deal_amount")
        # First, what the lead is (in the caller's update scope); a converted lead answers what it became.
        with reading(self.sessions) as session:
            lead = store.leads.get(session, request.id, caller=caller, action="update")
            if lead.status == domain.CONVERTED:
                return _converted(lead)
            if lead.archived_at is not None:
                raise FailedPrecondition(f"lead {lead.id} is archived; restore it before converting")
            domain.check_convertible(lead.first_name or "", lead.last_name, lead.email or "")
            # The deal is the caller's to create, owned like the lead (refused before anything is made).
            deal_owner = Ownership(lead.owner_id, lead.team_id, lead.partner_account_id)
            if request.create_deal and caller is not None:
                deal_owner = assign_ownership(
                    caller,
                    "deal",
                    "create",
                    owner_id=lead.owner_id,
                    team_id=lead.team_id,
                    partner_account_id=lead.partner_account_id,
                )
            person = LeadPerson(
                **{name: getattr(lead, name) or "" for name in LeadPerson.__dataclass_fields__}
            )
        # Then the contact and company in contacts, as the caller (deduplicated there, so a retry or a
        # concurrent conversion finds the same ones), outside any transaction of ours.
        metadata = forwarded_caller(context)
        contact_id = self.contacts.contact_for(person, metadata)
        company_id = self.contacts.company_for(person, metadata)
        if company_id:
            self.contacts.link(company_id, contact_id, person.title, metadata)
        # Last, the lead (compare-and-set: one conversion wins) and the deal, in one transaction.
        with idempotent_write(self.sessions, context, request, leads_pb2.ConvertLeadResponse) as write:
            if write.replay is not None:
                return write.replay
            lead = store.leads.get(write.session, request.id, for_update=True, caller=caller, action="update")
            if lead.status == domain.CONVERTED:
                return write.respond(_converted(lead))
            actor = actor_of(context)
            deal_id = ""
            if request.create_deal:
                deal = deal_writes.add_deal(
                    write.session,
                    deal_writes.NewDeal(
                        title=request.deal_title.strip()
                        or lead.company
                        or f"{person.first_name} {lead.last_name}",
                        pipeline_id=request.pipeline_id,
                        amount=deal_amount,
                        contact_id=contact_id,
                        company_id=company_id,
                        lead_id=lead.id,
                    ),
                    actor,
                    deal_owner,
                )
                deal_writes.announce_created(write.session, deal)
                deal_id = deal.row.id
            _mark_converted(write.session, lead, contact_id, company_id, deal_id, actor)
            return write.respond(_converted(lead))

    def SubmitWebForm(
        self, request: leads_pb2.SubmitWebFormRequest, context: grpc.ServicerContext
    ) -> leads_pb2.SubmitWebFormResponse:
        caller = current_caller_or_none()
        if caller is not None:  # the gateway's service caller, with the right to create leads
            require(caller, store.leads.resource_type, "create")
        with idempotent_write(self.sessions, context, request, leads_pb2.SubmitWebFormResponse) as write:
            if write.replay is not None:
                return write.replay
            form = store.form_by_key(write.session, request.form_key)
            web_forms.admit(write.session, form.id, request.client_address)
            lead = _new_lead(request.lead, source=form.source, campaign_id=form.campaign_id or "")
            ownership = Ownership(None, None, form.partner_account_id)
            change = capture(write.session, lead, actor_of(context), ownership, assign=True)
            events.record_lead_created(write.session, change)
            return write.respond(leads_pb2.SubmitWebFormResponse(lead_id=change.row.id))


def _mark_converted(
    session: Session, lead: store.Lead, contact_id: str, company_id: str, deal_id: str, actor_id: str
) -> None:
    """The lead becomes converted (history and events: lead_status_changed, lead_converted)."""
    now = utcnow()
    before = lead.status
    values = {
        "status": domain.CONVERTED,
        "converted_contact_id": contact_id,
        "converted_company_id": company_id or None,
        "converted_deal_id": deal_id or None,
        "converted_at": now,
        "updated_at": now,
    }
    changes = [
        (name, jsonable(getattr(lead, name)), jsonable(value))
        for name, value in values.items()
        if name != "updated_at"
    ]
    version = compare_and_set(session, store.Lead, lead.id, lead.version, values)
    record_change(
        session, store.leads.resource_type, lead.id, Action.UPDATED, actor_id, changes, occurred_at=now
    )
    events.record_status_changed(session, lead, before, actor_id, version)
    events.record_lead_converted(session, lead, actor_id)


def _converted(lead: Any) -> leads_pb2.ConvertLeadResponse:
    return leads_pb2.ConvertLeadResponse(
        lead_id=lead.id,
        contact_id=lead.converted_contact_id or "",
        company_id=lead.converted_company_id or "",
        deal_id=lead.converted_deal_id or "",
    )


class LeadScoringRulesServicer(leads_pb2_grpc.LeadScoringRulesServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def CreateLeadScoringRule(
        self, request: leads_pb2.CreateLeadScoringRuleRequest, context: grpc.ServicerContext
    ) -> leads_pb2.LeadScoringRule:
        check_configuration_right(current_caller_or_none(), store.SCORING_RULE, "create")
        field, values, event_type = domain.check_scoring_rule(
            request.field, request.values, request.event_type
        )
        with idempotent_write(self.sessions, context, request, leads_pb2.LeadScoringRule) as write:
            if write.replay is not None:
                return write.replay
            now = utcnow()
            rule = store.LeadScoringRule(
                id=str(uuid.uuid4()),
                name=request.name.strip(),
                field=field or None,
                values=list(values),
                event_type=event_type or None,
                points=request.points,
                version=1,
                created_at=now,
                updated_at=now,
            )
            write.session.add(rule)
            write.session.flush()
            store.rescore_open_leads(write.session)
            return write.respond(store.scoring_rule_message(rule))

    def GetLeadScoringRule(
        self, request: leads_pb2.GetLeadScoringRuleRequest, context: grpc.ServicerContext
    ) -> leads_pb2.LeadScoringRule:
        check_configuration_right(current_caller_or_none(), store.SCORING_RULE, "read")
        with reading(self.sessions) as session:
            return store.scoring_rule_message(store.get_scoring_rule(session, request.id, for_update=False))

    def ListLeadScoringRules(
        self, request: leads_pb2.ListLeadScoringRulesRequest, context: grpc.ServicerContext
    ) -> leads_pb2.ListLeadScoringRulesResponse:
        check_configuration_right(current_caller_or_none(), store.SCORING_RULE, "read")
        with reading(self.sessions) as session:
            rows = session.scalars(
                store.select(store.LeadScoringRule).order_by(
                    store.LeadScoringRule.created_at, store.LeadScoringRule.id
                )
            )
            return leads_pb2.ListLeadScoringRulesResponse(items=[store.scoring_rule_message(r) for r in rows])

    def UpdateLeadScoringRule(
        self, request: leads_pb2.UpdateLeadScoringRuleRequest, context: grpc.ServicerContext
    ) -> leads_pb2.LeadScoringRule:
        check_configuration_right(current_caller_or_none(), store.SCORING_RULE, "update")
        paths = list(request.update_mask.paths)
        check_mask(leads_pb2.LeadScoringRule.DESCRIPTOR, paths)
        asked = request.rule
        with idempotent_write(self.sessions, context, request, leads_pb2.LeadScoringRule) as write:
            if write.replay is not None:
                return write.replay
            rule = store.get_scoring_rule(write.session, asked.id)
            check_etag(rule.id, rule.version, asked.etag)
            merged = store.scoring_rule_message(rule)
            for path in paths:
                merged.ClearField(path)
                if path == "values":
                    merged.values.extend(asked.values)
                else:
                    setattr(merged, path, getattr(asked, path))
            field, values, event_type = domain.check_scoring_rule(
                merged.field, merged.values, merged.event_type
            )
            if not merged.name.strip():
                raise InvalidArgument("name required", {"rule.name": "is required"})
            rule.name, rule.field, rule.values = merged.name.strip(), field or None, list(values)
            rule.event_type, rule.points = event_type or None, merged.points
            rule.version += 1
            rule.updated_at = utcnow()
            write.session.flush()
            store.rescore_open_leads(write.session)
            return write.respond(store.scoring_rule_message(rule))

    def DeleteLeadScoringRule(
        self, request: leads_pb2.DeleteLeadScoringRuleRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        check_configuration_right(current_caller_or_none(), store.SCORING_RULE, "delete")
        with idempotent_write(self.sessions, context, request, empty_pb2.Empty) as write:
            if write.replay is not None:
                return write.replay
            write.session.delete(store.get_scoring_rule(write.session, request.id))
            write.session.flush()
            store.rescore_open_leads(write.session)
            return write.respond(empty_pb2.Empty())


class LeadAssignmentRulesServicer(leads_pb2_grpc.LeadAssignmentRulesServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def CreateLeadAssignmentRule(
        self, request: leads_pb2.CreateLeadAssignmentRuleRequest, context: grpc.ServicerContext
    ) -> leads_pb2.LeadAssignmentRule:
        check_configuration_right(current_caller_or_none(), store.ASSIGNMENT_RULE, "create")
        with idempotent_write(self.sessions, context, request, leads_pb2.LeadAssignmentRule) as write:
            if write.replay is not None:
                return write.replay
            return write.respond(
                store.assignment_rule_message(store.add_assignment_rule(write.session, request))
            )

    def GetLeadAssignmentRule(
        self, request: leads_pb2.GetLeadAssignmentRuleRequest, context: grpc.ServicerContext
    ) -> leads_pb2.LeadAssignmentRule:
        check_configuration_right(current_caller_or_none(), store.ASSIGNMENT_RULE, "read")
        with reading(self.sessions) as session:
            return store.assignment_rule_message(store.get_assignment_rule(session, request.id))

    def ListLeadAssignmentRules(
        self, request: leads_pb2.ListLeadAssignmentRulesRequest, context: grpc.ServicerContext
    ) -> leads_pb2.ListLeadAssignmentRulesResponse:
        check_configuration_right(current_caller_or_none(), store.ASSIGNMENT_RULE, "read")
        with reading(self.sessions) as session:
            items = [store.assignment_rule_message(r) for r in store.assignment_rules(session)]
        return leads_pb2.ListLeadAssignmentRulesResponse(items=items)

    def DeleteLeadAssignmentRule(
        self, request: leads_pb2.DeleteLeadAssignmentRuleRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        check_configuration_right(current_caller_or_none(), store.ASSIGNMENT_RULE, "delete")
        with idempotent_write(self.sessions, context, request, empty_pb2.Empty) as write:
            if write.replay is not None:
                return write.replay
            gone = write.session.execute(
                delete(store.LeadAssignmentRule).where(store.LeadAssignmentRule.id == request.id)
            )
            if not gone.rowcount:  # type: ignore[attr-defined]
                raise NotFound(f"lead assignment rule {request.id} not found")
            return write.respond(empty_pb2.Empty())


class LeadFormsServicer(leads_pb2_grpc.LeadFormsServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def CreateLeadForm(
        self, request: leads_pb2.CreateLeadFormRequest, context: grpc.ServicerContext
    ) -> leads_pb2.LeadForm:
        check_configuration_right(current_caller_or_none(), store.ASSIGNMENT_RULE, "create")
        with idempotent_write(self.sessions, context, request, leads_pb2.LeadForm) as write:
            if write.replay is not None:
                return write.replay
            return write.respond(store.form_message(store.add_form(write.session, request)))

    def GetLeadForm(
        self, request: leads_pb2.GetLeadFormRequest, context: grpc.ServicerContext
    ) -> leads_pb2.LeadForm:
        check_configuration_right(current_caller_or_none(), store.ASSIGNMENT_RULE, "read")
        with reading(self.sessions) as session:
            return store.form_message(store.get_form(session, request.id))

    def ListLeadForms(
        self, request: leads_pb2.ListLeadFormsRequest, context: grpc.ServicerContext
    ) -> leads_pb2.ListLeadFormsResponse:
        check_configuration_right(current_caller_or_none(), store.ASSIGNMENT_RULE, "read")
        with reading(self.sessions) as session:
            forms = session.scalars(store.select(store.LeadForm).order_by(store.LeadForm.created_at))
            return leads_pb2.ListLeadFormsResponse(items=[store.form_message(f) for f in forms])


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    leads_pb2_grpc.add_LeadsServiceServicer_to_server(LeadsServicer(runtime), server)
    leads_pb2_grpc.add_LeadScoringRulesServiceServicer_to_server(LeadScoringRulesServicer(runtime), server)
    leads_pb2_grpc.add_LeadAssignmentRulesServiceServicer_to_server(
        LeadAssignmentRulesServicer(runtime), server
    )
    leads_pb2_grpc.add_LeadFormsServiceServicer_to_server(LeadFormsServicer(runtime), server)
    services = leads_pb2.DESCRIPTOR.services_by_name
    return [s.full_name for s in services.values()]


def install(definition: ServiceDefinition) -> ServiceDefinition:
    """Serve leads and their rules from `definition`'s process; the worker re-scores on behaviour events."""
    from sales.leads.behaviour import SUBSCRIPTIONS

    return definition.include(register, subscriptions=SUBSCRIPTIONS)

"""MergeService of the contacts service: duplicate candidates of a contact, and merges of contacts and of
companies (contacts.merge.execution).

A merge runs in `idempotent_write` (a retried POST with the same Idempotency-Key replays the answer);
one that waited too long for records another merge holds is ABORTED, having changed nothing. A
dry run runs the very same merge in a transaction that is rolled back, so it shows exactly what the merge
would make of the survivor and refuses exactly what the merge would refuse, and changes nothing.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf.message import Message
from sqlalchemy.orm import Session, sessionmaker

from contacts import store
from contacts.merge import duplicates, execution, tombstones
from contacts.merge.companies import COMPANIES
from contacts.merge.guard import contention_aborts
from contacts.merge.people import PEOPLE
from crm.contacts.v1 import merge_pb2, merge_pb2_grpc
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading
from crm_platform.resources import idempotent_write
from crm_platform.resources.methods import actor_of
from crm_platform.service import Runtime


@contention_aborts  # a merge that waited too long for records another one holds changed nothing
def _merge(
    sessions: sessionmaker[Session],
    context: grpc.ServicerContext,
    request: Any,
    kind: execution.Kind,
    answer: type[Message],
    field: str,
) -> Any:
    def run(session: Session) -> Any:
        outcome = execution.merge(
            session,
            kind,
            request.id,
            list(request.source_ids),
            dict(request.field_choices),
            actor_id=actor_of(context),
            caller=current_caller_or_none(),
        )
        return answer(**{field: outcome.survivor}, merged_ids=outcome.merged_ids, dry_run=request.dry_run)

    if request.dry_run:
        session = sessions()
        try:
            return run(session)
        finally:
            session.rollback()
            session.close()
    with idempotent_write(sessions, context, request, answer) as write:
        if write.replay is not None:
            return write.replay
        return write.respond(run(write.session))


class MergeServicer(merge_pb2_grpc.MergeServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def ListContactDuplicates(
        self, request: merge_pb2.ListContactDuplicatesRequest, context: grpc.ServicerContext
    ) -> merge_pb2.ListContactDuplicatesResponse:
        caller = current_caller_or_none()
        with reading(self.sessions) as session:
            contact = tombstones.read_live(session.connection(), store.contacts, request.id, caller)
            found = duplicates.candidates(session, contact, caller, request.limit)
            return merge_pb2.ListContactDuplicatesResponse(items=duplicates.as_messages(found))

    def MergeContacts(
        self, request: merge_pb2.MergeContactsRequest, context: grpc.ServicerContext
    ) -> merge_pb2.MergeContactsResponse:
        return _merge(self.sessions, context, request, PEOPLE, merge_pb2.MergeContactsResponse, "contact")

    def MergeCompanies(
        self, request: merge_pb2.MergeCompaniesRequest, context: grpc.ServicerContext
    ) -> merge_pb2.MergeCompaniesResponse:
        return _merge(self.sessions, context, request, COMPANIES, merge_pb2.MergeCompaniesResponse, "company")


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    merge_pb2_grpc.add_MergeServiceServicer_to_server(MergeServicer(runtime), server)
    return [merge_pb2.DESCRIPTOR.services_by_name["MergeService"].full_name]

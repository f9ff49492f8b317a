import datetime

from buf.validate import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from crm.common.v1 import history_pb2 as _history_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InteractionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INTERACTION_KIND_UNSPECIFIED: _ClassVar[InteractionKind]
    INTERACTION_KIND_CALL: _ClassVar[InteractionKind]
    INTERACTION_KIND_EMAIL: _ClassVar[InteractionKind]
    INTERACTION_KIND_TEXT: _ClassVar[InteractionKind]
    INTERACTION_KIND_MEETING: _ClassVar[InteractionKind]
    INTERACTION_KIND_NOTE: _ClassVar[InteractionKind]

class InteractionDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INTERACTION_DIRECTION_UNSPECIFIED: _ClassVar[InteractionDirection]
    INTERACTION_DIRECTION_INBOUND: _ClassVar[InteractionDirection]
    INTERACTION_DIRECTION_OUTBOUND: _ClassVar[InteractionDirection]
INTERACTION_KIND_UNSPECIFIED: InteractionKind
INTERACTION_KIND_CALL: InteractionKind
INTERACTION_KIND_EMAIL: InteractionKind
INTERACTION_KIND_TEXT: InteractionKind
INTERACTION_KIND_MEETING: InteractionKind
INTERACTION_KIND_NOTE: InteractionKind
INTERACTION_DIRECTION_UNSPECIFIED: InteractionDirection
INTERACTION_DIRECTION_INBOUND: InteractionDirection
INTERACTION_DIRECTION_OUTBOUND: InteractionDirection

class Interaction(_message.Message):
    __slots__ = ("id", "contact_id", "kind", "direction", "channel", "occurred_at", "duration_seconds", "subject", "summary", "outcome", "deal_id", "ticket_id", "owner_id", "team_id", "partner_account_id", "actor_id", "created_at", "updated_at", "archived_at", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    contact_id: str
    kind: InteractionKind
    direction: InteractionDirection
    channel: str
    occurred_at: _timestamp_pb2.Timestamp
    duration_seconds: int
    subject: str
    summary: str
    outcome: str
    deal_id: str
    ticket_id: str
    owner_id: str
    team_id: str
    partner_account_id: str
    actor_id: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    archived_at: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., contact_id: _Optional[str] = ..., kind: _Optional[_Union[InteractionKind, str]] = ..., direction: _Optional[_Union[InteractionDirection, str]] = ..., channel: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration_seconds: _Optional[int] = ..., subject: _Optional[str] = ..., summary: _Optional[str] = ..., outcome: _Optional[str] = ..., deal_id: _Optional[str] = ..., ticket_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., archived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class CreateInteractionRequest(_message.Message):
    __slots__ = ("contact_id", "kind", "direction", "channel", "occurred_at", "duration_seconds", "subject", "summary", "outcome", "deal_id", "ticket_id", "owner_id", "team_id", "partner_account_id")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    kind: InteractionKind
    direction: InteractionDirection
    channel: str
    occurred_at: _timestamp_pb2.Timestamp
    duration_seconds: int
    subject: str
    summary: str
    outcome: str
    deal_id: str
    ticket_id: str
    owner_id: str
    team_id: str
    partner_account_id: str
    def __init__(self, contact_id: _Optional[str] = ..., kind: _Optional[_Union[InteractionKind, str]] = ..., direction: _Optional[_Union[InteractionDirection, str]] = ..., channel: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration_seconds: _Optional[int] = ..., subject: _Optional[str] = ..., summary: _Optional[str] = ..., outcome: _Optional[str] = ..., deal_id: _Optional[str] = ..., ticket_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ...) -> None: ...

class GetInteractionRequest(_message.Message):
    __slots__ = ("contact_id", "id")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    id: str
    def __init__(self, contact_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class ListInteractionsRequest(_message.Message):
    __slots__ = ("contact_id", "limit", "cursor", "filter", "order_by")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    limit: int
    cursor: str
    filter: str
    order_by: str
    def __init__(self, contact_id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ..., filter: _Optional[str] = ..., order_by: _Optional[str] = ...) -> None: ...

class ListInteractionsResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Interaction]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[Interaction, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class UpdateInteractionRequest(_message.Message):
    __slots__ = ("interaction", "update_mask")
    INTERACTION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    interaction: Interaction
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, interaction: _Optional[_Union[Interaction, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteInteractionRequest(_message.Message):
    __slots__ = ("contact_id", "id", "etag")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    id: str
    etag: str
    def __init__(self, contact_id: _Optional[str] = ..., id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class ListInteractionHistoryRequest(_message.Message):
    __slots__ = ("contact_id", "id", "limit", "cursor")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    id: str
    limit: int
    cursor: str
    def __init__(self, contact_id: _Optional[str] = ..., id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class InteractionLogged(_message.Message):
    __slots__ = ("interaction", "actor_id", "version")
    INTERACTION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    interaction: Interaction
    actor_id: str
    version: int
    def __init__(self, interaction: _Optional[_Union[Interaction, _Mapping]] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class InteractionUpdated(_message.Message):
    __slots__ = ("interaction", "actor_id", "version", "changed_fields")
    INTERACTION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    interaction: Interaction
    actor_id: str
    version: int
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, interaction: _Optional[_Union[Interaction, _Mapping]] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., changed_fields: _Optional[_Iterable[str]] = ...) -> None: ...

class InteractionArchived(_message.Message):
    __slots__ = ("interaction", "actor_id", "version")
    INTERACTION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    interaction: Interaction
    actor_id: str
    version: int
    def __init__(self, interaction: _Optional[_Union[Interaction, _Mapping]] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

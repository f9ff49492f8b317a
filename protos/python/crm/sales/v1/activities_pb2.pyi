import datetime

from buf.validate import validate_pb2 as _validate_pb2
from crm.common.v1 import history_pb2 as _history_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaskPriority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_PRIORITY_UNSPECIFIED: _ClassVar[TaskPriority]
    TASK_PRIORITY_LOW: _ClassVar[TaskPriority]
    TASK_PRIORITY_NORMAL: _ClassVar[TaskPriority]
    TASK_PRIORITY_HIGH: _ClassVar[TaskPriority]

class TaskStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_STATUS_UNSPECIFIED: _ClassVar[TaskStatus]
    TASK_STATUS_OPEN: _ClassVar[TaskStatus]
    TASK_STATUS_DONE: _ClassVar[TaskStatus]
TASK_PRIORITY_UNSPECIFIED: TaskPriority
TASK_PRIORITY_LOW: TaskPriority
TASK_PRIORITY_NORMAL: TaskPriority
TASK_PRIORITY_HIGH: TaskPriority
TASK_STATUS_UNSPECIFIED: TaskStatus
TASK_STATUS_OPEN: TaskStatus
TASK_STATUS_DONE: TaskStatus

class Task(_message.Message):
    __slots__ = ("id", "title", "notes", "contact_id", "deal_id", "lead_id", "due_at", "priority", "status", "completed_at", "reminder_minutes_before", "owner_id", "team_id", "partner_account_id", "created_at", "updated_at", "archived_at", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    REMINDER_MINUTES_BEFORE_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    notes: str
    contact_id: str
    deal_id: str
    lead_id: str
    due_at: _timestamp_pb2.Timestamp
    priority: TaskPriority
    status: TaskStatus
    completed_at: _timestamp_pb2.Timestamp
    reminder_minutes_before: _containers.RepeatedScalarFieldContainer[int]
    owner_id: str
    team_id: str
    partner_account_id: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    archived_at: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., notes: _Optional[str] = ..., contact_id: _Optional[str] = ..., deal_id: _Optional[str] = ..., lead_id: _Optional[str] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., priority: _Optional[_Union[TaskPriority, str]] = ..., status: _Optional[_Union[TaskStatus, str]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reminder_minutes_before: _Optional[_Iterable[int]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., archived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class CreateTaskRequest(_message.Message):
    __slots__ = ("title", "notes", "contact_id", "deal_id", "lead_id", "due_at", "priority", "reminder_minutes_before", "owner_id", "team_id", "partner_account_id")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    REMINDER_MINUTES_BEFORE_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    title: str
    notes: str
    contact_id: str
    deal_id: str
    lead_id: str
    due_at: _timestamp_pb2.Timestamp
    priority: TaskPriority
    reminder_minutes_before: _containers.RepeatedScalarFieldContainer[int]
    owner_id: str
    team_id: str
    partner_account_id: str
    def __init__(self, title: _Optional[str] = ..., notes: _Optional[str] = ..., contact_id: _Optional[str] = ..., deal_id: _Optional[str] = ..., lead_id: _Optional[str] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., priority: _Optional[_Union[TaskPriority, str]] = ..., reminder_minutes_before: _Optional[_Iterable[int]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ...) -> None: ...

class GetTaskRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListTasksRequest(_message.Message):
    __slots__ = ("limit", "cursor", "filter", "order_by")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    limit: int
    cursor: str
    filter: str
    order_by: str
    def __init__(self, limit: _Optional[int] = ..., cursor: _Optional[str] = ..., filter: _Optional[str] = ..., order_by: _Optional[str] = ...) -> None: ...

class ListTasksResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Task]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[Task, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class UpdateTaskRequest(_message.Message):
    __slots__ = ("task", "update_mask")
    TASK_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    task: Task
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, task: _Optional[_Union[Task, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteTaskRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class ListTaskHistoryRequest(_message.Message):
    __slots__ = ("id", "limit", "cursor")
    ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    limit: int
    cursor: str
    def __init__(self, id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class CompleteTaskRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class ReopenTaskRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class Attendee(_message.Message):
    __slots__ = ("name", "email", "contact_id", "user_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    email: str
    contact_id: str
    user_id: str
    def __init__(self, name: _Optional[str] = ..., email: _Optional[str] = ..., contact_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class Appointment(_message.Message):
    __slots__ = ("id", "title", "notes", "contact_id", "deal_id", "lead_id", "start_at", "end_at", "location", "attendees", "reminder_minutes_before", "owner_id", "team_id", "partner_account_id", "created_at", "updated_at", "archived_at", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    START_AT_FIELD_NUMBER: _ClassVar[int]
    END_AT_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    ATTENDEES_FIELD_NUMBER: _ClassVar[int]
    REMINDER_MINUTES_BEFORE_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    notes: str
    contact_id: str
    deal_id: str
    lead_id: str
    start_at: _timestamp_pb2.Timestamp
    end_at: _timestamp_pb2.Timestamp
    location: str
    attendees: _containers.RepeatedCompositeFieldContainer[Attendee]
    reminder_minutes_before: _containers.RepeatedScalarFieldContainer[int]
    owner_id: str
    team_id: str
    partner_account_id: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    archived_at: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., notes: _Optional[str] = ..., contact_id: _Optional[str] = ..., deal_id: _Optional[str] = ..., lead_id: _Optional[str] = ..., start_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., location: _Optional[str] = ..., attendees: _Optional[_Iterable[_Union[Attendee, _Mapping]]] = ..., reminder_minutes_before: _Optional[_Iterable[int]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., archived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class CreateAppointmentRequest(_message.Message):
    __slots__ = ("title", "notes", "contact_id", "deal_id", "lead_id", "start_at", "end_at", "location", "attendees", "reminder_minutes_before", "owner_id", "team_id", "partner_account_id")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    START_AT_FIELD_NUMBER: _ClassVar[int]
    END_AT_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    ATTENDEES_FIELD_NUMBER: _ClassVar[int]
    REMINDER_MINUTES_BEFORE_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    title: str
    notes: str
    contact_id: str
    deal_id: str
    lead_id: str
    start_at: _timestamp_pb2.Timestamp
    end_at: _timestamp_pb2.Timestamp
    location: str
    attendees: _containers.RepeatedCompositeFieldContainer[Attendee]
    reminder_minutes_before: _containers.RepeatedScalarFieldContainer[int]
    owner_id: str
    team_id: str
    partner_account_id: str
    def __init__(self, title: _Optional[str] = ..., notes: _Optional[str] = ..., contact_id: _Optional[str] = ..., deal_id: _Optional[str] = ..., lead_id: _Optional[str] = ..., start_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., location: _Optional[str] = ..., attendees: _Optional[_Iterable[_Union[Attendee, _Mapping]]] = ..., reminder_minutes_before: _Optional[_Iterable[int]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ...) -> None: ...

class GetAppointmentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListAppointmentsRequest(_message.Message):
    __slots__ = ("limit", "cursor", "filter", "order_by")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    limit: int
    cursor: str
    filter: str
    order_by: str
    def __init__(self, limit: _Optional[int] = ..., cursor: _Optional[str] = ..., filter: _Optional[str] = ..., order_by: _Optional[str] = ...) -> None: ...

class ListAppointmentsResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Appointment]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[Appointment, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class UpdateAppointmentRequest(_message.Message):
    __slots__ = ("appointment", "update_mask")
    APPOINTMENT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    appointment: Appointment
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, appointment: _Optional[_Union[Appointment, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteAppointmentRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class ListAppointmentHistoryRequest(_message.Message):
    __slots__ = ("id", "limit", "cursor")
    ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    limit: int
    cursor: str
    def __init__(self, id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class CalendarFeed(_message.Message):
    __slots__ = ("id", "name", "user_id", "url", "token", "created_at", "last_read_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_READ_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    user_id: str
    url: str
    token: str
    created_at: _timestamp_pb2.Timestamp
    last_read_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., user_id: _Optional[str] = ..., url: _Optional[str] = ..., token: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_read_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateCalendarFeedRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListCalendarFeedsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCalendarFeedsResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[CalendarFeed]
    def __init__(self, items: _Optional[_Iterable[_Union[CalendarFeed, _Mapping]]] = ...) -> None: ...

class DeleteCalendarFeedRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RenderCalendarFeedRequest(_message.Message):
    __slots__ = ("token",)
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: str
    def __init__(self, token: _Optional[str] = ...) -> None: ...

class TaskChanged(_message.Message):
    __slots__ = ("task_id", "title", "contact_id", "deal_id", "lead_id", "owner_id", "team_id", "partner_account_id", "actor_id", "version", "changed_fields", "changes", "changed_at", "task")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    title: str
    contact_id: str
    deal_id: str
    lead_id: str
    owner_id: str
    team_id: str
    partner_account_id: str
    actor_id: str
    version: int
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    changes: _containers.RepeatedCompositeFieldContainer[_history_pb2.FieldChange]
    changed_at: _timestamp_pb2.Timestamp
    task: Task
    def __init__(self, task_id: _Optional[str] = ..., title: _Optional[str] = ..., contact_id: _Optional[str] = ..., deal_id: _Optional[str] = ..., lead_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., changed_fields: _Optional[_Iterable[str]] = ..., changes: _Optional[_Iterable[_Union[_history_pb2.FieldChange, _Mapping]]] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., task: _Optional[_Union[Task, _Mapping]] = ...) -> None: ...

class AppointmentChanged(_message.Message):
    __slots__ = ("appointment_id", "title", "contact_id", "deal_id", "lead_id", "owner_id", "team_id", "partner_account_id", "actor_id", "version", "changed_fields", "changes", "changed_at", "appointment")
    APPOINTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    APPOINTMENT_FIELD_NUMBER: _ClassVar[int]
    appointment_id: str
    title: str
    contact_id: str
    deal_id: str
    lead_id: str
    owner_id: str
    team_id: str
    partner_account_id: str
    actor_id: str
    version: int
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    changes: _containers.RepeatedCompositeFieldContainer[_history_pb2.FieldChange]
    changed_at: _timestamp_pb2.Timestamp
    appointment: Appointment
    def __init__(self, appointment_id: _Optional[str] = ..., title: _Optional[str] = ..., contact_id: _Optional[str] = ..., deal_id: _Optional[str] = ..., lead_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., changed_fields: _Optional[_Iterable[str]] = ..., changes: _Optional[_Iterable[_Union[_history_pb2.FieldChange, _Mapping]]] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., appointment: _Optional[_Union[Appointment, _Mapping]] = ...) -> None: ...

class ReminderDue(_message.Message):
    __slots__ = ("reminder_id", "activity_type", "activity_id", "title", "at", "minutes_before", "due_at", "sent_at", "contact_id", "deal_id", "lead_id", "owner_id", "team_id", "partner_account_id")
    REMINDER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    MINUTES_BEFORE_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    reminder_id: str
    activity_type: str
    activity_id: str
    title: str
    at: _timestamp_pb2.Timestamp
    minutes_before: int
    due_at: _timestamp_pb2.Timestamp
    sent_at: _timestamp_pb2.Timestamp
    contact_id: str
    deal_id: str
    lead_id: str
    owner_id: str
    team_id: str
    partner_account_id: str
    def __init__(self, reminder_id: _Optional[str] = ..., activity_type: _Optional[str] = ..., activity_id: _Optional[str] = ..., title: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., minutes_before: _Optional[int] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., contact_id: _Optional[str] = ..., deal_id: _Optional[str] = ..., lead_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ...) -> None: ...

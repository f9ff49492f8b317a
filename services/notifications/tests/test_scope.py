"""Record-level scope in the notifications service, over real gRPC with signed caller contexts: each
notification carries its contact's owner, team and partner account, every read is narrowed to the
caller's scope (out of scope is NOT_FOUND), and a reassigned contact's notifications follow it."""

from __future__ import annotations

import grpc
import pytest

from crm.notifications.v1 import notifications_pb2
from crm_platform.access import CallerContext, in_scope
from crm_platform.access.rights import parse_permissions
from notifications import events, store
from notifications.domain import RESOURCE_TYPE

from .conftest import Service, caller, contact_created, contact_updated, event

ADMIN = caller("admin", "admin")
REP_A = caller("rep-a", "sales_rep", ("team-a",))
REP_A2 = caller("rep-a2", "sales_rep", ("team-a",))
REP_B = caller("rep-b", "sales_rep", ("team-b",))
SUPPORT_A = caller("support-a", "support_agent", ("team-a",))
MARKETER_B = caller("marketer-b", "marketer", ("team-b",))
MANAGER_A = caller("mgr-a", "manager", ("team-a",))
READER = caller("reader", "read_only")
PARTNER_1 = caller("partner-1-user", "partner", (), "p1")
PARTNER_1B = caller("partner-1-other", "partner", (), "p1")
PARTNER_2 = caller("partner-2-user", "partner", (), "p2")
# A custom role that may read contacts but nothing about notifications.
CONTACTS_ONLY = CallerContext(
    subject="clerk",
    roles=("clerk",),
    team_ids=("team-a",),
    primary_team_id="team-a",
    rights=parse_permissions({"contact": {"read": "all"}}),
)
EVERYONE = (
    ADMIN,
    REP_A,
    REP_A2,
    REP_B,
    SUPPORT_A,
    MARKETER_B,
    MANAGER_A,
    READER,
    PARTNER_1,
    PARTNER_1B,
    PARTNER_2,
)

# contact -> its ownership, as contacts states it in contact_created.
CONTACTS = {
    "c-team-a": {"owner_id": "rep-a", "team_id": "team-a", "partner_account_id": None},
    "c-rep-a2": {"owner_id": "rep-a2", "team_id": "team-a", "partner_account_id": None},
    "c-team-b": {"owner_id": "rep-b", "team_id": "team-b", "partner_account_id": None},
    "c-p1-staff": {"owner_id": "rep-a", "team_id": "team-a", "partner_account_id": "p1"},
    "c-p1-partner": {"owner_id": "partner-1-user", "team_id": None, "partner_account_id": "p1"},
    "c-p2-partner": {"owner_id": "partner-2-user", "team_id": None, "partner_account_id": "p2"},
    "c-rep-a-in-b": {"owner_id": "rep-a", "team_id": "team-b", "partner_account_id": None},
}


@pytest.fixture
def seeded(service: Service) -> dict[str, str]:
    """One welcome per contact, stored by the worker's handler; contact -> notification id."""
    for contact_id, ownership in CONTACTS.items():
        service.handle("contact_created", contact_created(contact_id, **ownership))
    return {n.contact_id: n.id for n in service.list(ADMIN)}


def contacts_seen(service: Service, who: CallerContext, contact_id: str = "") -> set[str]:
    return {n.contact_id for n in service.list(who, contact_id, limit=2)}


def expected(who: CallerContext) -> set[str]:
    """The oracle: the chassis' rule (crm_platform.access.in_scope) over the contact's ownership."""

    class Row:
        def __init__(self, values: dict[str, str | None]) -> None:
            self.__dict__.update(values)

    return {c for c, o in CONTACTS.items() if in_scope(who, RESOURCE_TYPE, "read", Row(o))}


def test_a_notification_carries_its_contacts_ownership(service: Service, seeded: dict[str, str]) -> None:
    welcome = service.get(ADMIN, seeded["c-p1-staff"])
    assert (welcome.owner_id, welcome.team_id, welcome.partner_account_id) == ("rep-a", "team-a", "p1")
    assert welcome.kind == "welcome" and welcome.contact_id == "c-p1-staff"
    partner_owned = service.get(ADMIN, seeded["c-p1-partner"])
    assert (partner_owned.owner_id, partner_owned.team_id) == ("partner-1-user", "")


def test_a_partner_user_lists_only_their_accounts_notifications(
    service: Service, seeded: dict[str, str]
) -> None:
    assert contacts_seen(service, PARTNER_1) == {"c-p1-staff", "c-p1-partner"}
    assert contacts_seen(service, PARTNER_1B) == {
        "c-p1-staff",
        "c-p1-partner",
    }  # the account's, not the user's
    assert contacts_seen(service, PARTNER_2) == {"c-p2-partner"}
    # Asking for another account's contact by id shows nothing either.
    assert contacts_seen(service, PARTNER_2, "c-p1-staff") == set()
    assert contacts_seen(service, PARTNER_1, "c-p1-staff") == {"c-p1-staff"}


def test_a_sales_rep_lists_their_teams_and_their_own(service: Service, seeded: dict[str, str]) -> None:
    team_a = {"c-team-a", "c-rep-a2", "c-p1-staff"}
    assert contacts_seen(service, REP_A) == team_a | {"c-rep-a-in-b"}  # owned in another team
    assert contacts_seen(service, REP_A2) == team_a
    assert contacts_seen(service, REP_B) == {"c-team-b", "c-rep-a-in-b"}
    assert contacts_seen(service, REP_B, "c-team-a") == set()


def test_every_caller_sees_exactly_what_the_rule_allows(service: Service, seeded: dict[str, str]) -> None:
    """List (paged, per contact and across contacts) and Get of every notification, for every caller,
    agree with crm_platform.access.in_scope; out of scope is NOT_FOUND, exactly like a missing id."""
    assert contacts_seen(service, ADMIN) == set(CONTACTS) == contacts_seen(service, READER)
    for who in EVERYONE:
        visible = expected(who)
        assert contacts_seen(service, who) == visible, who.subject
        for contact_id, notification_id in seeded.items():
            assert contacts_seen(service, who, contact_id) == ({contact_id} & visible), (
                who.subject,
                contact_id,
            )
            if contact_id in visible:
                assert service.get(who, notification_id).id == notification_id
                continue
            with pytest.raises(grpc.RpcError) as hidden:
                service.get(who, notification_id)
            with pytest.raises(grpc.RpcError) as missing:
                service.get(who, "00000000-0000-4000-8000-000000000000")
            assert hidden.value.code() is missing.value.code() is grpc.StatusCode.NOT_FOUND
            # Word for word the answer for an id that never existed: nothing but the id asked for.
            unknown = "00000000-0000-4000-8000-000000000000"
            assert hidden.value.details() == missing.value.details().replace(unknown, notification_id)


def test_another_partner_gets_not_found_on_a_p1_notification(
    service: Service, seeded: dict[str, str]
) -> None:
    with pytest.raises(grpc.RpcError) as error:
        service.get(PARTNER_2, seeded["c-p1-partner"])
    assert error.value.code() is grpc.StatusCode.NOT_FOUND
    assert service.get(PARTNER_1, seeded["c-p1-partner"]).partner_account_id == "p1"


def test_no_right_to_read_notifications_is_permission_denied_on_list_and_not_found_on_get(
    service: Service, seeded: dict[str, str]
) -> None:
    with pytest.raises(grpc.RpcError) as listing:
        service.list(CONTACTS_ONLY, "c-team-a")
    assert listing.value.code() is grpc.StatusCode.PERMISSION_DENIED  # the 360's `forbidden` section
    with pytest.raises(grpc.RpcError) as getting:
        service.get(CONTACTS_ONLY, seeded["c-team-a"])
    assert getting.value.code() is grpc.StatusCode.NOT_FOUND


def test_a_call_without_a_caller_context_is_unauthenticated(service: Service, seeded: dict[str, str]) -> None:
    with pytest.raises(grpc.RpcError) as error:
        service.stub.ListNotifications(notifications_pb2.ListNotificationsRequest(), timeout=10)
    assert error.value.code() is grpc.StatusCode.UNAUTHENTICATED


def test_a_cursor_replayed_by_another_caller_shows_only_their_own_scope(
    service: Service, seeded: dict[str, str]
) -> None:
    first = service.stub.ListNotifications(
        notifications_pb2.ListNotificationsRequest(limit=1), metadata=service.metadata(ADMIN), timeout=10
    )
    assert first.next_cursor
    replayed = service.list(PARTNER_2, cursor=first.next_cursor)
    assert {n.contact_id for n in replayed} <= {"c-p2-partner"}


def test_a_contacts_ownership_change_re_points_its_notifications(
    service: Service, seeded: dict[str, str]
) -> None:
    # A second notification of the same contact follows too (not only the welcome).
    service.handle(
        "contact_created", contact_created("c-p1-partner", first_name="Again", **CONTACTS["c-p1-partner"])
    )
    assert len(service.list(PARTNER_1, "c-p1-partner")) == 2
    # The contact moves from partner P1 to P2 and to team B's rep (sequence 2, after its creation).
    service.handle(
        "contact_updated",
        contact_updated(
            "c-p1-partner",
            {
                "partner_account_id": ("p1", "p2"),
                "owner_id": ("partner-1-user", "rep-b"),
                "team_id": (None, "team-b"),
                "email": ("old@x.test", "new@x.test"),
            },
        ),
        sequence=2,
    )
    assert "c-p1-partner" not in contacts_seen(service, PARTNER_1)
    with pytest.raises(grpc.RpcError) as error:
        service.get(PARTNER_1, seeded["c-p1-partner"])
    assert error.value.code() is grpc.StatusCode.NOT_FOUND
    moved = service.list(PARTNER_2, "c-p1-partner")
    assert len(moved) == 2
    assert {(n.owner_id, n.team_id, n.partner_account_id) for n in moved} == {("rep-b", "team-b", "p2")}
    assert "c-p1-partner" in contacts_seen(service, REP_B)
    # The other contacts' notifications did not move.
    assert contacts_seen(service, PARTNER_1) == {"c-p1-staff"}


def test_a_partial_reassignment_changes_only_the_fields_named(
    service: Service, seeded: dict[str, str]
) -> None:
    service.handle(
        "contact_updated", contact_updated("c-team-a", {"team_id": ("team-a", "team-b")}), sequence=2
    )
    moved = service.get(ADMIN, seeded["c-team-a"])
    assert (moved.owner_id, moved.team_id, moved.partner_account_id) == ("rep-a", "team-b", "")
    assert "c-team-a" not in contacts_seen(service, REP_A2)  # team A no longer
    assert "c-team-a" in contacts_seen(service, REP_A) and "c-team-a" in contacts_seen(service, REP_B)
    # Clearing the partner account (null) and an update that names no ownership field.
    service.handle(
        "contact_updated", contact_updated("c-p1-staff", {"partner_account_id": ("p1", None)}), sequence=2
    )
    assert service.get(ADMIN, seeded["c-p1-staff"]).partner_account_id == ""
    assert "c-p1-staff" not in contacts_seen(service, PARTNER_1)
    service.handle("contact_updated", contact_updated("c-team-b", {"phone": (None, "+44 1")}), sequence=2)
    assert service.get(ADMIN, seeded["c-team-b"]).team_id == "team-b"


def test_a_welcome_without_ownership_in_its_event_fails_closed(service: Service) -> None:
    """contact_created as the contacts service publishes it today, without the ownership fields: the
    welcome belongs to nobody, so only callers who read every notification (and are no partner) see it,
    never the creator by having acted, and a later reassignment gives it its owner."""
    service.handle("contact_created", contact_created("c-legacy"))
    [welcome] = service.list(ADMIN, "c-legacy")
    assert (welcome.owner_id, welcome.team_id, welcome.partner_account_id) == ("", "", "")
    assert {who.subject for who in EVERYONE if service.list(who, "c-legacy")} == {"admin", "reader"}
    service.handle(
        "contact_updated",
        contact_updated(
            "c-legacy", {"owner_id": (None, "partner-1-user"), "partner_account_id": (None, "p1")}
        ),
        sequence=2,
    )
    assert [n.id for n in service.list(PARTNER_1, "c-legacy")] == [welcome.id]


def test_the_welcome_belongs_to_the_contact_not_to_the_events_actor(service: Service) -> None:
    payload = contact_created("c-made-by-admin", owner_id="partner-1-user", partner_account_id="p1")
    payload["actor_id"] = "rep-b"  # whoever created the contact gains nothing by it
    service.handle("contact_created", payload)
    [welcome] = service.list(ADMIN, "c-made-by-admin")
    assert (welcome.owner_id, welcome.partner_account_id) == ("partner-1-user", "p1")
    assert service.list(REP_B, "c-made-by-admin") == []
    assert len(service.list(PARTNER_1, "c-made-by-admin")) == 1


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        ("contact_created", {"contact_id": "c-bad", "owner_id": 7}),
        ("contact_created", {"contact_id": "c-bad", "partner_account_id": ["p1"]}),
        ("contact_updated", {"contact_id": "c-bad", "changes": "owner_id"}),
        ("contact_updated", {"contact_id": "c-bad", "changes": [{"field": "team_id", "new_value": 3}]}),
        ("contact_updated", {"changes": []}),
    ],
)
def test_malformed_ownership_is_a_poison_event(runtime, event_type: str, data: dict) -> None:
    handler = {"contact_created": events.on_contact_created, "contact_updated": events.on_contact_updated}
    with runtime.sessions() as session, pytest.raises(events.InvalidPayload):
        handler[event_type](session, event(event_type, {"contact_id": "", **data}))


def test_reads_start_from_the_scoped_query(runtime) -> None:
    """Every read the store offers goes through `visible` (the scope clause): no unscoped reader."""
    sql = str(store.visible(PARTNER_1).compile(compile_kwargs={"literal_binds": True}))
    assert "partner_account_id = 'p1'" in sql
    public = [name for name in dir(store) if name.startswith(("get_", "list_", "count_"))]
    assert sorted(public) == ["get_notification", "list_notifications"]

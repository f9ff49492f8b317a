"""The rights matrix: registry, built-in roles, custom role parsing and the union of roles."""

from __future__ import annotations

import pytest

from crm_platform.access import ACTIONS, BUILTIN_ROLES, Level, builtin_rights, parse_permissions, union
from crm_platform.access.rights import decode_compact, encode_compact, register_resource_type, resource_types


def test_every_builtin_role_covers_every_registered_type_and_action() -> None:
    for role in BUILTIN_ROLES:
        rights = builtin_rights(role)
        assert set(rights) == set(resource_types()), role
        assert all(set(cells) == set(ACTIONS) for cells in rights.values()), role


def test_admin_has_everything_and_read_only_can_only_read() -> None:
    admin = builtin_rights("admin")
    assert all(level is Level.ALL for cells in admin.values() for level in cells.values())
    read_only = builtin_rights("read_only")
    assert all(cells["read"] is Level.ALL for cells in read_only.values())
    assert all(cells[a] is Level.NONE for cells in read_only.values() for a in ("create", "update", "delete"))


def test_a_type_registered_later_gets_its_domains_builtin_levels() -> None:
    register_resource_type("test_sales_thing", domain="sales")
    try:
        assert builtin_rights("sales_rep")["test_sales_thing"] == builtin_rights("sales_rep")["deal"]
        assert builtin_rights("read_only")["test_sales_thing"]["read"] is Level.ALL
    finally:
        from crm_platform.access import rights

        rights._REGISTRY.pop("test_sales_thing")


def test_registering_a_type_twice_differently_is_refused() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_resource_type("contact", domain="sales")


def test_union_takes_the_widest_level_per_cell() -> None:
    merged = union([{"contact": {"read": Level.OWN, "update": Level.TEAM}}, {"contact": {"read": Level.ALL}}])
    assert merged == {"contact": {"read": Level.ALL, "update": Level.TEAM}}


def test_custom_permissions_parse_and_name_the_bad_cell() -> None:
    assert parse_permissions({"contact": {"create": "all", "read": "team"}}) == {
        "contact": {"create": Level.ALL, "read": Level.TEAM}
    }
    for raw, path in (
        ({"planet": {"read": "all"}}, "permissions.planet"),
        ({"contact": {"fly": "all"}}, "permissions.contact.fly"),
        ({"contact": {"read": "most"}}, "permissions.contact.read"),
        ({"contact": {"read": 3}}, "permissions.contact.read"),
        ({"contact": "all"}, "permissions.contact"),
        (["contact"], "permissions"),
    ):
        with pytest.raises(ValueError, match=path):
            parse_permissions(raw)


def test_compact_encoding_round_trips() -> None:
    rights = builtin_rights("sales_rep")
    assert decode_compact(encode_compact(rights)) == rights
    with pytest.raises(ValueError):
        decode_compact({"contact": "39"})

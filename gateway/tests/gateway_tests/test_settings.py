"""Settings come from the environment; a missing or bad value stops the start naming the variable."""

from __future__ import annotations

import pytest

from crm_platform.config import ConfigError, registry
from gateway.settings import GatewaySettings

SECRET = "s" * 40


def test_defaults(tmp_path) -> None:
    settings = GatewaySettings.from_env(
        {"GATEWAY_JWT_SECRET": SECRET, "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path}/g.db"}
    )
    assert (settings.host, settings.port, settings.workers, settings.threads) == ("127.0.0.1", 8080, 2, 16)
    assert settings.token_ttl_seconds == 900  # short: refresh tokens renew access tokens
    assert (settings.jwt_kid, settings.jwt_previous_keys, settings.token_audience) == ("k1", {}, "crm-api")
    assert settings.refresh_ttl_seconds == 14 * 24 * 3600 and settings.identity_cache_seconds == 2.0
    assert (settings.argon2_memory_kib, settings.argon2_time_cost, settings.max_concurrent_hashes) == (
        19456,
        2,
        4,
    )
    assert (settings.login_account_free_failures, settings.login_address_free_failures) == (5, 30)
    assert (settings.login_window_seconds, settings.trusted_proxy_hops, settings.api_key_pepper) == (
        900,
        0,
        "",
    )
    assert settings.service_deadline_seconds == 1.0
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.service_addrs["contacts"] == "127.0.0.1:50051"
    assert settings.service_addrs["notifications"] == "127.0.0.1:50055"
    assert (settings.admin_email, settings.admin_password) == ("", "")


def test_admin_email_may_stay_without_its_password(tmp_path) -> None:
    settings = GatewaySettings.from_env(
        {
            "GATEWAY_JWT_SECRET": SECRET,
            "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path}/g.db",
            "CRM_ADMIN_EMAIL": "admin@example.com",
        }
    )
    assert (settings.admin_email, settings.admin_password) == ("admin@example.com", "")


def test_every_variable_is_declared() -> None:
    declared = set(registry())
    assert {
        "GATEWAY_HOST",
        "GATEWAY_PORT",
        "GATEWAY_WORKERS",
        "GATEWAY_THREADS",
        "GATEWAY_JWT_SECRET",
        "GATEWAY_TOKEN_TTL_SECONDS",
        "CRM_ADMIN_EMAIL",
        "CRM_ADMIN_PASSWORD",
        "GATEWAY_SERVICE_DEADLINE_SECONDS",
        "GATEWAY_MAX_BODY_BYTES",
        "GATEWAY_DATABASE_URL",
        "CONTACTS_GRPC_ADDR",
        "SALES_GRPC_ADDR",
        "MARKETING_GRPC_ADDR",
        "SUPPORT_GRPC_ADDR",
        "NOTIFICATIONS_GRPC_ADDR",
    } <= declared
    assert registry()["GATEWAY_JWT_SECRET"].secret and registry()["CRM_ADMIN_PASSWORD"].secret
    assert registry()["GATEWAY_JWT_PREVIOUS_KEYS"].secret and registry()["GATEWAY_API_KEY_PEPPER"].secret


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"GATEWAY_JWT_SECRET": ""}, "GATEWAY_JWT_SECRET"),
        ({"GATEWAY_JWT_SECRET": "short"}, "GATEWAY_JWT_SECRET"),
        ({"GATEWAY_PORT": "70000"}, "GATEWAY_PORT"),
        ({"GATEWAY_WORKERS": "0"}, "GATEWAY_WORKERS"),
        ({"GATEWAY_THREADS": "many"}, "GATEWAY_THREADS"),
        ({"GATEWAY_SERVICE_DEADLINE_SECONDS": "-1"}, "GATEWAY_SERVICE_DEADLINE_SECONDS"),
        ({"GATEWAY_MAX_BODY_BYTES": "1MB"}, "GATEWAY_MAX_BODY_BYTES"),
        ({"SALES_GRPC_ADDR": "nowhere"}, "SALES_GRPC_ADDR"),
        ({"CRM_ADMIN_EMAIL": "a@b.co", "CRM_ADMIN_PASSWORD": "short"}, "CRM_ADMIN_PASSWORD"),
        ({"GATEWAY_JWT_PREVIOUS_KEYS": "k0=short"}, "GATEWAY_JWT_PREVIOUS_KEYS"),
        ({"GATEWAY_JWT_PREVIOUS_KEYS": "=" + "s" * 40}, "GATEWAY_JWT_PREVIOUS_KEYS"),
        ({"GATEWAY_API_KEY_PEPPER": "short"}, "GATEWAY_API_KEY_PEPPER"),
        ({"GATEWAY_MAX_CONCURRENT_HASHES": "0"}, "GATEWAY_MAX_CONCURRENT_HASHES"),
        ({"GATEWAY_TRUSTED_PROXY_HOPS": "-1"}, "GATEWAY_TRUSTED_PROXY_HOPS"),
        ({"GATEWAY_IDENTITY_CACHE_SECONDS": "0"}, "GATEWAY_IDENTITY_CACHE_SECONDS"),
    ],
)
def test_bad_settings_name_the_variable(tmp_path, overrides: dict[str, str], named: str) -> None:
    environ = {"GATEWAY_JWT_SECRET": SECRET, "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path}/g.db"}
    with pytest.raises(ConfigError) as raised:
        GatewaySettings.from_env(environ | overrides)
    assert named in raised.value.message


def test_secrets_never_appear_in_messages_or_repr(tmp_path) -> None:
    environ = {"GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path}/g.db"}
    with pytest.raises(ConfigError) as raised:
        GatewaySettings.from_env(environ | {"GATEWAY_JWT_SECRET": "too-short-secret-value"})
    assert "too-short-secret-value" not in raised.value.message
    settings = GatewaySettings.from_env(
        environ | {"GATEWAY_JWT_SECRET": SECRET, "CRM_ADMIN_EMAIL": "a@b.co", "CRM_ADMIN_PASSWORD": "p" * 20}
    )
    assert SECRET not in repr(settings) and "p" * 20 not in repr(settings)

import pytest

from crm_platform import config


def test_default_used_when_variable_unset() -> None:
    setting = config.Setting("CRM_TEST_UNSET_PORT", config.positive_int, default="8080")
    assert setting.get({}) == 8080


def test_missing_required_value_names_the_variable() -> None:
    setting = config.Setting("CRM_TEST_REQUIRED", config.as_str, required=True, help="needed for tests")
    with pytest.raises(config.ConfigError) as raised:
        setting.get({})
    assert "CRM_TEST_REQUIRED" in str(raised.value)
    assert raised.value.code == "configuration error: " + raised.value.message


def test_bad_value_names_the_variable_and_hides_secrets() -> None:
    setting = config.Setting("CRM_TEST_SECRET_URL", config.amqp_url, secret=True)
    with pytest.raises(config.ConfigError) as raised:
        setting.get({"CRM_TEST_SECRET_URL": "http://user:hunter2@host"})
    assert "CRM_TEST_SECRET_URL" in raised.value.message
    assert "hunter2" not in raised.value.message


@pytest.mark.parametrize("raw", ["localhost", ":80", "host:port", "host:70000"])
def test_host_port_rejects_malformed_addresses(raw: str) -> None:
    with pytest.raises(config.ConfigError):
        config.Setting("CRM_TEST_ADDR", config.host_port).get({"CRM_TEST_ADDR": raw})


def test_declared_settings_are_registered() -> None:
    config.grpc_listen_setting("contacts")
    assert "CONTACTS_GRPC_LISTEN" in config.registry()
    assert config.registry()["CONTACTS_GRPC_LISTEN"].default == "127.0.0.1:50051"


def test_bool_parser() -> None:
    assert config.as_bool("Yes") is True
    assert config.as_bool("0") is False
    with pytest.raises(ValueError):
        config.as_bool("maybe")

"""What `make run` prints at start and once up: every placeholder filled, every address named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from crm_devrun.banner import AdminLogin, Banner, PasswordSource, starting_line

# An f-string that lost its `f` leaves `{name}` in the output (it once printed a literal `{data_dir}`).
PLACEHOLDER = re.compile(r"\{[A-Za-z_][\w.]*\}")


def banner(tmp_path: Path, source: PasswordSource) -> Banner:
    admin = AdminLogin("admin@example.com", "s3cret-pw", source, tmp_path / "secrets" / "admin-password")
    return Banner("http://127.0.0.1:8080", admin, tmp_path, tmp_path / "logs", startup_seconds=4.2)


@pytest.mark.parametrize("source", list(PasswordSource))
def test_banner_has_no_unformatted_placeholder_and_names_where_things_are(
    tmp_path: Path, source: PasswordSource
) -> None:
    text = banner(tmp_path, source).text()
    assert not PLACEHOLDER.search(text), text
    assert "http://127.0.0.1:8080/api/v1" in text
    assert "http://127.0.0.1:8080/docs" in text
    assert "admin@example.com" in text
    assert str(tmp_path) in text  # the data dir
    assert f"{tmp_path / 'logs'}/<process>.log" in text
    assert "Ctrl-C" in text


def test_the_password_is_shown_only_when_just_generated(tmp_path: Path) -> None:
    assert "s3cret-pw" in banner(tmp_path, PasswordSource.GENERATED).text()
    from_file = banner(tmp_path, PasswordSource.FILE).text()
    assert "s3cret-pw" not in from_file
    assert str(tmp_path / "secrets" / "admin-password") in from_file
    assert "CRM_ADMIN_PASSWORD" in banner(tmp_path, PasswordSource.ENV).text()


def test_the_machine_readable_banner_never_holds_the_password(tmp_path: Path) -> None:
    fields = banner(tmp_path, PasswordSource.GENERATED).fields()
    assert fields["api_url"] == "http://127.0.0.1:8080/api/v1"
    assert fields["data_dir"] == str(tmp_path)
    assert "s3cret-pw" not in repr(fields)


def test_the_starting_line_is_formatted(tmp_path: Path) -> None:
    line = starting_line(tmp_path, tmp_path / "logs", 11)
    assert not PLACEHOLDER.search(line), line
    assert "11 processes" in line and str(tmp_path) in line and "Ctrl-C" in line

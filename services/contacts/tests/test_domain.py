import pytest

from contacts.domain import validate_new_contact
from crm_platform.errors import InvalidArgument


def test_valid_contact_is_cleaned() -> None:
    new = validate_new_contact(
        first_name=" Ada ", last_name="Lovelace", email=" Ada@Example.COM ", phone="+44 20 7946 0000"
    )
    assert (new.first_name, new.email, new.phone, new.company) == (
        "Ada",
        "ada@example.com",
        "+44 20 7946 0000",
        "",
    )


def test_every_bad_field_is_named_at_once() -> None:
    with pytest.raises(InvalidArgument) as raised:
        validate_new_contact(
            first_name="", last_name="x" * 101, email="not-an-email", phone="call me", company=""
        )
    assert set(raised.value.fields) == {"first_name", "last_name", "email", "phone"}


@pytest.mark.parametrize("email", ["a@b", "a b@c.de", "@c.de", "a@@c.de", "x" * 250 + "@c.de"])
def test_malformed_emails_are_rejected(email: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        validate_new_contact(first_name="A", last_name="B", email=email)
    assert "email" in raised.value.fields


@pytest.mark.parametrize("phone", ["123", "+1 (555) 010-9999-0000-0000-123", "555-CALL"])
def test_malformed_phones_are_rejected(phone: str) -> None:
    with pytest.raises(InvalidArgument):
        validate_new_contact(first_name="A", last_name="B", email="a@b.co", phone=phone)

"""The rules for contacts: what a valid contact is. Plain Python, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from crm_platform.errors import InvalidArgument

MAX_NAME_LENGTH = 100
MAX_COMPANY_LENGTH = 200
MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit
# Deliberately permissive: one @, no spaces, a dot in the domain. Deliverability is proven by sending
# mail, not by a regular expression.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Digits with the usual separators and an optional leading +; 5 to 20 digits in all.
_PHONE = re.compile(r"^\+?[0-9 ()./-]+$")


@dataclass(frozen=True)
class NewContact:
    first_name: str
    last_name: str
    email: str
    phone: str = ""
    company: str = ""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def validate_new_contact(
    *, first_name: str, last_name: str, email: str, phone: str = "", company: str = ""
) -> NewContact:
    """A cleaned NewContact, or InvalidArgument naming every bad field at once."""
    errors: dict[str, str] = {}
    first_name, last_name = first_name.strip(), last_name.strip()
    email, phone, company = normalise_email(email), phone.strip(), company.strip()
    for field_name, value in (("first_name", first_name), ("last_name", last_name)):
        if not value:
            errors[field_name] = "is required"
        elif len(value) > MAX_NAME_LENGTH:
            errors[field_name] = f"must be at most {MAX_NAME_LENGTH} characters"
    if not email:
        errors["email"] = "is required"
    elif len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        errors["email"] = "is not a valid email address"
    if phone:
        digits = sum(ch.isdigit() for ch in phone)
        if not _PHONE.match(phone) or not 5 <= digits <= 20:
            errors["phone"] = "is not a valid phone number"
    if len(company) > MAX_COMPANY_LENGTH:
        errors["company"] = f"must be at most {MAX_COMPANY_LENGTH} characters"
    if errors:
        raise InvalidArgument("invalid contact", errors)
    return NewContact(first_name, last_name, email, phone, company)

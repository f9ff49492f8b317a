"""The rules for notifications: what the platform says to whom, and when. Plain Python, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

WELCOME = "welcome"
IN_APP = "in_app"


@dataclass(frozen=True)
class Message:
    kind: str
    channel: str
    title: str
    body: str


def welcome_message(first_name: str, company: str) -> Message:
    """The greeting a contact gets when they enter the CRM."""
    name = first_name.strip() or "there"
    body = f"Hello {name}, welcome! We are glad to have you"
    body += f" and {company.strip()} with us." if company.strip() else " with us."
    return Message(kind=WELCOME, channel=IN_APP, title=f"Welcome, {name}!", body=body)

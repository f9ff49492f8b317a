"""the people profile: the profile's single values as columns of `contacts`, its lists as JSON columns,
and `contact_emails`, which makes every email of a contact (not only the primary one) unique within its
book. Existing contacts get their email as their one (primary) email, and their phone, in E.164 where it
reads as a valid number (CONTACTS_DEFAULT_PHONE_REGION for numbers without a country code), as their one
(primary) phone; a phone that does not read as valid is kept as it is.

Revision ID: 0009_people_profile
Revises: 0008
Create Date: 2026-11-26
"""

import os

import phonenumbers
import sqlalchemy as sa
from alembic import op

revision = "0009_people_profile"
down_revision = "0008"
branch_labels = None
depends_on = None

_TEXT = (
    ("job_title", sa.String(200)),
    ("preferred_channel", sa.String(20)),
    ("preferred_contact_time", sa.String(200)),
    ("language", sa.String(35)),
    ("time_zone", sa.String(64)),
    ("lead_source", sa.String(100)),
    ("industry", sa.String(100)),
    ("occupation", sa.String(100)),
    ("birth_date", sa.String(10)),
    ("region", sa.String(100)),
    ("country", sa.String(2)),
    ("city", sa.String(100)),
    ("notes", sa.Text()),
)
_LISTS = (
    "emails",
    "phones",
    "addresses",
    "social_profiles",
    "important_dates",
    "hobbies",
    "interests",
    "memberships",
    "tags",
)
_BATCH = 500


def _phone(number: str, region: str) -> dict[str, object]:
    try:
        parsed = phonenumbers.parse(number, region)
        if phonenumbers.is_valid_number(parsed):
            return {
                "number": phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
                "formatted": phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
                "label": None,
                "primary": True,
            }
    except phonenumbers.NumberParseException:
        pass
    return {"number": number, "formatted": number, "label": None, "primary": True}


def upgrade() -> None:
    for name, type_ in _TEXT:
        op.add_column("contacts", sa.Column(name, type_, nullable=True))
    for name in _LISTS:
        op.add_column("contacts", sa.Column(name, sa.JSON(none_as_null=True), nullable=True))
    op.create_index("ix_contacts_country_city", "contacts", ["country", "city"])
    op.create_index("ix_contacts_industry", "contacts", ["industry"])
    op.create_index("ix_contacts_lead_source", "contacts", ["lead_source"])
    op.create_table(
        "contact_emails",
        sa.Column("contact_id", sa.String(36), sa.ForeignKey("contacts.id"), primary_key=True),
        sa.Column("email", sa.String(254), primary_key=True),
        sa.Column("uniqueness_book", sa.String(64), nullable=False),
    )
    op.create_index(
        "uq_contact_emails_book_email", "contact_emails", ["uniqueness_book", "email"], unique=True
    )

    region = (os.environ.get("CONTACTS_DEFAULT_PHONE_REGION") or "US").strip().upper()
    bind = op.get_bind()
    contacts = sa.table(
        "contacts",
        sa.column("id", sa.String),
        sa.column("email", sa.String),
        sa.column("phone", sa.String),
        sa.column("uniqueness_book", sa.String),
        sa.column("emails", sa.JSON(none_as_null=True)),
        sa.column("phones", sa.JSON(none_as_null=True)),
    )
    emails = sa.table(
        "contact_emails",
        sa.column("contact_id", sa.String),
        sa.column("email", sa.String),
        sa.column("uniqueness_book", sa.String),
    )
    last = ""
    while True:
        rows = bind.execute(
            sa.select(contacts.c.id, contacts.c.email, contacts.c.phone, contacts.c.uniqueness_book)
            .where(contacts.c.id > last)
            .order_by(contacts.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1].id
        bind.execute(
            sa.insert(emails),
            [{"contact_id": r.id, "email": r.email, "uniqueness_book": r.uniqueness_book} for r in rows],
        )
        for row in rows:
            values: dict[str, object] = {
                "emails": [{"address": row.email, "label": None, "primary": True}],
            }
            if row.phone:
                phone = _phone(row.phone, region)
                values["phones"] = [phone]
                values["phone"] = phone["number"]
            bind.execute(sa.update(contacts).where(contacts.c.id == row.id).values(**values))


def downgrade() -> None:
    # The contacts' other emails, phones and the rest of the profile are lost; the primary email and
    # phone (in E.164) stay in `email` and `phone`.
    op.drop_index("uq_contact_emails_book_email", "contact_emails")
    op.drop_table("contact_emails")
    op.drop_index("ix_contacts_lead_source", "contacts")
    op.drop_index("ix_contacts_industry", "contacts")
    op.drop_index("ix_contacts_country_city", "contacts")
    with op.batch_alter_table("contacts") as batch:
        for name in reversed(_LISTS):
            batch.drop_column(name)
        for name, _type in reversed(_TEXT):
            batch.drop_column(name)

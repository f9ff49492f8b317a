"""contacts search: the term index (contact_search_terms) and the typo keys of its words
(contact_search_typo_keys), see contacts.search.schema; every existing contact is indexed.

Revision ID: 0010_search
Revises: 0009_people_profile
Create Date: 2026-11-26
"""

from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

from contacts.search.schema import TERMS_TABLE, TYPO_KEYS_TABLE, term_type
from contacts.search.terms import document_terms
from contacts.search.typos import MAX_TYPO_LENGTH, deletion_keys, has_typo_keys

revision = "0010_search"
down_revision = "0009_people_profile"
branch_labels = None
depends_on = None

_BATCH = 1000
_COLUMNS = ("id", "first_name", "last_name", "email", "phone", "company", "emails", "phones", "tags")


def upgrade() -> None:
    op.create_table(
        TERMS_TABLE,
        sa.Column("term", term_type(), primary_key=True),
        sa.Column("contact_id", sa.String(36), sa.ForeignKey("contacts.id"), primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_contact_search_terms_contact", TERMS_TABLE, ["contact_id", "term"])
    op.create_table(
        TYPO_KEYS_TABLE,
        sa.Column("key", sa.String(MAX_TYPO_LENGTH), primary_key=True),
        sa.Column("term", sa.String(MAX_TYPO_LENGTH), primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_contact_search_typo_keys_term", TYPO_KEYS_TABLE, ["term"])
    _index_existing_contacts()


def _index_existing_contacts() -> None:
    bind = op.get_bind()
    contacts = sa.table(
        "contacts",
        *(
            sa.column(name, sa.JSON() if name in ("emails", "phones", "tags") else sa.String())
            for name in _COLUMNS
        ),
    )
    terms = sa.table(TERMS_TABLE, sa.column("term", sa.String), sa.column("contact_id", sa.String))
    keys = sa.table(TYPO_KEYS_TABLE, sa.column("key", sa.String), sa.column("term", sa.String))
    words: set[str] = set()
    last = ""
    while True:
        rows = bind.execute(
            sa.select(contacts).where(contacts.c.id > last).order_by(contacts.c.id).limit(_BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1].id
        found = [(row.id, document_terms(SimpleNamespace(**row._mapping))) for row in rows]
        bind.execute(
            sa.insert(terms), [{"term": t, "contact_id": cid} for cid, held in found for t in sorted(held)]
        )
        words |= {t for _cid, held in found for t in held if has_typo_keys(t)}
    rows = [{"key": key, "term": word} for word in sorted(words) for key in sorted(deletion_keys(word))]
    for start in range(0, len(rows), _BATCH):
        bind.execute(sa.insert(keys), rows[start : start + _BATCH])


def downgrade() -> None:
    op.drop_index("ix_contact_search_typo_keys_term", table_name=TYPO_KEYS_TABLE)
    op.drop_table(TYPO_KEYS_TABLE)
    op.drop_index("ix_contact_search_terms_contact", table_name=TERMS_TABLE)
    op.drop_table(TERMS_TABLE)

"""Seeds a contacts database with realistic contacts, fast: bulk inserts in batches, not through gRPC.

    .venv/bin/python bench/seed_contacts.py --url sqlite:///var/contacts.db --count 1000000
    .venv/bin/python bench/seed_contacts.py --url postgresql://postgres@127.0.0.1/contacts --count 1000000

Applies the migrations first, then adds `--count` contacts to whatever is there. Each contact gets a
first and last name (common names weighted as in real populations, and a long tail of rarer surnames),
one to two emails (personal providers and company domains, unique), a phone in E.164 from one of ten
countries (with its country, region and city), a company for seven in ten, zero to three tags, an
owner among 50 sales reps in 10 teams, one in ten a partner account's, and creation times spread over
three years. Rows are written as the service writes them: the contact row, its emails in
`contact_emails` and its search terms (contacts.search, the same code as the service's). No history
or events are written: seeded contacts were never created through the API.

Deterministic for a given --seed and starting count. About 2-4 minutes per million contacts on SQLite.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from psycopg import sql
from sqlalchemy import JSON, Index, Table, func, insert, select
from sqlalchemy.orm import Session

from contacts import store
from contacts.main import DEFINITION
from contacts.search.terms import document_terms
from crm_platform.db import transaction
from crm_platform.postgres import lift_timeouts
from crm_platform.service import Runtime, open_runtime

BATCH = 2000


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


OWNERS = 50
TEAMS = 10
PARTNERS = 5

FIRST_NAMES = _words(
    "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Charles Karen Christopher Nancy Daniel Lisa Matthew Betty Anthony Margaret "
    "Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Dorothy Kevin "
    "Carol Brian Amanda George Melissa Edward Deborah Ronald Stephanie Timothy Rebecca Jason Sharon Jeffrey "
    "Laura Ryan Cynthia Jacob Kathleen Gary Amy Nicholas Shirley Eric Angela Jonathan Helen Stephen Anna "
    "Larry Brenda Justin Pamela Scott Nicole Brandon Emma Benjamin Samantha Samuel Katherine Gregory "
    "Christine Frank Debra Alexander Rachel Raymond Catherine Patrick Carolyn Jack Janet Dennis Ruth Jerry "
    "Maria Tyler Heather Aaron Diane Jose Virginia Adam Julie Henry Joyce Nathan Victoria Douglas Olivia "
    "Zachary Kelly Peter Christina Kyle Lauren Walter Joan Ethan Evelyn Jeremy Judith Harold Megan Keith "
    "Cheryl Christian Andrea Roger Hannah Noah Martha Gerald Jacqueline Carl Frances Terry Gloria Sean Ann "
    "Hans Jürgen Sabine Ursula Klaus Monika Pierre Sophie Camille Hélène François Giulia Marco Luca "
    "Francesca Alessandro Sofia Pablo Lucía Javier Carmen Søren Björn Ingrid Åsa Zoë Chloé Renée José "
    "Wei Li Hiroshi Yuki Aiko Priya Arjun Rahul Ananya Fatima Omar Aisha Mohammed Olga Ivan Dmitri Natalia"
)
LAST_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
    "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
    "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz "
    "Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson "
    "Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray "
    "Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Müller Schmidt "
    "Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Martin Bernard Dubois Thomas Robert "
    "Richard Petit Durand Leroy Moreau Rossi Russo Ferrari Esposito Bianchi Romano Colombo García "
    "Fernández González Rodríguez López Martínez Sánchez Pérez Jensen Nielsen Hansen Andersson Johansson "
    "Karlsson Nilsson Wang Li Zhang Liu Chen Yang Huang Sato Suzuki Takahashi Tanaka Kumar Sharma Singh "
    "Gupta Khan Ali Ahmed Hussain Ivanov Smirnov Kuznetsov Popov O'Brien O'Connor McDonald MacLeod"
)
SYLLABLES = _words(
    "an ber cal dor el fen gar hal is jor kel lan mor nor ol pen quin ros sal tor ul van wes yar zel "
    "ash bright crow dale field ford grave holm ley mere ridge stone ton wick worth brook"
)
COMPANY_WORDS = _words(
    "Acme Globex Initech Umbrella Stark Wayne Wonka Cyberdyne Tyrell Soylent Hooli Vandelay Aperture "
    "Massive Dynamic Oscorp Gringotts Monarch Nakatomi Virtucon Blue Sun Pied Piper Northwind Contoso "
    "Fabrikam Tailspin Litware Adatum Proseware Wingtip Alpine Coho Lucerne Fourth Coffee Margie Trey"
)
COMPANY_KINDS = (
    "Industries", "Labs", "Systems", "Holdings", "Partners", "Logistics", "Foods", "Health", "Energy",
    "Analytics", "Media", "Robotics", "Consulting", "Retail", "Bank", "Insurance", "Software", "Motors",
)  # fmt: skip
PROVIDERS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "proton.me", "gmx.de",
             "web.de", "orange.fr", "libero.it", "mail.ru", "qq.com", "yandex.ru", "aol.com")  # fmt: skip
TAGS = ("vip", "newsletter", "lead", "customer", "partner", "trade show", "webinar", "churn risk",
        "enterprise", "smb", "renewal", "beta", "referral", "event 2025", "cold", "warm", "hot")  # fmt: skip
# (country, weight, [(region, city)], phone number patterns: E.164 with X for a random digit)
COUNTRIES = (
    ("US", 30, [("CA", "San Francisco"), ("NY", "New York"), ("IL", "Chicago"), ("TX", "Austin")],
     ["+1 415XXXXXXX", "+1 212XXXXXXX", "+1 312XXXXXXX", "+1 512XXXXXXX"]),
    ("GB", 12, [("England", "London"), ("England", "Manchester"), ("Scotland", "Edinburgh")],
     ["+44 20XXXXXXXX", "+44 7700XXXXXX", "+44 161XXXXXXX", "+44 131XXXXXXX"]),
    ("DE", 12, [("BE", "Berlin"), ("BY", "München"), ("HH", "Hamburg")],
     ["+49 30XXXXXXXX", "+49 89XXXXXXXX", "+49 151XXXXXXXX"]),
    ("FR", 10, [("IDF", "Paris"), ("ARA", "Lyon")], ["+33 1XXXXXXXX", "+33 6XXXXXXXX"]),
    ("IT", 6, [("RM", "Roma"), ("MI", "Milano")], ["+39 06XXXXXXXX", "+39 347XXXXXXX"]),
    ("ES", 6, [("MD", "Madrid"), ("CT", "Barcelona")], ["+34 91XXXXXXX", "+34 6XXXXXXXX"]),
    ("IN", 8, [("MH", "Mumbai"), ("KA", "Bengaluru")], ["+91 98XXXXXXXX", "+91 80XXXXXXXX"]),
    ("JP", 5, [("13", "Tokyo"), ("27", "Osaka")], ["+81 3XXXXXXXX", "+81 90XXXXXXXX"]),
    ("SE", 4, [("AB", "Stockholm")], ["+46 8XXXXXXX", "+46 70XXXXXXX"]),
    ("BR", 7, [("SP", "São Paulo"), ("RJ", "Rio de Janeiro")], ["+55 11XXXXXXXXX", "+55 21XXXXXXXXX"]),
)  # fmt: skip


def _zipf_weights(count: int, exponent: float = 1.0) -> list[float]:
    return [1.0 / (rank + 1) ** exponent for rank in range(count)]


class Generator:
    """Realistic contacts, deterministic from `seed` and the index of each contact."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        # A long tail of surnames: half the people carry one of 40,000 rarer names, as in real
        # populations, where the commonest thousand cover only about half.
        tail = {
            "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3)))).capitalize()
            for _ in range(60000)
        }
        self.rare_last = sorted(tail)[:40000]
        self.first_weights = _zipf_weights(len(FIRST_NAMES), 0.8)
        self.last_weights = _zipf_weights(len(LAST_NAMES), 0.9)
        self.companies = sorted(
            {
                f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}"
                for _ in range(3000)
            }
        )
        self.country_weights = [c[1] for c in COUNTRIES]
        self.seed = seed
        self.start = datetime(2023, 1, 1, tzinfo=UTC)

    def batch(self, first: int, count: int) -> list[dict[str, Any]]:
        """Contacts number `first` to `first + count - 1` (each field drawn for the whole batch at once:
        one call per field, not per contact, is most of what makes a million quick to make)."""
        rng = random.Random(self.seed * 1_000_003 + first)
        firsts = rng.choices(FIRST_NAMES, self.first_weights, k=count)
        commons = rng.choices(LAST_NAMES, self.last_weights, k=count)
        rares = rng.choices(self.rare_last, k=count)
        countries = rng.choices(COUNTRIES, self.country_weights, k=count)
        companies = rng.choices(self.companies, k=count)
        dice = [rng.random() for _ in range(count * 4)]
        digits = "".join(rng.choices("0123456789", k=count * 12))
        tag_counts = rng.choices((0, 0, 1, 1, 2, 3), k=count)
        rows = []
        for i in range(count):
            n = first + i
            first_name = firsts[i]
            last = rares[i] if dice[4 * i] < 0.5 else commons[i]
            country, _weight, places, patterns = countries[i]
            region, city = places[n % len(places)]
            company = companies[i] if dice[4 * i + 1] < 0.7 else None
            name = (
                f"{_ascii(first_name)}.{_ascii(last)}"
                if dice[4 * i + 2] < 0.6
                else f"{_ascii(first_name)[0]}{_ascii(last)}"
            )
            local = f"{name}{n}"
            emails = [f"{local}@{PROVIDERS[n % len(PROVIDERS)]}"]
            if company and dice[4 * i + 3] < 0.5:
                words = company.split()
                emails.insert(0, f"{local}@{_ascii(words[0])}{_ascii(words[1])}.example")
            # Patterns are "+<country code> <number>": filled in, that is the international form.
            pattern = patterns[n % len(patterns)]
            filler = iter(digits[12 * i : 12 * i + 12])
            formatted = "".join(next(filler) if ch == "X" else ch for ch in pattern)
            number = formatted.replace(" ", "")
            owner = n % OWNERS
            partner = f"partner-{(n // 10) % PARTNERS}" if n % 10 == 0 else None
            created = self.start + timedelta(seconds=n * 95 + n % 89)
            tags = sorted(set(rng.sample(TAGS, tag_counts[i]))) if tag_counts[i] else None
            rows.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "first_name": first_name,
                    "last_name": last,
                    "email": emails[0],
                    "phone": number,
                    "company": company,
                    "version": 1,
                    "created_at": created,
                    "updated_at": created,
                    "owner_id": f"rep-{owner}",
                    "team_id": f"team-{owner % TEAMS}",
                    "partner_account_id": partner,
                    "uniqueness_book": store.book_of(partner),
                    "country": country,
                    "region": region,
                    "city": city,
                    "emails": [
                        {"address": a, "label": None, "primary": k == 0} for k, a in enumerate(emails)
                    ],
                    "phones": [
                        {"number": number, "formatted": formatted, "label": "mobile", "primary": True}
                    ],
                    "tags": tags,
                }
            )
        return rows


def _ascii(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())


def write_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """`rows` into `table` in the session's transaction: COPY on PostgreSQL, the driver's executemany on
    SQLite. SQLAlchemy's per-row parameter handling was most of the seed's time."""
    if not rows:
        return
    columns = list(table.columns)
    connection = session.connection()
    driver = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        names = sql.SQL(", ").join(sql.Identifier(c.name) for c in columns)
        copy_in = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table.name), names)
        with driver.cursor() as cursor, cursor.copy(copy_in) as copy:
            for row in rows:
                copy.write_row([_value(row.get(c.name), c, postgres=True) for c in columns])
        return
    statement = str(insert(table).compile(dialect=connection.dialect))
    driver.executemany(
        statement, [tuple(_value(row.get(c.name), c, postgres=False) for c in columns) for row in rows]
    )


def _value(value: Any, column: Any, *, postgres: bool) -> Any:
    if value is None:
        return None
    if isinstance(column.type, JSON):
        return json.dumps(value)
    if isinstance(value, datetime):
        naive = value.astimezone(UTC).replace(tzinfo=None)  # as UtcDateTime stores it
        return naive if postgres else naive.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def seed(
    runtime: Runtime, count: int, *, random_seed: int = 1, progress: bool = True, defer_indexes: bool = False
) -> int:
    """Add `count` contacts; returns how many contacts the database holds now. `defer_indexes`: drop the
    secondary (not unique) indexes of the contacts and search tables for the load and build them again
    after it (sorting once is much cheaper than a million random inserts into each)."""
    with runtime.engine.connect() as conn:
        first = conn.scalar(select(func.count()).select_from(store.Contact.__table__)) or 0
    deferred = _secondary_indexes() if defer_indexes else []
    with runtime.engine.begin() as conn:
        lift_timeouts(conn)
        for index in deferred:
            index.drop(conn, checkfirst=True)
    generator = Generator(random_seed)
    started = time.monotonic()
    done = 0
    for start in range(first, first + count, BATCH):
        rows = generator.batch(start, min(BATCH, first + count - start))
        with transaction(runtime.sessions) as session:
            lift_timeouts(session.connection())  # a bulk insert on a busy machine is not a stuck request
            if runtime.engine.dialect.name == "sqlite":
                session.connection().exec_driver_sql("PRAGMA cache_size = -2000000")  # 2 GB for the indexes
            write_rows(session, store.Contact.__table__, rows)
            write_rows(
                session,
                store.ContactEmailRow.__table__,
                [
                    {
                        "contact_id": row["id"],
                        "email": entry["address"],
                        "uniqueness_book": row["uniqueness_book"],
                    }
                    for row in rows
                    for entry in row["emails"]
                ],
            )
            # The service's own terms (contacts.search.terms) and typo keys, written in bulk.
            found = [(row["id"], document_terms(SimpleNamespace(**row))) for row in rows]
            # In index order: each batch then touches the index's pages in turn, not at random.
            terms = [
                {"term": term, "contact_id": contact_id}
                for term, contact_id in sorted(
                    (term, contact_id) for contact_id, held in found for term in held
                )
            ]
            write_rows(session, store.search_index.tables.terms, terms)
            store.search_index.add_typo_keys(session, {row["term"] for row in terms})
        done += len(rows)
        if progress and (done % 50000 < BATCH or done == count):
            rate = done / max(time.monotonic() - started, 1e-9)
            print(f"  seeded {first + done:,} contacts ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    with runtime.engine.begin() as conn:
        lift_timeouts(conn)
        for index in deferred:
            started = time.monotonic()
            index.create(conn, checkfirst=True)
            if progress:
                print(
                    f"  built {index.name} ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True
                )
    # Planner statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) keeps them in service.
    with runtime.engine.connect() as conn:
        lift_timeouts(conn)  # ANALYZE of a million rows may take longer than a request may
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return first + count


def _secondary_indexes() -> list[Index]:
    tables = (store.Contact.__table__, store.search_index.tables.terms)
    return [
        index for table in tables for index in sorted(table.indexes, key=lambda i: i.name) if not index.unique
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the contacts database (SQLite or PostgreSQL URL)")
    parser.add_argument("--count", type=int, default=100_000, help="contacts to add (default 100,000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--defer-indexes",
        action="store_true",
        help="drop the secondary indexes for the load and build them after it (a large load, no traffic)",
    )
    args = parser.parse_args()
    runtime = open_runtime(DEFINITION, args.url)
    try:
        total = seed(runtime, args.count, random_seed=args.seed, defer_indexes=args.defer_indexes)
    finally:
        runtime.engine.dispose()
    print(f"{total:,} contacts in the database")
    return 0


if __name__ == "__main__":
    sys.exit(main())

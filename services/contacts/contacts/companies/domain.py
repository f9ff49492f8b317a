"""The rules for companies and their people: what a valid company is. Plain Python, no I/O.

The contract's field rules (crm/contacts/v1/companies.proto) have already been checked; what is here
normalises (trims, lower-cases the domain, upper-cases the country) and checks what a regular expression
in the contract cannot: a domain is a registrable host name, a country an assigned ISO 3166-1 code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crm_platform.errors import InvalidArgument

MAX_NAME_LENGTH = 200
MAX_DOMAIN_LENGTH = 253
MAX_TITLE_LENGTH = 200
# How far up a parent chain the cycle check walks before calling it a cycle (no sane group is deeper).
MAX_PARENT_DEPTH = 100

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]+$")

# ISO 3166-1 alpha-2: the officially assigned codes (249).
_ASSIGNED = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV
    BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES
    ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE
    IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY
    MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU
    NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM
    SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE
    VG VI VN VU WF WS YE YT ZA ZM ZW
"""
ISO_COUNTRIES = frozenset(_ASSIGNED.split())


def normalise_domain(domain: str) -> str:
    """The stored form of a domain: trimmed, lower case, without a trailing dot or a leading "www."."""
    host = domain.strip().lower().rstrip(".")
    return host.removeprefix("www.") if host.count(".") >= 2 else host


def domain_error(domain: str) -> str | None:
    """What is wrong with a normalised domain, or None."""
    if len(domain) > MAX_DOMAIN_LENGTH:
        return f"must be at most {MAX_DOMAIN_LENGTH} characters"
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return 'is not a domain name (e.g. "acme.com")'
    if labels[-1].isdigit():
        return 'is not a domain name (e.g. "acme.com"), not an address'
    return None


@dataclass(frozen=True)
class CleanAddress:
    street: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass(frozen=True)
class CompanyFields:
    """The company's own fields (not ownership, not the parent, which need the database), cleaned."""

    name: str
    domain: str = ""
    industry: str = ""
    website: str = ""
    phone: str = ""
    description: str = ""
    address: CleanAddress = CleanAddress()


def validate_company(
    *,
    name: str,
    domain: str = "",
    industry: str = "",
    website: str = "",
    phone: str = "",
    description: str = "",
    address: CleanAddress | None = None,
) -> CompanyFields:
    """Cleaned CompanyFields, or InvalidArgument naming every bad field at once."""
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = "is required"
    elif len(name) > MAX_NAME_LENGTH:
        errors["name"] = f"must be at most {MAX_NAME_LENGTH} characters"
    domain = normalise_domain(domain)
    if domain and (problem := domain_error(domain)) is not None:
        errors["domain"] = problem
    phone = phone.strip()
    if phone:
        digits = sum(ch.isdigit() for ch in phone)
        if not _PHONE.match(phone) or not 5 <= digits <= 20:
            errors["phone"] = "is not a valid phone number"
    raw = address or CleanAddress()
    country = raw.country.strip().upper()
    if country and country not in ISO_COUNTRIES:
        errors["address.country"] = "is not an ISO 3166-1 alpha-2 country code"
    clean_address = CleanAddress(
        street=raw.street.strip(),
        city=raw.city.strip(),
        region=raw.region.strip(),
        postal_code=raw.postal_code.strip().upper(),
        country=country,
    )
    if errors:
        raise InvalidArgument("invalid company", errors)
    return CompanyFields(
        name=name,
        domain=domain,
        industry=industry.strip(),
        website=website.strip(),
        phone=phone,
        description=description.strip(),
        address=clean_address,
    )


def parent_cycle(company_id: str, parent_id: str, parent_of: dict[str, str | None]) -> bool:
    """Whether making `parent_id` the parent of `company_id` closes a cycle, given the parent chain
    above `parent_id` (`parent_of`: company -> its parent, as far as it was read). A chain longer than
    MAX_PARENT_DEPTH counts as one."""
    current: str | None = parent_id
    for _ in range(MAX_PARENT_DEPTH):
        if current is None:
            return False
        if current == company_id:
            return True
        current = parent_of.get(current)
    return True


def clean_title(title: str) -> str:
    title = title.strip()
    if len(title) > MAX_TITLE_LENGTH:
        raise InvalidArgument("invalid title", {"title": f"must be at most {MAX_TITLE_LENGTH} characters"})
    return title

"""Who a quote is for, as its PDF names them: the contact's and company's names asked from the contacts
service as the caller (their forwarded context, so a person they may not read stays unnamed). The
document never fails for want of a name: when contacts cannot answer, it shows the ids."""

from __future__ import annotations

import logging

import grpc

from crm.sales.v1 import quotes_pb2
from sales.leads.contacts_link import ContactsLink, forwarded_caller
from sales.quotes.pdf import Customer

log = logging.getLogger(__name__)


class Parties:
    def __init__(self, link: ContactsLink | None = None) -> None:
        self.link = link or ContactsLink()

    def customer(self, quote: quotes_pb2.Quote, context: grpc.ServicerContext) -> Customer:
        metadata = forwarded_caller(context)
        person = company = ""
        details: list[str] = []
        try:
            if quote.contact_id:
                contact = self.link.get_contact(quote.contact_id, metadata)
                person = " ".join(p for p in (contact.first_name, contact.last_name) if p)
                details.extend(filter(None, (contact.email,)))
            if quote.company_id:
                company = self.link.get_company(quote.company_id, metadata).name
        except Exception as error:  # a name is a courtesy: the document is rendered without it
            log.info("quote %s: customer names unavailable (%s)", quote.id, error)
        name = company or person or quote.company_id or quote.contact_id or "-"
        if company and person:
            details.insert(0, f"Attn. {person}")
        return Customer(name, tuple(details))

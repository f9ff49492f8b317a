"""Quotes (resource type `quote`): offers of catalogue products priced from a price list, with a discount
per line and the products' tax; draft -> sent -> accepted (placing the order) or rejected, expired past
their last day; discounts beyond the author's allowance wait for an approval; rendered as a PDF.

    store.py       the `quotes` table, its mapping to the contract, list allow-list
    domain.py      pricing (sales.money's one rounding rule), the status flow, discount allowances
    api.py         QuotesService (standard methods, :send, :accept, :reject, :approve, :rejectApproval,
                   the PDF); `install(definition)`
    acceptance.py  accepting places the order through sales.orders.placing, in the same transaction
    events.py      quote_created ... approval_decided (outbox, in the change's transaction)
    expiry.py      the worker's sweep: sent quotes past their last day become expired
    pdf.py         the document (fpdf2); parties.py: the customer's names from contacts, as the caller
"""

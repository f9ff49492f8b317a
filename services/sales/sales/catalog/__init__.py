"""The catalogue: products and services, price lists (quantity breaks, validity, assignment to partner
accounts) and partner accounts' commercial terms, served by the sales process.

    store.py    tables, their mapping to the contract, list allow-lists
    domain.py   who may read and change them; the lists' own rules
    pricing.py  THE price resolution (product, quantity, price list, day) -> unit price, for every caller
    api.py      CatalogService, PriceListsService, PartnerTermsService; `install(definition)`
"""

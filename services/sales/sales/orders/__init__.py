"""Orders (resource type `order`): placed by staff or by a partner user for their own account, priced by
the catalogue, checked against the partner's credit limit, moved along submitted -> confirmed -> shipped
-> delivered (or cancelled).

    store.py    the `orders` table, its mapping to the contract, list allow-list, what an account owes
    domain.py   pricing an order's lines (one rounding rule: sales.money) and the status flow
    credit.py   the credit limit check, under the account's terms row lock
    events.py   order_placed, order_status_changed (outbox, in the change's transaction)
    api.py      OrdersService; `install(definition)`
"""

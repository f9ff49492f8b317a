"""The catalogue, price lists and partner terms through the real sales server (SQLite and PostgreSQL)."""

from __future__ import annotations

import grpc
import pytest

from crm.sales.v1 import catalog_pb2
from crm_platform.testing.callers import caller_metadata

from .commerce import ADMIN, Commerce, partner_user, reason_of


@pytest.fixture
def shop(sales) -> Commerce:  # type: ignore[no-untyped-def]
    return Commerce(sales.channel)


def test_products_have_unique_skus_and_only_managers_change_them(shop: Commerce) -> None:
    made = shop.product("WIDGET-1", unit="piece")
    assert (made.sku, made.tax_rate_bp, made.kind) == ("WIDGET-1", 2000, catalog_pb2.PRODUCT_KIND_PRODUCT)
    with pytest.raises(grpc.RpcError) as taken:
        shop.product("WIDGET-1")
    assert taken.value.code() == grpc.StatusCode.ALREADY_EXISTS
    rep = caller_metadata("rep-1", "sales_rep")
    with pytest.raises(grpc.RpcError) as refused:
        shop.catalog.CreateProduct(catalog_pb2.CreateProductRequest(sku="X", name="X"), metadata=rep)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    listed = shop.catalog.ListProducts(catalog_pb2.ListProductsRequest(), metadata=partner_user("P1"))
    assert [p.sku for p in listed.items] == ["WIDGET-1"]  # every partner reads the catalogue


def test_price_resolution_takes_the_largest_quantity_break_and_honours_validity(shop: Commerce) -> None:
    widget = shop.product("W")
    gadget = shop.product("G")
    prices = [(widget.id, 1000, 1), (widget.id, 900, 10), (widget.id, 800, 100)]
    listed = shop.price_list(prices, valid_from="2026-01-01", valid_until="2026-12-31")
    resolve = shop.price_lists.ResolvePrice

    def price(quantity: int, on: str = "2026-06-01", product: str = widget.id) -> int:
        request = catalog_pb2.ResolvePriceRequest(
            price_list_id=listed.id, product_id=product, quantity=quantity, on=on
        )
        return resolve(request, metadata=ADMIN).unit_price.amount_minor

    assert [price(1), price(9), price(10), price(99), price(100), price(5000)] == [
        1000,
        1000,
        900,
        900,
        800,
        800,
    ]
    for refused, reason in (
        (lambda: price(1, on="2027-01-01"), "NO_PRICE_LIST"),
        (lambda: price(1, product=gadget.id), "NO_PRICE"),
    ):
        with pytest.raises(grpc.RpcError) as error:
            refused()
        assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert reason_of(error.value) == reason
    with pytest.raises(grpc.RpcError) as unknown:
        shop.price_list([("no-such-product", 1, 1)])
    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # The contract's pattern checks the shape of a day only: one that does not exist is refused, not a crash.
    for impossible in (
        lambda: price(1, on="2026-13-45"),
        lambda: shop.price_list(prices, valid_from="0260-47-24"),
    ):
        with pytest.raises(grpc.RpcError) as not_a_day:
            impossible()
        assert not_a_day.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_partner_sees_only_the_price_lists_and_terms_of_their_own_account(shop: Commerce) -> None:
    widget = shop.product("W")
    mine = shop.price_list([(widget.id, 1000, 1)], partners=("P1",))
    theirs = shop.price_list([(widget.id, 700, 1)], partners=("P2",))
    shop.set_terms("P1", mine.id, 100_000)
    shop.set_terms("P2", theirs.id, 100_000)
    p1 = partner_user("P1")
    listed = shop.price_lists.ListPriceLists(catalog_pb2.ListPriceListsRequest(), metadata=p1)
    assert [item.id for item in listed.items] == [mine.id]
    assert (
        len(shop.price_lists.ListPriceLists(catalog_pb2.ListPriceListsRequest(), metadata=ADMIN).items) == 2
    )
    for call in (
        lambda: shop.price_lists.GetPriceList(catalog_pb2.GetPriceListRequest(id=theirs.id), metadata=p1),
        lambda: shop.terms.GetPartnerTerms(
            catalog_pb2.GetPartnerTermsRequest(partner_account_id="P2"), metadata=p1
        ),
        lambda: shop.price_lists.ResolvePrice(
            catalog_pb2.ResolvePriceRequest(price_list_id=theirs.id, product_id=widget.id), metadata=p1
        ),
    ):
        with pytest.raises(grpc.RpcError) as hidden:
            call()
        assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
    own = shop.terms.GetPartnerTerms(catalog_pb2.GetPartnerTermsRequest(partner_account_id="P1"), metadata=p1)
    assert (own.price_list_id, own.credit_limit.amount_minor, own.payment_terms_days) == (
        mine.id,
        100_000,
        30,
    )
    portal = shop.price_lists.ResolvePrice(
        catalog_pb2.ResolvePriceRequest(price_list_id="-", product_id=widget.id, quantity=3), metadata=p1
    )
    assert (portal.price_list_id, portal.unit_price.amount_minor) == (mine.id, 1000)
    change = catalog_pb2.UpdatePartnerTermsRequest(terms=catalog_pb2.PartnerTerms(partner_account_id="P1"))
    change.update_mask.paths.append("payment_terms_days")
    with pytest.raises(grpc.RpcError) as refused:
        shop.terms.UpdatePartnerTerms(change, metadata=p1)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as unassigned:
        shop.set_terms("P1", theirs.id, 100_000)  # a list not assigned to the account
    assert unassigned.value.code() == grpc.StatusCode.INVALID_ARGUMENT

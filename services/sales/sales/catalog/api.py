"""CatalogService, PriceListsService and PartnerTermsService (the rules of who may do what: domain.py).

Products and price lists are standard resources on the chassis (etag, field mask, history,
idempotency); the terms are one row per partner account, set field by field (created on first use).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf import empty_pb2
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.common.v1 import history_pb2
from crm.sales.v1 import catalog_pb2, catalog_pb2_grpc
from crm_platform.access import CallerContext
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading, utcnow
from crm_platform.errors import AlreadyExists, InvalidArgument, NotFound
from crm_platform.resources import (
    Action,
    Change,
    FieldChange,
    StandardMethods,
    actor_of,
    check_etag,
    idempotent_write,
    merge_update,
    record_change,
)
from crm_platform.service import Runtime, ServiceDefinition
from sales.catalog import domain, pricing, store
from sales.catalog.store import PartnerTermsRow, PriceList, PriceListPartner, Product
from sales.money import money


def _not_found(type_name: str, resource_id: str) -> NotFound:
    return NotFound(
        f"{type_name} {resource_id} not found", resource_type=type_name, resource_name=resource_id
    )


def _sku_taken(session: Session, sku: str, other_than: str = "") -> None:
    holder = session.scalar(select(Product.id).where(Product.sku == sku))
    if holder is not None and holder != other_than:
        raise AlreadyExists(f"sku {sku} is taken", existing_id=holder, resource_type="product")


class CatalogServicer(catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.methods = StandardMethods(
            runtime.sessions,
            store.products,
            catalog_pb2.Product,
            list_spec=store.PRODUCT_LIST_SPEC,
            listed=store.active_products,
        )

    def CreateProduct(
        self, request: catalog_pb2.CreateProductRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.Product:
        domain.require_manage(current_caller_or_none(), "product", "create")

        def add(session: Session, actor_id: str, _: Any) -> Change[Any]:
            _sku_taken(session, request.sku)
            row = Product(
                id=str(uuid.uuid4()),
                **store.product_columns(
                    catalog_pb2.Product(
                        sku=request.sku,
                        name=request.name,
                        description=request.description,
                        kind=request.kind,
                        unit=request.unit,
                        tax_rate_bp=request.tax_rate_bp,
                    )
                ),
            )
            try:
                return store.products.create(session, row, actor_id)
            except IntegrityError:  # a concurrent create took the sku between the check and the insert
                raise AlreadyExists(f"sku {request.sku} is taken", resource_type="product") from None

        return self.methods.create(context, request, add=add)

    def GetProduct(
        self, request: catalog_pb2.GetProductRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.Product:
        domain.require_read(current_caller_or_none(), "product")
        return self.methods.get(request.id)

    def ListProducts(
        self, request: catalog_pb2.ListProductsRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.ListProductsResponse:
        domain.require_read(current_caller_or_none(), "product")
        return catalog_pb2.ListProductsResponse(**self.methods.list(request))

    def UpdateProduct(
        self, request: catalog_pb2.UpdateProductRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.Product:
        domain.require_manage(current_caller_or_none(), "product", "update")
        product_id = request.product.id

        def apply(session: Session, *args: Any, **kwargs: Any) -> Change[Any]:
            def prepare(merged: catalog_pb2.Product) -> None:
                if not merged.sku or not merged.name:
                    raise InvalidArgument("invalid product", {"product.sku": "is required"})
                _sku_taken(session, merged.sku, other_than=product_id)

            return store.products.update(session, *args, **{**kwargs, "prepare": prepare})

        return self.methods.update(context, request, request.product, apply=apply)

    def DeleteProduct(
        self, request: catalog_pb2.DeleteProductRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        domain.require_manage(current_caller_or_none(), "product", "delete")
        return self.methods.delete(context, request)

    def ListProductHistory(
        self, request: catalog_pb2.ListProductHistoryRequest, context: grpc.ServicerContext
    ) -> history_pb2.ListHistoryResponse:
        domain.require_read(current_caller_or_none(), "product")
        return self.methods.history(
            history_pb2.ListHistoryRequest(id=request.id, limit=request.limit, cursor=request.cursor)
        )


def _assign_partners(session: Session, price_list_id: str, partner_account_ids: list[str]) -> None:
    """The assignment rows follow the list's `partner_account_ids`, in the write's transaction."""
    session.execute(delete(PriceListPartner).where(PriceListPartner.price_list_id == price_list_id))
    if partner_account_ids:
        session.execute(
            insert(PriceListPartner),
            [{"price_list_id": price_list_id, "partner_account_id": p} for p in partner_account_ids],
        )


def _known_products(session: Session, ids: set[str]) -> set[str]:
    if not ids:
        return set()
    live = select(Product.id).where(Product.id.in_(ids), Product.archived_at.is_(None))
    return set(session.scalars(live))


def _visible_to(caller: CallerContext | None, row: Any) -> bool:
    """A partner user sees the lists assigned to their account; staff with read rights see every list."""
    if caller is None or not caller.is_partner:
        return True
    return caller.partner_account_id in (row.partner_account_ids or [])


class PriceListsServicer(catalog_pb2_grpc.PriceListsServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions
        self.methods = StandardMethods(
            runtime.sessions,
            store.price_lists,
            catalog_pb2.PriceList,
            list_spec=store.PRICE_LIST_SPEC,
            listed=lambda: store.active_price_lists(_partner_of(current_caller_or_none())),
        )

    def CreatePriceList(
        self, request: catalog_pb2.CreatePriceListRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.PriceList:
        domain.require_manage(current_caller_or_none(), "price_list", "create")
        domain.check_price_list(request)

        def add(session: Session, actor_id: str, _: Any) -> Change[Any]:
            asked = {price.product_id for price in request.prices}
            domain.unknown_products(request.prices, _known_products(session, asked))
            message = catalog_pb2.PriceList(
                name=request.name,
                currency=request.currency,
                valid_from=request.valid_from,
                valid_until=request.valid_until,
                prices=request.prices,
                partner_account_ids=request.partner_account_ids,
            )
            row = PriceList(id=str(uuid.uuid4()), **store.price_list_columns(message))
            change = store.price_lists.create(session, row, actor_id)
            _assign_partners(session, row.id, row.partner_account_ids)
            return change

        return self.methods.create(context, request, add=add)

    def GetPriceList(
        self, request: catalog_pb2.GetPriceListRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.PriceList:
        caller = current_caller_or_none()
        domain.require_read(caller, "price_list")
        with reading(self.sessions) as session:
            row = store.price_lists.read(session, request.id)
            if not _visible_to(caller, row):
                raise _not_found("price_list", request.id)
            return store.price_list_message(row)

    def ListPriceLists(
        self, request: catalog_pb2.ListPriceListsRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.ListPriceListsResponse:
        domain.require_read(current_caller_or_none(), "price_list")
        return catalog_pb2.ListPriceListsResponse(**self.methods.list(request))

    def UpdatePriceList(
        self, request: catalog_pb2.UpdatePriceListRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.PriceList:
        domain.require_manage(current_caller_or_none(), "price_list", "update")

        def apply(session: Session, *args: Any, **kwargs: Any) -> Change[Any]:
            def prepare(merged: catalog_pb2.PriceList) -> None:
                domain.check_price_list(merged, "price_list")
                asked = {price.product_id for price in merged.prices}
                domain.unknown_products(merged.prices, _known_products(session, asked), "price_list")

            change = store.price_lists.update(session, *args, **{**kwargs, "prepare": prepare})
            if "partner_account_ids" in change.changed_fields:
                session.refresh(change.row)
                _assign_partners(session, change.row.id, change.row.partner_account_ids)
            return change

        return self.methods.update(context, request, request.price_list, apply=apply)

    def DeletePriceList(
        self, request: catalog_pb2.DeletePriceListRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        domain.require_manage(current_caller_or_none(), "price_list", "delete")
        return self.methods.delete(context, request)

    def ResolvePrice(
        self, request: catalog_pb2.ResolvePriceRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.ResolvedPrice:
        caller = current_caller_or_none()
        domain.require_read(caller, "price_list")
        on = store.parse_day(request.on, "on") or datetime.now(UTC).date()
        with reading(self.sessions) as session:
            price_list_id = request.price_list_id
            if price_list_id == "-":
                if caller is None or not caller.is_partner:
                    raise InvalidArgument("invalid request", {"price_list_id": "`-` is for partner users"})
                price_list_id = pricing.partner_price_list(session, caller.partner_account_id or "")
            row = store.price_lists.read(session, price_list_id)
            if not _visible_to(caller, row):
                raise _not_found("price_list", price_list_id)
            price = pricing.resolve_price(
                session, request.product_id, request.quantity or 1, price_list_id, on
            )
        return catalog_pb2.ResolvedPrice(
            product_id=price.product_id,
            price_list_id=price.price_list_id,
            unit_price=money(price.unit_amount_minor, price.currency),
            min_quantity=price.min_quantity,
            tax_rate_bp=price.tax_rate_bp,
        )


def _partner_of(caller: CallerContext | None) -> str | None:
    return caller.partner_account_id if caller is not None and caller.is_partner else None


TERMS_TYPE = "partner_terms"  # history's resource type for the terms (their rights are price_list's)


class PartnerTermsServicer(catalog_pb2_grpc.PartnerTermsServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def GetPartnerTerms(
        self, request: catalog_pb2.GetPartnerTermsRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.PartnerTerms:
        caller = current_caller_or_none()
        domain.require_read(caller, "price_list")
        account = request.partner_account_id
        if caller is not None and caller.is_partner and caller.partner_account_id != account:
            raise _not_found(TERMS_TYPE, account)
        with reading(self.sessions) as session:
            row = session.get(PartnerTermsRow, account)
            if row is None:
                raise _not_found(TERMS_TYPE, account)
            return store.terms_message(row)

    def UpdatePartnerTerms(
        self, request: catalog_pb2.UpdatePartnerTermsRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.PartnerTerms:
        domain.require_manage(current_caller_or_none(), "price_list", "update")
        asked = request.terms
        account = asked.partner_account_id
        if not account:
            raise InvalidArgument("invalid terms", {"terms.partner_account_id": "is required"})
        domain.check_terms_amounts(asked)
        with idempotent_write(self.sessions, context, request, catalog_pb2.PartnerTerms) as write:
            if write.replay is not None:
                return write.replay
            session = write.session
            row = session.get(PartnerTermsRow, account, with_for_update=True)
            now = utcnow()
            if row is None:
                row = PartnerTermsRow(
                    partner_account_id=account,
                    payment_terms_days=store.DEFAULT_PAYMENT_TERMS_DAYS,
                    version=0,
                    updated_at=now,
                )
                session.add(row)
            current = store.terms_message(row)
            paths = [p for p in request.update_mask.paths if p != "partner_account_id"]
            merged = merge_update(current, asked, paths, request_field="terms").message
            check_etag(account, row.version, asked.etag)
            if merged.price_list_id and merged.price_list_id != row.price_list_id:
                assigned = session.scalar(
                    select(PriceListPartner.price_list_id).where(
                        PriceListPartner.price_list_id == merged.price_list_id,
                        PriceListPartner.partner_account_id == account,
                    )
                )
                if assigned is None:
                    raise InvalidArgument(
                        "invalid terms",
                        {"terms.price_list_id": "must name a price list assigned to the account"},
                    )
            values = {
                "price_list_id": merged.price_list_id or None,
                "credit_limit_minor": merged.credit_limit.amount_minor
                if merged.HasField("credit_limit")
                else None,
                "credit_currency": merged.credit_limit.currency if merged.HasField("credit_limit") else None,
                "payment_terms_days": merged.payment_terms_days,
                "approval_threshold_minor": merged.approval_threshold.amount_minor
                if merged.HasField("approval_threshold")
                else None,
                "approval_threshold_currency": merged.approval_threshold.currency
                if merged.HasField("approval_threshold")
                else None,
            }
            before = {name: getattr(row, name) for name in values}
            changes = [FieldChange(n, before[n], v) for n, v in values.items() if before[n] != v]
            if changes or row.version == 0:
                for name, value in values.items():
                    setattr(row, name, value)
                row.version += 1
                row.updated_at = now
                session.flush()
                action = Action.CREATED if row.version == 1 else Action.UPDATED
                record_change(
                    session, TERMS_TYPE, account, action, actor_of(context), changes, occurred_at=now
                )
            return write.respond(store.terms_message(row))


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    catalog_pb2_grpc.add_CatalogServiceServicer_to_server(CatalogServicer(runtime), server)
    catalog_pb2_grpc.add_PriceListsServiceServicer_to_server(PriceListsServicer(runtime), server)
    catalog_pb2_grpc.add_PartnerTermsServiceServicer_to_server(PartnerTermsServicer(runtime), server)
    services = catalog_pb2.DESCRIPTOR.services_by_name
    return [
        services[name].full_name for name in ("CatalogService", "PriceListsService", "PartnerTermsService")
    ]


def install(definition: ServiceDefinition) -> ServiceDefinition:
    return definition.include(register)

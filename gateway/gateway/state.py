"""What one gateway app holds open (database, gRPC clients, token keys), reachable from any view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:  # imported for annotations only: those modules reach the state through this one
    from gateway.auth import TokenIssuer
    from gateway.clients import ServiceClients
    from gateway.database import Database
    from gateway.idempotency import IdempotencyStore
    from gateway.settings import GatewaySettings
    from gateway.users import Authenticator

_KEY = "crm_gateway"


@dataclass(frozen=True)
class GatewayState:
    settings: GatewaySettings
    database: Database
    clients: ServiceClients
    tokens: TokenIssuer
    authenticator: Authenticator
    idempotency: IdempotencyStore

    def install(self, app: Flask) -> None:
        app.extensions[_KEY] = self

    def close(self) -> None:
        self.clients.close()
        self.database.dispose()


def state() -> GatewayState:
    found: GatewayState = current_app.extensions[_KEY]
    return found

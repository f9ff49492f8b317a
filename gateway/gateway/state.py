"""What one gateway app holds open (database, gRPC clients, token keys), reachable from any view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:  # annotations only: this module depends on nothing at run time
    from gateway.clients import ServiceClients
    from gateway.database import Database
    from gateway.settings import GatewaySettings
    from gateway.tokens import TokenIssuer
    from gateway.transcoding.contracts import Contracts
    from gateway.transcoding.views import ServedRoute
    from gateway.users import Authenticator

_KEY = "crm_gateway"


@dataclass(frozen=True)
class GatewayState:
    settings: GatewaySettings
    database: Database
    clients: ServiceClients
    tokens: TokenIssuer
    authenticator: Authenticator
    routes: list[ServedRoute]
    contracts: Contracts

    def install(self, app: Flask) -> None:
        app.extensions[_KEY] = self

    def close(self) -> None:
        self.clients.close()
        self.database.dispose()


def state() -> GatewayState:
    found: GatewayState = current_app.extensions[_KEY]
    return found

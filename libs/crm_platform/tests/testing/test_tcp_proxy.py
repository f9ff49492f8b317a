"""The TCP proxy before the real PostgreSQL: cut drops connections and refuses new ones; restore heals."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.engine import make_url

from crm_platform.testing.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def proxy(postgres_url: str):
    target = make_url(postgres_url)
    with TcpProxy(target.host or "127.0.0.1", target.port or 5432) as running:
        yield running


def test_cut_drops_open_connections_and_refuses_new_ones_until_restored(
    proxy: TcpProxy, postgres_url: str
) -> None:
    through = libpq(proxy.url_for(postgres_url))
    with psycopg.connect(through, connect_timeout=3) as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)
        proxy.cut()
        with pytest.raises(psycopg.OperationalError):
            connection.execute("SELECT 1")
    with pytest.raises(psycopg.OperationalError, match="refused"):
        psycopg.connect(through, connect_timeout=3)
    port = proxy.port
    proxy.restore()
    assert proxy.port == port
    with psycopg.connect(through, connect_timeout=3) as connection:
        assert connection.execute("SELECT 2").fetchone() == (2,)
    assert proxy.accepted == 2


def test_the_url_keeps_everything_but_host_and_port(proxy: TcpProxy, postgres_url: str) -> None:
    rewritten = make_url(proxy.url_for(postgres_url))
    original = make_url(postgres_url)
    assert (rewritten.host, rewritten.port) == ("127.0.0.1", proxy.port)
    assert (rewritten.database, rewritten.username, rewritten.drivername) == (
        original.database,
        original.username,
        original.drivername,
    )

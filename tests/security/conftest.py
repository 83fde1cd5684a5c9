"""Fixtures of tests/security: a DNS the test writes, a socket layer that records every connection
and refuses all but the loopback servers a test allows, and such a server (see support.py)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from linkback.verify import fetch

from .support import Network, Server


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> Network:
    net = Network()
    monkeypatch.setattr(socket, "getaddrinfo", net.getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", lambda sock, address: net.connect(sock, address))
    monkeypatch.setattr(socket.socket, "connect_ex", lambda sock, address: net.connect_ex(sock, address))
    # A proxy from the environment would be a way around the pinning: it must be ignored.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://10.9.9.9:3128")
    monkeypatch.setenv("ALL_PROXY", "socks5://10.9.9.9:1080")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    return net


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.stop()


@pytest.fixture
def site(server: Server, network: Network, monkeypatch: pytest.MonkeyPatch) -> Server:
    """The loopback server as `blog.test`: the one address the guard treats as public in this test
    (as tests/integration/test_safe_fetcher.py does); every other address keeps the real rules."""
    real_denied = fetch.is_denied_address
    monkeypatch.setattr(fetch, "is_denied_address", lambda address: address != "127.0.0.1" and real_denied(address))
    network.answer("blog.test", ["127.0.0.1"])
    network.allow(server.port)
    return server


@pytest.fixture
def no_backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Storage, queue and limits that fail the test if a refused request ever reaches them."""
    from linkback import wiring

    reached: list[str] = []

    def forbidden(name: str):  # type: ignore[no-untyped-def]
        def use(*args: object, **kwargs: object) -> None:
            reached.append(name)
            raise AssertionError(f"a refused request reached {name}")

        return use

    for name in ("repository", "verify_queue", "intake_limits", "rate_limiter", "fetcher"):
        if hasattr(wiring, name):
            monkeypatch.setattr(wiring, name, forbidden(name))
    monkeypatch.setenv("LINKBACK_SITES", "https://example.com")
    wiring.settings.cache_clear()
    yield reached
    wiring.settings.cache_clear()


# The atheris run is opt-in: it needs atheris installed and takes minutes.
collect_ignore = [] if os.environ.get("LINKBACK_ATHERIS") == "1" else ["test_atheris.py"]

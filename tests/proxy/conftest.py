"""Fixtures of the proxy's tests: real uvicorn servers for the upstream and the proxy.

The conforming upstream is the project's mock (self-check on: it fails the test if it ever
answers something the spec forbids); the broken one is `upstreams.broken_app`. Proxies run the
reference engine in a thread (no process start per test); one test covers the process mode.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from lenz_contract.proxy import ProxyConfig, create_app

from ..support.live import serve
from ..support.processes import MOCK_TOKEN
from .upstreams import Upstream, broken_app

TOKEN = MOCK_TOKEN
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Proxy:
    url: str
    app: Starlette
    console: io.StringIO
    client: httpx.Client

    def flush(self) -> dict[str, Any]:
        """Wait for openapi-core, save the recording; the JSON report."""
        assert self.client.post("/__proxy/flush").status_code == 200
        report: dict[str, Any] = self.client.get(
            "/__proxy/report", params={"format": "json"}
        ).json()
        return report


def issues(report: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    """`(operation, direction, path, count)` of every distinct violation in a report."""
    return [
        (op["operation"], issue["direction"], issue["path"], issue["count"])
        for op in report["operations"]
        for issue in op["issues"]
    ]


ProxyFactory = Callable[..., AbstractContextManager[Proxy]]


@pytest.fixture
def proxy() -> ProxyFactory:
    """`with proxy(upstream_url, **ProxyConfig fields) as p:` a live proxy and a client for it."""

    @contextmanager
    def start(upstream: str, *, http: str = "auto", **options: Any) -> Iterator[Proxy]:
        console = io.StringIO()
        options.setdefault("reference", "thread")
        app = create_app(ProxyConfig(upstream=upstream, console=console, **options))
        with (
            serve(app, server_header=False, date_header=False, http=http) as url,
            httpx.Client(base_url=url, timeout=30) as client,
        ):
            yield Proxy(url, app, console, client)

    return start


@pytest.fixture(scope="module")
def broken() -> Iterator[tuple[str, Upstream]]:
    state = Upstream()
    with serve(broken_app(state)) as url:
        yield url, state


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """openapi-core warns on every request using allowEmptyValue (the spec's `search`); the
    reference engine runs in a thread here, where pytest's per-test filters see it."""
    for item in items:
        if "tests/proxy/" in str(item.path):
            item.add_marker(
                pytest.mark.filterwarnings("ignore:Use of allowEmptyValue:DeprecationWarning")
            )

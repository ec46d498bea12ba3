"""Fixtures of the drift tests: the drifting upstream, a proxy in front of it, a journey."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from lenz_contract.proxy import ProxyConfig, create_app
from lenz_contract.spec import Spec

from ..conftest import load_fixture
from ..support.live import serve
from ..support.processes import MOCK_TOKEN
from .upstreams import drifting_app

AUTH = {"Authorization": f"Bearer {MOCK_TOKEN}"}


@pytest.fixture
def drifting_url() -> Iterator[str]:
    """A fresh drifting deployment per test: the counts of each test are its own."""
    with serve(drifting_app()) as url:
        yield url


ProxyRun = Callable[..., AbstractContextManager[tuple[httpx.Client, Callable[[], dict[str, Any]]]]]


@pytest.fixture
def proxied() -> ProxyRun:
    """`with proxied(upstream, spec=None, **config) as (client, flush):` a live proxy."""

    @contextmanager
    def start(
        upstream: str, spec: Spec | None = None, **options: Any
    ) -> Iterator[tuple[httpx.Client, Callable[[], dict[str, Any]]]]:
        options.setdefault("reference", "off")
        app = create_app(ProxyConfig(upstream=upstream, console=io.StringIO(), **options), spec)
        with serve(app) as url, httpx.Client(base_url=url, timeout=30) as client:

            def flush() -> dict[str, Any]:
                assert client.post("/__proxy/flush").status_code == 200
                report: dict[str, Any] = client.get("/__proxy/report?format=json").json()
                return report

            yield client, flush

    return start


def journey(client: httpx.Client) -> list[int]:
    """A frontend's session: list, create, search, page, read, update (and one the deployment refuses),
    execute, logs, delete, read the deleted one. Returns the statuses answered."""
    create = load_fixture("docs/createWorkflow.request.json")
    update = load_fixture("docs/updateWorkflow.request.json")
    statuses = []

    def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
        answer = client.request(method, url, headers=AUTH, **kwargs)
        statuses.append(answer.status_code)
        return answer

    call("GET", "/api/workflows")
    first = call("POST", "/api/workflows", json=create).json()["data"]["id"]
    call("POST", "/api/workflows", json={**create, "name": "Ekspor Mingguan"})
    call("GET", "/api/workflows", params={"search": "laporan"})
    call("GET", "/api/workflows", params={"page": 1, "limit": 1})
    call("GET", f"/api/workflows/{first}")
    call("PUT", f"/api/workflows/{first}", json=update)
    call("PUT", f"/api/workflows/{first}", json={**update, "name": "x" * 41})  # refused: 422
    call("GET", f"/api/workflows/{first}")
    call("POST", f"/api/workflows/{first}/execute")
    call("GET", f"/api/workflows/{first}/logs")
    call("DELETE", f"/api/workflows/{first}")
    call("GET", f"/api/workflows/{first}")
    return statuses


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path

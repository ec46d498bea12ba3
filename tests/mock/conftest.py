"""Fixtures of the mock server's tests: apps with the self-check on, in-process and live clients.

Every app built here validates each answer against the spec (`self_check=True`); its
teardown fails the test if the mock ever answered something the spec forbids or crashed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from lenz_contract.mock import create_app
from lenz_contract.mock.clock import MockClock

from ..support.live import serve
from ..support.processes import MOCK_TOKEN

TOKEN = MOCK_TOKEN
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON_AUTH = {**AUTH, "Content-Type": "application/json"}
START = datetime(2025, 4, 30, 8, 0, 0, tzinfo=UTC)
"""The mock clock of the tests stands still here (the docs' create answer's time)."""

AppFactory = Callable[..., Starlette]


def assert_no_mock_failures(app: Starlette) -> None:
    failures = app.state.mock.failures
    assert not failures, "the mock broke its own contract:\n" + "\n".join(failures)


@pytest.fixture
def make_app() -> Iterator[AppFactory]:
    """Build mock apps (self-check on, frozen clock, no background scheduler by default)."""
    built: list[Starlette] = []

    def factory(**options: Any) -> Starlette:
        options.setdefault("self_check", True)
        options.setdefault("scheduler", False)
        options.setdefault("clock", MockClock.frozen(START))
        app = create_app(**options)
        built.append(app)
        return app

    yield factory
    for app in built:
        assert_no_mock_failures(app)


@pytest.fixture
def app(make_app: AppFactory) -> Starlette:
    return make_app()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """In-process: httpx over ASGI, no sockets (no lifespan: the app needs none to answer)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock.test") as c:
        yield c


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def each_store_app(
    request: pytest.FixtureRequest, make_app: AppFactory, tmp_path: Path
) -> Iterator[Starlette]:
    """An app on each store: in memory, in a SQLite file (`--state FILE`), and in a
    PostgreSQL database (`--state postgresql://...`, a fresh database of the test cluster)."""
    state_path = tmp_path / "state.sqlite" if request.param == "sqlite" else None
    database_url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    app = make_app(state_path=state_path, database_url=database_url)
    yield app
    app.state.mock.close()  # no lifespan in-process: close the file or the pool here


@pytest.fixture
async def each_store_client(each_store_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """`client` on each store."""
    transport = httpx.ASGITransport(app=each_store_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock.test") as c:
        yield c


@pytest.fixture
def live(app: Starlette) -> Iterator[httpx.Client]:
    """Over real HTTP: the same app served by uvicorn on a loopback port."""
    with serve(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as c:
        yield c

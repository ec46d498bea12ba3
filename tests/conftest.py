"""Shared fixtures for the whole suite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lenz_contract.mock import create_app as create_mock
from lenz_contract.spec import Spec

from .support.live import serve
from .support.postgres import Cluster, Databases

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"


@pytest.fixture(scope="session")
def spec() -> Spec:
    return Spec.load()


def load_fixture(relative: str) -> Any:
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """One throwaway PostgreSQL cluster for the whole session, made on first use (about two
    seconds); fails with an install hint when PostgreSQL is missing."""
    cluster = Cluster.create()
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="session")
def postgres_databases(postgres_cluster: Cluster) -> Databases:
    return Databases(postgres_cluster)


@pytest.fixture
def postgres_url(postgres_databases: Databases) -> Iterator[str]:
    """A fresh, empty database of the session's cluster; dropped after the test."""
    name, url = postgres_databases.new()
    yield url
    postgres_databases.cluster.drop_database(name)


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    """A real mock on a loopback port for a test module (self-check on, no scheduler); it
    must end without having broken its own contract."""
    app = create_mock(self_check=True, scheduler=False)
    with serve(app) as url:
        yield url
    assert not app.state.mock.failures, app.state.mock.failures

"""schemathesis against the live mock: valid and invalid data for every operation, every check.

No answer may be a 5xx or break the spec (schemathesis' checks), and the mock's own
self-check must stay silent (the `make_app` fixture fails the test otherwise).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import ignored_auth

from lenz_contract.spec import Spec

from ..support.live import serve
from .conftest import AUTH, AppFactory

SPEC = Spec.load()
SCHEMA = schemathesis.openapi.from_dict(SPEC.document)
OPERATIONS = [(op.path, op.method) for op in SPEC.operations.values()]


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    from lenz_contract.mock import create_app

    app = create_app(self_check=True, scheduler=False)
    with serve(app) as url:
        yield url
    failures = app.state.mock.failures
    assert not failures, "the mock broke its own contract:\n" + "\n".join(failures)


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@pytest.mark.parametrize(
    "mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"]
)
@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_schemathesis_finds_nothing(
    base_url: str, session: requests.Session, path: str, method: str, mode: GenerationMode
) -> None:
    strategy = SCHEMA[path][method].as_strategy(generation_mode=mode)
    statuses: list[int] = []

    @settings(
        max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        case.headers = {**(case.headers or {}), **AUTH}  # a known token: test past the 401
        response = case.call(base_url=base_url, session=session)
        assert response.status_code < 500, response.text
        # The token is replaced on purpose, so `ignored_auth` would misread the 200s; the
        # 401 paths have their own tests (test_api.py).
        case.validate_response(response, excluded_checks=[ignored_auth])
        statuses.append(response.status_code)

    run()
    assert statuses


def test_make_app_fixture_is_importable(make_app: AppFactory) -> None:
    assert make_app().state.mock.config.self_check

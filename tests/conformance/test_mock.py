"""The suite against the project's own mock: it conforms, in-process and over HTTP, in both
profiles, and a run leaves the mock's data as it was."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from lenz_contract import mock
from lenz_contract.conformance import Profile, RunOptions, RunResult, Target, run
from lenz_contract.conformance.asgi import InProcessTransport

from ..support.live import serve
from ..support.processes import MOCK_TOKEN


def listing(client: httpx.Client) -> Any:
    answer = client.get(
        "/api/workflows", params={"limit": 100}, headers={"Authorization": f"Bearer {MOCK_TOKEN}"}
    )
    answer.raise_for_status()
    return answer.json()["data"]


def explain(result: RunResult) -> list[str]:
    return [f.summary() for f in result.failures] + result.errors + result.leftovers


@pytest.mark.parametrize("profile", [Profile.DOCS, Profile.STRICT])
def test_the_mock_conforms_in_process(profile: Profile) -> None:
    app = mock.create_app(self_check=True)
    options = RunOptions(profile=profile, allow_execute=True, max_examples=5, seed=21)
    result = run(Target.in_process(app), MOCK_TOKEN, options)
    assert result.exit_code == 0, explain(result)
    assert not result.leftovers


def test_the_mock_conforms_over_http_and_is_left_as_it_was() -> None:
    app = mock.create_app(self_check=True)
    with serve(app) as url, httpx.Client(base_url=url) as client:
        before = listing(client)
        result = run(Target.http(url), MOCK_TOKEN, RunOptions(max_examples=3, seed=22))
        after = listing(client)
    assert result.exit_code == 0, explain(result)
    assert after == before


def test_the_mock_says_it_is_the_mock() -> None:
    """Execution checks run against the mock without --allow-execute (`X-Lenz-Mock` header)."""
    app = mock.create_app()
    transport = InProcessTransport(app)
    try:
        with httpx.Client(transport=transport, base_url="http://mock") as client:
            answer = client.get("/api/workflows", headers={"Authorization": f"Bearer {MOCK_TOKEN}"})
    finally:
        transport.close()
    assert answer.headers["x-lenz-mock"] == "lenz-contract"
    result = run(Target.in_process(mock.create_app()), MOCK_TOKEN, RunOptions(generation=False))
    assert result.is_mock and result.execute_allowed
    assert result.exit_code == 0, explain(result)

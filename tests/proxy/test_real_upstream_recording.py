"""A recording of a deployment that is not the mock starts the mock cleanly, or is refused at
record time with a reason in the proxy's report (never at the mock's start).

Decisions, case by case (see `proxy/recorder.py`): offset timestamps are kept as the same
instants in UTC; `description: null` is kept as it is; a run still in progress is refused (its
finished state, seen later in the logs, is kept).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest

from lenz_contract.mock import create_app as create_mock
from lenz_contract.proxy import ProxyConfig, create_app
from lenz_contract.spec.fixtures import FixtureSet, load_fixtures
from lenz_contract.spec.timestamps import parse_rfc3339

from ..support.live import serve
from .conftest import AUTH, issues
from .real_upstream import CREDENTIAL, NODE_OUTPUT_STAMP, real_world_app


def _use(client: httpx.Client) -> None:
    """What a frontend does: list, open, run and read the logs of each workflow."""
    assert client.get("/api/workflows").status_code == 200
    for workflow_id in ("wf-offset", "wf-null"):
        assert client.get(f"/api/workflows/{workflow_id}").status_code == 200
        ran = client.post(f"/api/workflows/{workflow_id}/execute").json()
        assert ran["data"]["status"] == "running"
        assert client.get(f"/api/workflows/{workflow_id}/logs").status_code == 200
    assert client.get("/api/workflows/wf-gone").status_code == 404


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One recording through the proxy for the module; the folder and the proxy's report."""
    record = tmp_path_factory.mktemp("real") / "recorded"
    with serve(real_world_app()) as upstream_url:
        config = ProxyConfig(
            upstream=upstream_url,
            console=io.StringIO(),
            reference="thread",
            record_dir=record,
            flush_interval=0.05,
        )
        with (
            serve(create_app(config)) as url,
            httpx.Client(base_url=url, headers=AUTH, timeout=30) as client,
        ):
            _use(client)
            assert client.post("/__proxy/flush").status_code == 200
            report = client.get("/__proxy/report", params={"format": "json"}).json()
    return record, report


def test_nothing_the_deployment_answered_broke_the_contract(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    _, report = recorded
    assert issues(report) == []
    assert report["recording"]["skipped_nonconforming"] == 0


def test_runs_in_progress_are_refused_with_their_reason(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    _, report = recorded
    refusals = report["recording"]["refusals"]
    assert {(r["operation"], r["item"]) for r in refusals} == {
        ("executeWorkflow", "execution 'exec-run-wf-offset'"),
        ("executeWorkflow", "execution 'exec-run-wf-null'"),
        ("executeWorkflow", "example 200-wf-offset"),
        ("executeWorkflow", "example 200-wf-null"),
    }
    assert report["recording"]["refused"] == 4
    for refusal in refusals:
        assert "strict view" in refusal["reason"]
        assert '"running" is not one of "success" or "failed"' in refusal["reason"]
    by_item = {r["item"]: r["reason"] for r in refusals}
    assert "$.status:" in by_item["execution 'exec-run-wf-null'"]  # the place in the item
    assert "$.body.data.status:" in by_item["example 200-wf-null"]  # the place in the file


def test_the_folder_loads_with_timestamps_in_utc_and_null_descriptions_kept(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    record, _ = recorded
    fixtures = load_fixtures(record)  # the mock's view: what the mock will load
    workflows = {w["id"]: w for w in fixtures.workflows}
    assert set(workflows) == {"wf-offset", "wf-null"}
    assert workflows["wf-offset"]["created_at"] == "2025-06-01T07:00:00.123456789Z"
    assert workflows["wf-offset"]["updated_at"] == "2025-06-02T07:30:00.5Z"
    assert workflows["wf-null"]["description"] is None
    executions = {e["id"]: e for e in fixtures.executions}
    assert set(executions) == {"exec-run-wf-offset", "exec-evening"}  # wf-null's never finished
    finished = executions["exec-run-wf-offset"]
    assert finished["status"] == "success"
    assert (finished["started_at"], finished["finished_at"]) == (
        "2025-06-02T18:00:00Z",
        "2025-06-02T18:00:04.25Z",
    )
    node = finished["node_results"][0]
    assert node["finished_at"] == "2025-06-02T18:00:02.999999999Z"
    assert node["output"]["generated_at"] == NODE_OUTPUT_STAMP  # data, not a schema timestamp
    assert {c["id"] for c in fixtures.credentials} == {CREDENTIAL}
    assert "executeWorkflow" not in fixtures.examples
    assert _instants_equal(fixtures, "wf-offset", "2025-06-01T14:00:00.123456+07:00")


def _instants_equal(fixtures: FixtureSet, workflow_id: str, original: str) -> bool:
    kept = next(w for w in fixtures.workflows if w["id"] == workflow_id)
    return parse_rfc3339(kept["created_at"]) == parse_rfc3339(original)


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_the_mock_serves_the_recording_in_time_order(
    recorded: tuple[Path, dict[str, Any]], store: str, tmp_path: Path
) -> None:
    record, _ = recorded
    state_path = tmp_path / "state.db" if store == "sqlite" else None
    app = create_mock(fixtures_dir=record, state_path=state_path, scheduler=False, self_check=True)
    with serve(app) as url, httpx.Client(base_url=url, headers=AUTH) as mock:
        listed = mock.get("/api/workflows").json()["data"]
        assert [w["id"] for w in listed] == ["wf-offset", "wf-null"]  # by instant, not by text
        assert mock.get("/api/workflows/wf-null").json()["data"]["description"] is None
        logs = mock.get("/api/workflows/wf-offset/logs").json()["data"]
        assert [e["id"] for e in logs] == ["exec-evening", "exec-run-wf-offset"]  # newest first
        assert mock.get("/api/workflows/wf-null/logs").json()["data"] == []
        forced = mock.get(
            "/api/workflows/anything", headers={"Prefer": "example=200-wf-offset"}
        ).json()
        assert forced["data"]["created_at"] == "2025-06-01T07:00:00.123456789Z"
        ran = mock.post("/api/workflows/wf-offset/execute")
        assert ran.status_code == 200, ran.text
        logs = mock.get("/api/workflows/wf-offset/logs").json()["data"]
        starts = [parse_rfc3339(e["started_at"]) for e in logs]
        assert len(logs) == 3 and starts == sorted(starts, reverse=True)  # type: ignore[type-var]
    assert app.state.mock.failures == []

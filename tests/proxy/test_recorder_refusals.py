"""The recorder keeps only what the mock will load: timestamps rewritten to UTC (the same
instants), anything else the mock's view refuses left out with its reason in the report."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from lenz_contract.proxy.exchange import Exchange
from lenz_contract.proxy.recorder import MAX_REFUSALS, Recorder, UtcTimestamps, utc_timestamp
from lenz_contract.proxy.redact import Redactor
from lenz_contract.spec import Spec
from lenz_contract.spec.fixtures import load_fixtures
from lenz_contract.spec.timestamps import parse_rfc3339

from ..conftest import load_fixture


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("2025-06-01T14:00:00.123456789+07:00", "2025-06-01T07:00:00.123456789Z"),
        ("2025-06-01T01:30:00-05:30", "2025-06-01T07:00:00Z"),
        ("2025-01-01T02:00:00+03:00", "2024-12-31T23:00:00Z"),  # across a year
        ("2025-06-01t07:00:00.5z", "2025-06-01T07:00:00.5Z"),
        ("2025-06-01 07:00:00+00:00", "2025-06-01T07:00:00Z"),
        ("2025-06-01T07:00:00-00:00", "2025-06-01T07:00:00Z"),
        ("2025-06-01T07:00:00Z", "2025-06-01T07:00:00Z"),
        ("0001-01-01T00:30:00+01:00", "0001-01-01T00:30:00+01:00"),  # no UTC form: left as is
        ("yesterday", "yesterday"),
    ],
)
def test_a_timestamp_is_kept_as_the_same_instant_in_utc(written: str, kept: str) -> None:
    assert utc_timestamp(written) == kept
    if kept != written:
        assert parse_rfc3339(kept) == parse_rfc3339(written)


def test_only_the_fields_the_schema_calls_timestamps_are_rewritten(spec: Spec) -> None:
    answer = copy.deepcopy(load_fixture("docs/executeWorkflow.response.json"))
    run = answer["data"]
    run["started_at"] = "2025-04-30T14:00:00+07:00"
    run["node_results"][0]["finished_at"] = "2025-04-30T14:00:03+07:00"
    run["node_results"][0]["output"]["generated_at"] = "2025-04-30T14:00:03+07:00"
    pointer = spec.operation("executeWorkflow").responses["200"].schema_pointer
    assert pointer
    written = UtcTimestamps(spec.document).body(pointer, answer)
    assert written["data"]["started_at"] == "2025-04-30T07:00:00Z"
    assert written["data"]["node_results"][0]["finished_at"] == "2025-04-30T07:00:03Z"
    assert written["data"]["node_results"][0]["output"]["generated_at"] == (
        "2025-04-30T14:00:03+07:00"  # a node's output is the deployment's data
    )
    assert answer["data"]["started_at"] == "2025-04-30T14:00:00+07:00"  # not changed in place


def _exchange(method: str, path: str, status: int = 200) -> Exchange:
    return Exchange(1, 0.0, method, path, "", [], [], b"", status, [], b"")


def _running_answer(run_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = copy.deepcopy(load_fixture("docs/executeWorkflow.response.json"))
    answer["data"].update(id=run_id, status="running", finished_at=None, node_results=[])
    return answer


def test_refusals_are_counted_and_reported_once_each(tmp_path: Path, spec: Spec) -> None:
    recorder = Recorder(tmp_path / "recorded", spec, Redactor())
    execute = spec.operation("executeWorkflow")
    params = {"id": "wf-uuid-001"}
    for run in ["exec-1", "exec-1", *(f"exec-{n}" for n in range(2, MAX_REFUSALS + 2))]:
        exchange = _exchange("POST", "/api/workflows/wf-uuid-001/execute")
        recorder.observe(exchange, execute, params, _running_answer(run), True)
    stats = recorder.stats()
    assert stats["refused"] == 2 * (MAX_REFUSALS + 2)  # the run, and the answer as an example
    assert len(stats["refusals"]) == MAX_REFUSALS  # the latest distinct ones
    assert stats["refusals"][-1] == {
        "operation": "executeWorkflow",
        "item": "example 200-wf-uuid-001",
        "reason": "the mock could not serve it (strict view): "
        '$.body.data.status: "running" is not one of "success" or "failed"',
    }
    assert stats["executions"] == 0 and stats["examples"] == 0 and not recorder.dirty


@pytest.mark.anyio
async def test_what_is_kept_loads_in_the_mocks_view(tmp_path: Path, spec: Spec) -> None:
    record = tmp_path / "recorded"
    recorder = Recorder(record, spec, Redactor())
    answer = copy.deepcopy(load_fixture("docs/getWorkflow.response.json"))
    answer["data"].update(description=None, created_at="2025-01-15T07:00:00.25+07:00")
    get = spec.operation("getWorkflow")
    recorder.observe(
        _exchange("GET", "/api/workflows/wf-uuid-001"), get, {"id": "wf-uuid-001"}, answer, True
    )
    await recorder.save()
    loaded = load_fixtures(record, spec)
    assert loaded.workflows[0]["created_at"] == "2025-01-15T00:00:00.25Z"
    assert loaded.workflows[0]["description"] is None
    assert loaded.examples["getWorkflow"]["200-wf-uuid-001"].body["data"] == loaded.workflows[0]
    assert recorder.stats()["refused"] == 0

"""`--record DIR`: what the deployment said becomes a fixtures folder the mock serves."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from lenz_contract.mock import create_app as create_mock
from lenz_contract.spec.fixtures import load_fixtures

from ..conftest import load_fixture
from ..support.live import serve
from .conftest import AUTH, ProxyFactory


def test_a_recording_round_trips_into_the_loader_and_the_mock(
    proxy: ProxyFactory, tmp_path: Path
) -> None:
    record = tmp_path / "recorded"
    upstream = create_mock(scheduler=False, self_check=True)
    create = load_fixture("docs/createWorkflow.request.json")
    with (
        serve(upstream) as upstream_url,
        proxy(upstream_url, record_dir=record, flush_interval=0.05) as p,
    ):
        c = p.client
        kept = c.post("/api/workflows", json={**create, "name": "Kept"}, headers=AUTH).json()[
            "data"
        ]
        dropped = c.post("/api/workflows", json={**create, "name": "Dropped"}, headers=AUTH).json()[
            "data"
        ]
        c.get("/api/workflows", headers=AUTH)
        execution = c.post(f"/api/workflows/{kept['id']}/execute", headers=AUTH).json()["data"]
        c.get(f"/api/workflows/{kept['id']}/logs", headers=AUTH)
        c.post(f"/api/workflows/{dropped['id']}/execute", headers=AUTH)
        assert c.delete(f"/api/workflows/{dropped['id']}", headers=AUTH).status_code == 200
        assert c.get(f"/api/workflows/{dropped['id']}", headers=AUTH).status_code == 404
        assert c.get("/api/workflows?limit=abc", headers=AUTH).status_code == 400
        assert c.get("/api/workflows").status_code == 401
        kept_now = c.get(f"/api/workflows/{kept['id']}", headers=AUTH).json()["data"]
        report = p.flush()
    assert report["recording"]["skipped_nonconforming"] == 0
    fixtures = load_fixtures(record)  # validates every file against the spec's schemas
    ids = [w["id"] for w in fixtures.workflows]
    assert (
        kept["id"] in ids and dropped["id"] not in ids and "wf-uuid-001" in ids
    )  # seen in the list
    assert next(w for w in fixtures.workflows if w["id"] == kept["id"]) == kept_now
    assert [e["id"] for e in fixtures.executions if e["workflow_id"] == kept["id"]] == [
        execution["id"]
    ]
    assert all(e["workflow_id"] != dropped["id"] for e in fixtures.executions)
    assert {c["id"] for c in fixtures.credentials} == {
        "cred-tg-001"
    }  # a stub, so the mock can run it
    examples = fixtures.examples
    assert set(examples) >= {
        "createWorkflow",
        "listWorkflows",
        "getWorkflow",
        "executeWorkflow",
        "listWorkflowLogs",
        "deleteWorkflow",
    }
    assert examples["getWorkflow"][f"404-{dropped['id']}"].status == 404
    assert examples["listWorkflows"]["400-limit-abc"].body["ok"] is False
    assert examples["listWorkflows"]["401-default"].status == 401
    assert examples["listWorkflows"]["200-default"].source == "recorded"
    on_disk = json.loads(
        (record / "examples" / "getWorkflow" / f"200-{kept['id']}.json").read_text()
    )
    assert set(on_disk) == {"status", "body", "source", "recorded_at"}
    assert not list(record.rglob("*.tmp"))

    replay = create_mock(fixtures_dir=record, scheduler=False, self_check=True)
    with serve(replay) as replay_url, httpx.Client(base_url=replay_url, headers=AUTH) as mock:
        assert mock.get(f"/api/workflows/{kept['id']}").json()["data"] == kept_now
        assert [e["id"] for e in mock.get(f"/api/workflows/{kept['id']}/logs").json()["data"]] == [
            execution["id"]
        ]
        assert mock.get(f"/api/workflows/{dropped['id']}").status_code == 404
        assert (
            mock.post(f"/api/workflows/{kept['id']}/execute").json()["data"]["status"] == "success"
        )


def test_recording_adds_to_an_existing_folder(
    proxy: ProxyFactory, mock_url: str, tmp_path: Path
) -> None:
    record = tmp_path / "recorded"
    with proxy(mock_url, record_dir=record) as p:
        p.client.get("/api/workflows/wf-uuid-001", headers=AUTH)
        p.flush()
    with proxy(mock_url, record_dir=record) as p:
        p.client.get("/api/workflows/wf-uuid-001/logs", headers=AUTH)
        p.flush()
    fixtures = load_fixtures(record)
    assert set(fixtures.examples) == {"getWorkflow", "listWorkflowLogs"}
    assert [w["id"] for w in fixtures.workflows] == ["wf-uuid-001"]
    assert [e["workflow_id"] for e in fixtures.executions] == ["wf-uuid-001"]

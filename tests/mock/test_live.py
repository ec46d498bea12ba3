"""Over real HTTP (uvicorn on a loopback port): a frontend's journey, schedules, concurrency."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from starlette.applications import Starlette

from lenz_contract.mock.clock import MockClock

from ..conftest import FIXTURES, load_fixture
from ..support.live import serve
from .conftest import AUTH, AppFactory


def docs_body(name: str) -> bytes:
    """A docs curl `-d` body, byte for byte."""
    return (FIXTURES / "docs" / name).read_bytes()


def same_shape(answer: Any, documented: Any) -> None:
    """The answer has every key the docs' answer has, with values of the same JSON type."""
    if isinstance(documented, dict):
        assert isinstance(answer, dict)
        for key, value in documented.items():
            assert key in answer, key
            if value is not None and answer[key] is not None:
                same_shape(answer[key], value)
    elif isinstance(documented, list):
        assert isinstance(answer, list)
        if documented and answer:
            same_shape(answer[0], documented[0])
    else:
        assert type(answer) is type(documented) or {type(answer), type(documented)} <= {int, float}


def test_frontend_journey_as_the_docs_curl_examples(live: httpx.Client) -> None:
    curl_json = {**AUTH, "Content-Type": "application/json"}
    created = live.post(
        "/api/workflows", content=docs_body("createWorkflow.request.json"), headers=curl_json
    )
    assert created.status_code == 201
    same_shape(created.json(), load_fixture("docs/createWorkflow.response.json"))
    workflow_id = created.json()["data"]["id"]

    first = live.get(
        "/api/workflows", params={"search": "laporan harian", "page": 1, "limit": 1}, headers=AUTH
    )
    assert first.status_code == 200
    same_shape(first.json(), load_fixture("docs/listWorkflows.response.json"))
    assert (first.json()["total_data"], first.json()["total_page"]) == (2, 2)
    second = live.get(
        "/api/workflows", params={"search": "LAPORAN HARIAN", "page": 2, "limit": 1}, headers=AUTH
    )
    assert second.json()["data"][0]["id"] == workflow_id  # created after the seeded one

    updated = live.put(
        f"/api/workflows/{workflow_id}",
        content=docs_body("updateWorkflow.request.json"),
        headers=curl_json,
    )
    assert updated.status_code == 200
    same_shape(updated.json(), load_fixture("docs/updateWorkflow.response.json"))
    assert updated.json()["data"]["is_active"] is False

    executed = live.post(f"/api/workflows/{workflow_id}/execute", headers=AUTH)
    assert executed.status_code == 200
    same_shape(executed.json(), load_fixture("docs/executeWorkflow.response.json"))
    assert executed.json()["data"]["triggered_by"] == "user-alfin"

    history = live.get(f"/api/workflows/{workflow_id}/logs", headers=AUTH)
    assert history.status_code == 200
    same_shape(history.json(), load_fixture("docs/listWorkflowLogs.response.json"))
    assert [run["id"] for run in history.json()["data"]] == [executed.json()["data"]["id"]]

    deleted = live.delete(f"/api/workflows/{workflow_id}", headers=AUTH)
    assert deleted.json() == load_fixture("docs/deleteWorkflow.response.json")
    assert live.get(f"/api/workflows/{workflow_id}", headers=AUTH).status_code == 404
    assert live.get(f"/api/workflows/{workflow_id}/logs", headers=AUTH).status_code == 404
    assert (
        live.get("/api/workflows", params={"search": "laporan"}, headers=AUTH).json()["total_data"]
        == 1
    )


def test_errors_over_http(live: httpx.Client) -> None:
    assert live.get("/api/workflows").status_code == 401
    assert (
        live.get("/api/workflows?limit=abc", headers=AUTH).json()["errors"][0]["path"]
        == "query.limit"
    )
    raw = live.post(
        "/api/workflows", content=b"\xff" * 10, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert raw.status_code == 400
    big = live.post(
        "/api/workflows",
        content=b" " * (1024 * 1024 + 1),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert big.status_code == 413
    assert live.get("/api/workflows", headers=AUTH).status_code == 200  # the connection survived


def test_fifty_parallel_creates_over_http(app: Starlette) -> None:
    body = json.loads(docs_body("createWorkflow.request.json"))

    async def burst(base_url: str) -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/api/workflows", json={**body, "name": f"Parallel {i}"}, headers=AUTH
                    )
                    for i in range(50)
                )
            )

    with serve(app) as base_url:
        answers = asyncio.run(burst(base_url))
        assert [a.status_code for a in answers] == [201] * 50
        ids = {a.json()["data"]["id"] for a in answers}
        listed = httpx.get(
            f"{base_url}/api/workflows?search=parallel&limit=100", headers=AUTH
        ).json()
    assert len(ids) == 50
    assert listed["total_data"] == 50
    assert {w["id"] for w in listed["data"]} == ids


def test_the_background_scheduler_fires_in_real_time(make_app: AppFactory) -> None:
    # A real (ticking) clock and the lifespan's scheduler: a every-second schedule fires by itself.
    app = make_app(clock=MockClock(), scheduler=True)
    body = {
        **json.loads(docs_body("createWorkflow.request.json")),
        "trigger_node": {"type": "schedule", "config": {"cron": "* * * * * *"}},
    }
    with serve(app) as base_url, httpx.Client(base_url=base_url, headers=AUTH) as client:
        workflow_id = client.post("/api/workflows", json=body).json()["data"]["id"]
        deadline = time.monotonic() + 15
        runs: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not runs:
            time.sleep(0.2)
            runs = client.get(f"/api/workflows/{workflow_id}/logs").json()["data"]
    assert runs and runs[0]["trigger_type"] == "schedule" and runs[0]["triggered_by"] == "scheduler"


def test_clock_moves_over_http(live: httpx.Client) -> None:
    moved = live.post("/__mock/clock", json={"advance": 86400})
    assert moved.json()["schedules"]["fired"] == [
        {"workflow_id": "wf-uuid-001", "fire_time": "2025-05-01T07:00:00Z"}
    ]
    runs = live.get("/api/workflows/wf-uuid-001/logs", headers=AUTH).json()["data"]
    assert runs[0]["started_at"] == "2025-05-01T07:00:00Z" and runs[0]["trigger_type"] == "schedule"


def test_a_put_without_is_active_keeps_a_disabled_schedule_off_over_http(
    each_store_app: Starlette,
) -> None:
    # Decision: a PUT that leaves `is_active` out keeps the stored value (here: false).
    created_body = {**json.loads(docs_body("createWorkflow.request.json")), "is_active": False}
    update_body = json.loads(docs_body("updateWorkflow.request.json"))
    del update_body["is_active"], update_body["description"]
    with serve(each_store_app) as base_url, httpx.Client(base_url=base_url, headers=AUTH) as http:
        workflow_id = http.post("/api/workflows", json=created_body).json()["data"]["id"]
        updated = http.put(f"/api/workflows/{workflow_id}", json=update_body)
        assert updated.status_code == 200
        assert (updated.json()["data"]["is_active"], updated.json()["data"]["description"]) == (
            False,
            "",
        )
        assert http.get(f"/api/workflows/{workflow_id}").json()["data"]["is_active"] is False
        moved = http.post("/__mock/clock", json={"advance": 86400})  # past its 07:00:00 cron
        assert [f["workflow_id"] for f in moved.json()["schedules"]["fired"]] == ["wf-uuid-001"]
        assert http.get(f"/api/workflows/{workflow_id}/logs").json()["total_data"] == 0

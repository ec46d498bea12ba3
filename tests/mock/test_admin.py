"""`/__mock/`: reset, state export/import, the clock and schedules, faults, the request log."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from ..conftest import load_fixture
from .conftest import AUTH, AppFactory

pytestmark = pytest.mark.anyio

CREATE = load_fixture("docs/createWorkflow.request.json")


async def logs(client: httpx.AsyncClient, workflow_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/workflows/{workflow_id}/logs?limit=100", headers=AUTH)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_reset_goes_back_to_the_seed(client: httpx.AsyncClient) -> None:
    await client.post("/api/workflows", json=CREATE, headers=AUTH)
    await client.delete("/api/workflows/wf-uuid-001", headers=AUTH)
    assert (await client.post("/__mock/reset")).status_code == 200
    listed = (await client.get("/api/workflows", headers=AUTH)).json()
    assert [w["id"] for w in listed["data"]] == ["wf-uuid-001"]
    assert (await logs(client, "wf-uuid-001"))["data"] == load_fixture("seed/executions.json")
    await client.post("/__mock/reset", json={"seed": False})
    assert (await client.get("/api/workflows", headers=AUTH)).json()["total_data"] == 0


async def test_export_import_round_trip(client: httpx.AsyncClient) -> None:
    created = (await client.post("/api/workflows", json=CREATE, headers=AUTH)).json()["data"]
    await client.post(f"/api/workflows/{created['id']}/execute", headers=AUTH)
    exported = (await client.get("/__mock/state")).json()
    assert len(exported["workflows"]) == 2 and len(exported["executions"]) == 2
    await client.post("/__mock/reset", json={"seed": False})
    imported = await client.put("/__mock/state", json=exported)
    assert imported.status_code == 200, imported.text
    again = (await client.get("/__mock/state")).json()
    assert {k: again[k] for k in ("workflows", "executions", "credentials")} == {
        k: exported[k] for k in ("workflows", "executions", "credentials")
    }


async def test_a_bad_import_changes_nothing(client: httpx.AsyncClient) -> None:
    before = (await client.get("/__mock/state")).json()
    bad = {
        "workflows": [{"id": "w1", "name": 5}, load_fixture("seed/workflows.json")[0]],
        "executions": [{**load_fixture("seed/executions.json")[0], "workflow_id": "ghost"}],
        "credentials": [{"name": "no id"}],
    }
    response = await client.put("/__mock/state", json=bad)
    assert response.status_code == 400
    where = {e["path"] for e in response.json()["errors"]}
    assert any(p.startswith("workflows[0]") for p in where)
    assert {"executions[0].workflow_id", "credentials[0].id"} <= where  # the loader's places
    assert (
        await client.put(
            "/__mock/state", content=b"{oops", headers={"Content-Type": "application/json"}
        )
    ).status_code == 400
    assert (await client.get("/__mock/state")).json()["workflows"] == before["workflows"]


async def test_moving_the_clock_fires_due_schedules(client: httpx.AsyncClient) -> None:
    # The mock clock stands at 2025-04-30T08:00:00Z; the seeded workflow runs at 07:00:00 daily.
    created = (await client.post("/api/workflows", json=CREATE, headers=AUTH)).json()["data"]
    moved = await client.post("/__mock/clock", json={"advance": 2 * 86400})
    assert moved.status_code == 200
    body = moved.json()
    assert body["now"] == "2025-05-02T08:00:00Z"
    fired = {(f["workflow_id"], f["fire_time"]) for f in body["schedules"]["fired"]}
    assert fired == {
        (wid, day)
        for wid in ("wf-uuid-001", created["id"])
        for day in ("2025-05-01T07:00:00Z", "2025-05-02T07:00:00Z")
    }
    runs = (await logs(client, created["id"]))["data"]
    assert [r["started_at"] for r in runs] == ["2025-05-02T07:00:00Z", "2025-05-01T07:00:00Z"]
    assert {(r["trigger_type"], r["triggered_by"]) for r in runs} == {("schedule", "scheduler")}
    set_to = await client.post("/__mock/clock", json={"set": "2025-05-03T07:00:00Z"})
    assert [f["fire_time"] for f in set_to.json()["schedules"]["fired"]] == [
        "2025-05-03T07:00:00Z"
    ] * 2
    assert (await logs(client, created["id"]))["total_data"] == 3


async def test_inactive_and_deleted_workflows_do_not_fire(client: httpx.AsyncClient) -> None:
    inactive = (
        await client.post("/api/workflows", json={**CREATE, "is_active": False}, headers=AUTH)
    ).json()["data"]
    await client.delete("/api/workflows/wf-uuid-001", headers=AUTH)
    fired = (await client.post("/__mock/clock", json={"advance": 86400})).json()["schedules"][
        "fired"
    ]
    assert fired == []
    assert (await logs(client, inactive["id"]))["total_data"] == 0


@pytest.mark.parametrize("active", [False, True])
async def test_a_put_without_is_active_leaves_the_schedule_as_it_was(
    each_store_client: httpx.AsyncClient, active: bool
) -> None:
    """Decision: a PUT that forgets `is_active` keeps it, so a disabled schedule stays off."""
    client = each_store_client
    # CREATE fires at 07:00:00 daily; the mock clock stands at 2025-04-30T08:00:00Z.
    created = (
        await client.post("/api/workflows", json={**CREATE, "is_active": active}, headers=AUTH)
    ).json()["data"]
    body = {k: v for k, v in CREATE.items() if k != "is_active"}
    updated = await client.put(f"/api/workflows/{created['id']}", json=body, headers=AUTH)
    assert updated.json()["data"]["is_active"] is active
    moved = await client.post("/__mock/clock", json={"advance": 86400})  # past 2025-05-01T07:00
    assert moved.status_code == 200
    fired = [f for f in moved.json()["schedules"]["fired"] if f["workflow_id"] == created["id"]]
    assert fired == (
        [{"workflow_id": created["id"], "fire_time": "2025-05-01T07:00:00Z"}] if active else []
    )
    assert (await logs(client, created["id"]))["total_data"] == (1 if active else 0)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"advance": -1},
        {"advance": "x"},
        {"set": "2020-01-01T00:00:00Z"},
        {"set": "not a time"},
        {"advance": 1, "set": "2030-01-01T00:00:00Z"},
        [1],
    ],
)
async def test_bad_clock_moves_are_400(client: httpx.AsyncClient, body: Any) -> None:
    response = await client.post("/__mock/clock", json=body)
    assert response.status_code == 400
    assert response.json()["ok"] is False and response.json()["errors"]
    assert (await client.get("/__mock/clock")).json()["now"] == "2025-04-30T08:00:00Z"


async def test_failure_injection_by_status_and_rate(
    client: httpx.AsyncClient, app: Starlette
) -> None:
    answer = await client.put(
        "/__mock/config",
        json={"failures": {"listWorkflows": 503, "getWorkflow": {"status": 500, "rate": 0}}},
    )
    assert answer.status_code == 200
    failed = await client.get("/api/workflows", headers=AUTH)
    assert failed.status_code == 503
    assert failed.json()["ok"] is False and failed.json()["message"] == "invalid request"
    assert (await client.get("/api/workflows/wf-uuid-001", headers=AUTH)).status_code == 200
    assert (await client.get("/api/workflows", headers={})).status_code == 401  # auth first
    await client.put(
        "/__mock/config", json={"failures": {"listWorkflows": {"status": 502, "rate": 0.5}}}
    )
    app.state.mock.faults.random.seed(7)
    statuses = {(await client.get("/api/workflows", headers=AUTH)).status_code for _ in range(40)}
    assert statuses == {200, 502}
    await client.put("/__mock/config", json={"failures": {}})
    assert (await client.get("/api/workflows", headers=AUTH)).status_code == 200
    bad = await client.put(
        "/__mock/config",
        json={"failures": {"nope": 500, "getWorkflow": {"status": 200}}, "latency_ms": -1},
    )
    assert {e["path"] for e in bad.json()["errors"]} == {
        "body.failures.nope",
        "body.failures.getWorkflow.status",
        "body.latency_ms",
    }


async def test_latency_is_configurable(client: httpx.AsyncClient, app: Starlette) -> None:
    assert (await client.put("/__mock/config", json={"latency_ms": 5})).json()["latency_ms"] == 5
    assert app.state.mock.faults.latency_ms == 5
    assert (await client.get("/api/workflows", headers=AUTH)).status_code == 200


async def test_request_log_redacts_authorization(client: httpx.AsyncClient) -> None:
    await client.get("/api/workflows?limit=0", headers=AUTH)
    await client.get("/api/workflows", headers=AUTH)
    entries = (await client.get("/__mock/requests?limit=2")).json()["data"]
    assert [e["status"] for e in entries] == [200, 400]
    assert entries[1]["valid"] is False
    assert entries[1]["errors"][0]["path"] == "query.limit"
    assert entries[0]["operation_id"] == "listWorkflows"
    assert all(e["headers"]["authorization"] == "[redacted]" for e in entries)
    assert "lenz-mock-token" not in (await client.get("/__mock/requests")).text


async def test_admin_is_refused_off_loopback(make_app: AppFactory) -> None:
    for host, allowed in (
        ("0.0.0.0", False),
        ("192.0.2.10", False),
        ("::1", True),
        ("localhost", True),
    ):
        app = make_app(host=host)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://m"
        ) as c:
            response = await c.post("/__mock/reset")
            assert response.status_code == (200 if allowed else 403), host
            if not allowed:
                assert response.json()["ok"] is False
                assert (await c.get("/api/workflows", headers=AUTH)).status_code == 200
    app = make_app(host="0.0.0.0", admin=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as c:
        assert (await c.get("/__mock/clock")).status_code == 200


async def test_self_check_turns_a_bad_answer_into_a_loud_500(make_app: AppFactory) -> None:
    app = make_app()
    app.state.mock.store.insert_workflow({"id": "broken", "name": 1})  # a state the spec forbids
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as c:
        response = await c.get("/api/workflows/broken", headers=AUTH)
    assert response.status_code == 500
    assert "response.data" in response.text
    assert app.state.mock.failures
    app.state.mock.failures.clear()  # expected here; the fixture fails any other test with one

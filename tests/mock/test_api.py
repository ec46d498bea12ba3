"""Every operation and every error case, in-process (httpx over ASGI, self-check on)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from ..conftest import load_fixture
from .conftest import AUTH, JSON_AUTH, AppFactory

pytestmark = pytest.mark.anyio

CREATE = load_fixture("docs/createWorkflow.request.json")
UPDATE = load_fixture("docs/updateWorkflow.request.json")


def assert_error(response: httpx.Response, status: int, path: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["ok"] is False
    assert body["message"] == "invalid request"
    if path is not None:
        assert path in [e["path"] for e in body["errors"]], body
    return body


async def create(client: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    response = await client.post("/api/workflows", json={**CREATE, **changes}, headers=AUTH)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


# --- happy paths ----------------------------------------------------------------------------


async def test_list_is_seeded_and_paged(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/workflows", headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["message"] == "success"
    assert [w["id"] for w in body["data"]] == ["wf-uuid-001"]
    assert (body["limit"], body["current_page"], body["total_data"], body["total_page"]) == (
        10,
        1,
        1,
        1,
    )


async def test_create_answers_201_with_the_stored_workflow(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/workflows", json=CREATE, headers=AUTH)
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "workflow created successfully"
    data = body["data"]
    assert data["updated_at"] is None
    assert data["created_at"] == "2025-04-30T08:00:00Z"
    assert {k: data[k] for k in CREATE} == CREATE  # the mock echoes the whole config
    got = await client.get(f"/api/workflows/{data['id']}", headers=AUTH)
    assert got.json()["data"] == data


async def test_is_active_defaults_to_true(client: httpx.AsyncClient) -> None:
    body = {k: v for k, v in CREATE.items() if k != "is_active"}
    response = await client.post("/api/workflows", json=body, headers=AUTH)
    assert response.json()["data"]["is_active"] is True


async def test_get_update_delete(client: httpx.AsyncClient, app: Starlette) -> None:
    created = await create(client)
    app.state.mock.service.clock.advance(3600)
    updated = await client.put(f"/api/workflows/{created['id']}", json=UPDATE, headers=AUTH)
    assert updated.status_code == 200
    data = updated.json()["data"]
    assert updated.json()["message"] == "workflow updated successfully"
    assert data["created_at"] == created["created_at"]
    assert data["updated_at"] == "2025-04-30T09:00:00Z"
    assert data["nodes"] == UPDATE["nodes"]
    assert data["is_active"] is False
    deleted = await client.delete(f"/api/workflows/{created['id']}", headers=AUTH)
    assert deleted.status_code == 200
    assert deleted.json() == {"ok": True, "message": "workflow deleted successfully"}
    assert_error(await client.get(f"/api/workflows/{created['id']}", headers=AUTH), 404, "path.id")
    listed = await client.get("/api/workflows", headers=AUTH)
    assert created["id"] not in [w["id"] for w in listed.json()["data"]]


async def put(client: httpx.AsyncClient, workflow_id: str, body: Any) -> dict[str, Any]:
    response = await client.put(f"/api/workflows/{workflow_id}", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def get(client: httpx.AsyncClient, workflow_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/workflows/{workflow_id}", headers=AUTH)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def leave_out(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


# Decision (PUT without `is_active`): a PUT replaces every field its body may carry, but a
# left-out `is_active` keeps the stored value; a left-out `description` becomes "" as on create.


@pytest.mark.parametrize("active", [False, True])
async def test_put_without_is_active_keeps_the_stored_flag(
    each_store_client: httpx.AsyncClient, active: bool
) -> None:
    client = each_store_client
    created = await create(client, is_active=active)
    data = await put(client, created["id"], leave_out(UPDATE, "is_active"))
    assert data["is_active"] is active  # not the create default (true)
    assert {k: data[k] for k in ("name", "description", "nodes")} == {
        k: UPDATE[k] for k in ("name", "description", "nodes")
    }  # everything else is replaced
    assert await get(client, created["id"]) == data
    listed = (await client.get("/api/workflows?limit=100", headers=AUTH)).json()["data"]
    assert [w["is_active"] for w in listed if w["id"] == created["id"]] == [active]


@pytest.mark.parametrize(("before", "sent"), [(False, True), (True, False), (False, False)])
async def test_put_with_is_active_sets_it(
    each_store_client: httpx.AsyncClient, before: bool, sent: bool
) -> None:
    created = await create(each_store_client, is_active=before)
    data = await put(each_store_client, created["id"], {**UPDATE, "is_active": sent})
    assert data["is_active"] is sent
    assert (await get(each_store_client, created["id"]))["is_active"] is sent


async def test_put_without_description_answers_an_empty_one(
    each_store_client: httpx.AsyncClient,
) -> None:
    created = await create(each_store_client)
    assert created["description"] == CREATE["description"]
    data = await put(each_store_client, created["id"], leave_out(UPDATE, "description"))
    assert data["description"] == ""  # full replacement: not the old description
    assert (await get(each_store_client, created["id"]))["description"] == ""


async def test_create_without_description_answers_an_empty_one(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/workflows", json=leave_out(CREATE, "description"), headers=AUTH
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["description"] == ""


async def test_execute_is_manual_by_the_token_user_and_lands_in_logs(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/workflows/wf-uuid-001/execute", headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "workflow executed successfully"
    run = body["data"]
    assert (run["trigger_type"], run["triggered_by"], run["status"]) == (
        "manual",
        "user-alfin",
        "success",
    )
    assert [r["node_id"] for r in run["node_results"]] == ["node-export", "node-telegram"]
    logs = (await client.get("/api/workflows/wf-uuid-001/logs", headers=AUTH)).json()
    assert logs["data"][0] == run  # newest first
    assert logs["total_data"] == 2  # the seeded run and this one


async def test_token_user_mapping(make_app: AppFactory) -> None:
    app = make_app(tokens={"t1": "user-a", "t2": "user-b"})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as c:
        run = await c.post(
            "/api/workflows/wf-uuid-001/execute", headers={"Authorization": "Bearer t2"}
        )
        assert run.json()["data"]["triggered_by"] == "user-b"
        assert_error(await c.get("/api/workflows", headers=AUTH), 401)


async def test_pagination_and_search(client: httpx.AsyncClient) -> None:
    for index in range(25):
        await create(client, name=f"Report {index:02d}")
    page = (await client.get("/api/workflows?search=REPORT&limit=10&page=3", headers=AUTH)).json()
    assert [w["name"] for w in page["data"]] == [f"Report {i:02d}" for i in range(20, 25)]
    assert (page["total_data"], page["total_page"], page["current_page"]) == (25, 3, 3)
    past = (await client.get("/api/workflows?page=99", headers=AUTH)).json()
    assert past["data"] == [] and past["total_data"] == 26 and past["current_page"] == 99
    capped = (await client.get("/api/workflows?limit=1000", headers=AUTH)).json()
    assert capped["limit"] == 100 and len(capped["data"]) == 26
    empty = (await client.get("/api/workflows?search=zzz", headers=AUTH)).json()
    assert (empty["data"], empty["total_data"], empty["total_page"]) == ([], 0, 0)
    everything = (await client.get("/api/workflows?search=", headers=AUTH)).json()
    assert everything["total_data"] == 26


async def test_huge_page_numbers_answer_an_empty_page(client: httpx.AsyncClient) -> None:
    huge = "9" * 30
    response = await client.get(f"/api/workflows?page={huge}&limit={huge}", headers=AUTH)
    assert response.status_code == 200
    assert response.json()["current_page"] == int(huge)
    assert response.json()["data"] == []


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic abc"},
        {"Authorization": "lenz-mock-token"},
    ],
)
async def test_every_operation_needs_a_known_token(
    client: httpx.AsyncClient, app: Starlette, headers: dict[str, str]
) -> None:
    for op in app.state.mock.runtime.spec.operations.values():
        path = op.path.replace("{id}", "wf-uuid-001")
        response = await client.request(op.method, path, headers=headers, json=CREATE)
        assert_error(response, 401, "header.Authorization")
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("limit=0", "query.limit"),
        ("limit=abc", "query.limit"),
        ("page=-1", "query.page"),
        ("page=1&page=2", "query.page"),
        ("page=", "query.page"),
    ],
)
async def test_bad_query_values(client: httpx.AsyncClient, query: str, where: str) -> None:
    assert_error(await client.get(f"/api/workflows?{query}", headers=AUTH), 400, where)
    assert_error(
        await client.get(f"/api/workflows/wf-uuid-001/logs?{query}", headers=AUTH), 400, where
    )


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (
            {**CREATE, "trigger_node": {"type": "schedule", "config": {"cron": "0 7 * * *"}}},
            "body.trigger_node.config.cron",
        ),
        ({**CREATE, "name": 5}, "body.name"),
        ({k: v for k, v in CREATE.items() if k != "name"}, "body"),
        ({**CREATE, "nodes": "none"}, "body.nodes"),
        ({**CREATE, "extra": 1}, "body"),
        ([], "body"),
    ],
)
async def test_bad_bodies(client: httpx.AsyncClient, body: Any, where: str) -> None:
    assert_error(await client.post("/api/workflows", json=body, headers=AUTH), 400, where)
    assert_error(
        await client.put("/api/workflows/wf-uuid-001", json=body, headers=AUTH), 400, where
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"\xff\xfe\xfa",
        b'{"name": NaN}',
        b"[" * 100_000,
        b'{"a": ' * 3000,
        b"",
        b"1" * 5000,
    ],
)
async def test_malformed_bodies_are_400(client: httpx.AsyncClient, raw: bytes) -> None:
    assert_error(await client.post("/api/workflows", content=raw, headers=JSON_AUTH), 400, "body")


async def test_wrong_content_type_is_415(client: httpx.AsyncClient) -> None:
    raw = json.dumps(CREATE).encode()
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/problem+json",
    ):
        response = await client.post(
            "/api/workflows", content=raw, headers={**AUTH, "Content-Type": content_type}
        )
        assert_error(response, 415, "header.Content-Type")
    ok = await client.post(
        "/api/workflows",
        content=raw,
        headers={**AUTH, "Content-Type": "application/json; charset=utf-8"},
    )
    assert ok.status_code == 201


async def test_bodies_over_one_mib_are_413(client: httpx.AsyncClient) -> None:
    big = json.dumps({**CREATE, "description": "x" * (1024 * 1024)}).encode()
    assert_error(await client.post("/api/workflows", content=big, headers=JSON_AUTH), 413, "body")

    async def chunks() -> Any:  # no Content-Length: refused while streaming
        for _ in range(20):
            yield b" " * 100_000

    assert_error(await client.post("/api/workflows", content=chunks(), headers=JSON_AUTH), 413)


async def test_unknown_ids_are_404(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/api/workflows/nope"),
        ("DELETE", "/api/workflows/nope"),
        ("POST", "/api/workflows/nope/execute"),
        ("GET", "/api/workflows/nope/logs"),
    ]:
        assert_error(await client.request(method, path, headers=AUTH), 404, "path.id")
    assert_error(await client.put("/api/workflows/nope", json=UPDATE, headers=AUTH), 404, "path.id")


async def test_wrong_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.patch("/api/workflows/wf-uuid-001", headers=AUTH)
    assert_error(response, 405, "method")
    assert set(response.headers["allow"].split(", ")) == {"GET", "PUT", "DELETE"}
    admin = await client.delete("/__mock/clock")
    assert admin.status_code == 405 and admin.json()["ok"] is False and "allow" in admin.headers


async def test_unknown_paths_are_404_json(client: httpx.AsyncClient) -> None:
    for path in ("/nope", "/api", "/api/workflows/a/b/c", "/__mock/nope"):
        assert_error(await client.get(path, headers=AUTH), 404, "path")


async def test_empty_id_is_a_located_400(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/workflows//logs", headers=AUTH), 400, "path.id")


# --- Prefer ---------------------------------------------------------------------------------


async def test_prefer_code_answers_the_documented_example(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/workflows/anything", headers={**AUTH, "Prefer": "code=200"})
    assert response.status_code == 200
    assert response.json() == load_fixture("docs/getWorkflow.response.json")
    error = await client.get("/api/workflows/x", headers={**AUTH, "Prefer": "code=404"})
    assert error.status_code == 404 and error.json() == {"ok": False, "message": "invalid request"}
    created = await client.post("/api/workflows", headers={**AUTH, "Prefer": "code=200"})
    assert created.status_code == 200
    assert created.json() == load_fixture("docs/createWorkflow.response.json")


async def test_prefer_example_by_name(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/workflows/x/execute", headers={**AUTH, "Prefer": "example=docs"}
    )
    assert response.status_code == 200
    assert response.json() == load_fixture("docs/executeWorkflow.response.json")
    assert_error(
        await client.get("/api/workflows", headers={**AUTH, "Prefer": "example=nope"}),
        400,
        "header.Prefer",
    )
    assert_error(
        await client.get("/api/workflows", headers={**AUTH, "Prefer": "code=500"}),
        400,
        "header.Prefer",
    )


async def test_prefer_does_not_skip_auth(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/workflows", headers={"Prefer": "code=200"}), 401)


# --- CORS and docs --------------------------------------------------------------------------


async def test_cors_preflight_and_simple_requests(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/api/workflows",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, prefer",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "prefer"} <= {h.strip() for h in allowed.split(",")}
    simple = await client.get("/api/workflows", headers={**AUTH, "Origin": "http://localhost:5173"})
    assert simple.headers["access-control-allow-origin"] == "*"


async def test_cors_origins_are_configurable(make_app: AppFactory) -> None:
    app = make_app(cors_origins=["http://app.example"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as c:
        ok = await c.get("/api/workflows", headers={**AUTH, "Origin": "http://app.example"})
        assert ok.headers["access-control-allow-origin"] == "http://app.example"
        other = await c.get("/api/workflows", headers={**AUTH, "Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers


async def test_docs_page_and_spec_files(client: httpx.AsyncClient, app: Starlette) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in page.text and "swagger-ui-bundle.js" in page.text
    assert "preauthorize" not in page.text.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        response = await client.get(f"/docs/static/{asset}")
        assert response.status_code == 200 and len(response.content) > 1000
    spec = (await client.get("/openapi.json")).json()
    assert spec["servers"][0]["url"] == "/"
    assert spec == app.state.mock.runtime.spec.document
    assert (await client.get("/openapi.yaml")).text.startswith("#")

"""Test-only upstreams, each breaking one semantic rule and nothing else.

Every answer fits the contract's schemas; what is wrong is what the answers mean together:
- `wrong_identity_app`: `GET /api/workflows/{id}` answers another workflow;
- `bad_pagination_app`: a page whose arithmetic does not add up;
- `bad_search_app`: a search that answers names without the term;
- `foreign_execution_app`: an execution of another workflow, node results out of order;
- `stale_update_app`: a PUT answered 200 that a later read does not show;
- `undead_delete_app`: a DELETE answered 200, and the workflow still there.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

NODES = [
    {"id": "node-a", "type": "event_history_export", "name": "A", "config": {}},
    {"id": "node-b", "type": "telegram_send_attachment", "name": "B", "config": {}},
]


def workflow(wid: str, name: str = "Laporan Harian") -> dict[str, Any]:
    return {
        "id": wid,
        "name": name,
        "description": "",
        "is_active": False,
        "trigger_node": {"type": "schedule", "config": {"cron": "0 0 7 * * *"}},
        "nodes": copy.deepcopy(NODES),
        "created_at": "2025-01-15T00:00:00Z",
        "updated_at": None,
    }


def result(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "node_id": node["id"],
        "node_type": node["type"],
        "node_name": node["name"],
        "status": "success",
        "started_at": "2025-04-30T07:00:00Z",
        "finished_at": "2025-04-30T07:00:01Z",
        "output": {},
        "error": None,
    }


def execution(wid: str, nodes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "exec-1",
        "workflow_id": wid,
        "trigger_type": "manual",
        "status": "success",
        "started_at": "2025-04-30T07:00:00Z",
        "finished_at": "2025-04-30T07:00:05Z",
        "node_results": [result(n) for n in nodes],
        "error": None,
        "triggered_by": "user-alfin",
    }


def ok(data: Any = None, message: str = "success", **page: Any) -> Response:
    body: dict[str, Any] = {"ok": True, "message": message, **page}
    if data is not None:
        body["data"] = data
    return Response(json.dumps(body), 200, media_type="application/json")


def gone() -> Response:
    return Response(
        json.dumps({"ok": False, "message": "invalid request"}), 404, media_type="application/json"
    )


def page_of(items: list[Any], limit: int = 10, current: int = 1) -> Response:
    total = len(items)
    return ok(
        items, limit=limit, current_page=current, total_data=total, total_page=-(-total // limit)
    )


def wrong_identity_app() -> Starlette:
    async def read(request: Request) -> Response:
        return ok(workflow("wf-someone-else"))

    return Starlette(routes=[Route("/api/workflows/{id}", read)])


def bad_pagination_app() -> Starlette:
    async def listing(request: Request) -> Response:
        items = [workflow(f"wf-{i}") for i in range(12)]
        return ok(items, limit=10, current_page=1, total_data=25, total_page=2)

    return Starlette(routes=[Route("/api/workflows", listing)])


def bad_search_app() -> Starlette:
    async def listing(request: Request) -> Response:
        return page_of([workflow("wf-1"), workflow("wf-2", name="Ekspor Mingguan")])

    return Starlette(routes=[Route("/api/workflows", listing)])


def foreign_execution_app() -> Starlette:
    async def read(request: Request) -> Response:
        return ok(workflow(request.path_params["id"]))

    async def execute(request: Request) -> Response:
        wid = request.path_params["id"]
        if wid == "wf-foreign":
            return ok(execution("wf-someone-else", NODES), "workflow executed successfully")
        return ok(execution(wid, list(reversed(NODES))), "workflow executed successfully")

    return Starlette(
        routes=[
            Route("/api/workflows/{id}", read),
            Route("/api/workflows/{id}/execute", execute, methods=["POST"]),
        ]
    )


def stale_update_app() -> Starlette:
    async def read(request: Request) -> Response:
        return ok(workflow(request.path_params["id"]))  # always the old name

    async def update(request: Request) -> Response:
        body = json.loads(await request.body())
        data = {**workflow(request.path_params["id"]), **body}
        return ok(data, "workflow updated successfully")

    return Starlette(
        routes=[
            Route("/api/workflows/{id}", read, methods=["GET"]),
            Route("/api/workflows/{id}", update, methods=["PUT"]),
        ]
    )


def undead_delete_app() -> Starlette:
    async def read(request: Request) -> Response:
        return ok(workflow(request.path_params["id"]))

    async def delete(request: Request) -> Response:
        return ok(message="workflow deleted successfully")

    async def logs(request: Request) -> Response:
        wid = request.path_params["id"]
        return page_of([execution(wid, NODES)])

    async def listing(request: Request) -> Response:
        return page_of([workflow("wf-undead")])

    return Starlette(
        routes=[
            Route("/api/workflows", listing),
            Route("/api/workflows/{id}", read, methods=["GET"]),
            Route("/api/workflows/{id}", delete, methods=["DELETE"]),
            Route("/api/workflows/{id}/logs", logs),
        ]
    )

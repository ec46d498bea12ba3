"""A test-only Lenz that drifts from the contract the way real deployments do, and consistently.

It keeps its workflows in memory and behaves (ids, pages, searches, updates, deletes, runs), so
the proxy's semantic checks have nothing to say; what differs from the contract is its shape:
- fields the contract does not name: `request_id` on every success envelope, `owner`, `tags` and
  a `webhook_secret` (which no log may show) on workflows, `duration_ms` on executions, `code` on errors;
- statuses the contract does not list: a create answers 202, an update it refuses (a name over
  40 characters, which the contract allows) 422, a delete 204 (no body);
- a content type the contract does not list: reading an unknown workflow answers 404 in
  `text/plain`;
- timestamps with a `+07:00` offset (Jakarta), and a node status `partial` the strict profile's
  enum does not have.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

STAMP = "2025-04-30T14:00:00+07:00"
WEBHOOK_SECRET = "whsec-4f1c9e77d2b0a6"
FINISHED = "2025-04-30T14:00:05.250+07:00"


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status, media_type="application/json")


def _ok(message: str, **fields: Any) -> dict[str, Any]:
    return {"ok": True, "message": message, "request_id": "req-7f3a", **fields}


def _refused(status: int, code: str) -> Response:
    return _json({"ok": False, "message": "invalid request", "code": code}, status)


def drifting_app() -> Starlette:
    workflows: dict[str, dict[str, Any]] = {}
    runs: dict[str, list[dict[str, Any]]] = {}
    ids = itertools.count(1)

    def stored(body: dict[str, Any], wid: str, created: str, updated: str | None) -> dict[str, Any]:
        return {
            "id": wid,
            "name": body["name"],
            "description": body.get("description", ""),
            "is_active": body.get("is_active", True),
            "trigger_node": body["trigger_node"],
            "nodes": body["nodes"],
            "created_at": created,
            "updated_at": updated,
            "owner": {"id": "user-7", "name": "Alfin"},
            "tags": ["fr", "daily"],
            "webhook_secret": WEBHOOK_SECRET,
        }

    def valid(body: Any) -> bool:
        """Its own rule, stricter than the contract's: a name of at most 40 characters."""
        required = ("name", "trigger_node", "nodes")
        return (
            isinstance(body, dict) and all(k in body for k in required) and len(body["name"]) <= 40
        )

    async def list_workflows(request: Request) -> Response:
        page = int(request.query_params.get("page", "1"))
        limit = int(request.query_params.get("limit", "10"))
        term = request.query_params.get("search", "").casefold()
        found = [w for w in workflows.values() if term in w["name"].casefold()]
        items = found[(page - 1) * limit : page * limit]
        return _json(
            _ok(
                "success",
                data=items,
                limit=limit,
                current_page=page,
                total_data=len(found),
                total_page=math.ceil(len(found) / limit),
            )
        )

    async def create(request: Request) -> Response:
        body = json.loads(await request.body())
        if not valid(body):
            return _refused(422, "E_VALIDATION")
        wid = f"wf-drift-{next(ids)}"
        workflows[wid] = stored(body, wid, STAMP, None)
        runs[wid] = []
        return _json(_ok("workflow created successfully", data=workflows[wid]), 202)

    async def read(request: Request) -> Response:
        wid = request.path_params["id"]
        if wid not in workflows:  # its web server's own page, not the API's envelope
            return Response("workflow not found", 404, media_type="text/plain")
        return _json(_ok("success", data=workflows[wid]))

    async def update(request: Request) -> Response:
        wid = request.path_params["id"]
        if wid not in workflows:
            return _refused(404, "E_NOT_FOUND")
        body = json.loads(await request.body())
        if not valid(body):
            return _refused(422, "E_VALIDATION")
        workflows[wid] = stored(body, wid, workflows[wid]["created_at"], FINISHED)
        return _json(_ok("workflow updated successfully", data=workflows[wid]))

    async def delete(request: Request) -> Response:
        wid = request.path_params["id"]
        if workflows.pop(wid, None) is None:
            return _refused(404, "E_NOT_FOUND")
        runs.pop(wid, None)
        return Response(status_code=204)

    async def execute(request: Request) -> Response:
        wid = request.path_params["id"]
        if wid not in workflows:
            return _refused(404, "E_NOT_FOUND")
        results = [
            {
                "node_id": node["id"],
                "node_type": node["type"],
                "node_name": node.get("name", ""),
                "status": "partial" if index == 0 else "success",
                "started_at": STAMP,
                "finished_at": FINISHED,
                "output": {"rows": 12},
                "error": None,
            }
            for index, node in enumerate(workflows[wid]["nodes"])
        ]
        run = {
            "id": f"exec-drift-{next(ids)}",
            "workflow_id": wid,
            "trigger_type": "manual",
            "status": "success",
            "started_at": STAMP,
            "finished_at": FINISHED,
            "node_results": results,
            "error": None,
            "triggered_by": "user-7",
            "duration_ms": 5250,
        }
        runs[wid].insert(0, run)
        return _json(_ok("workflow executed successfully", data=run))

    async def logs(request: Request) -> Response:
        wid = request.path_params["id"]
        if wid not in workflows:
            return _refused(404, "E_NOT_FOUND")
        found = runs[wid]
        return _json(
            _ok(
                "success",
                data=found[:10],
                limit=10,
                current_page=1,
                total_data=len(found),
                total_page=math.ceil(len(found) / 10),
            )
        )

    return Starlette(
        routes=[
            Route("/api/workflows", list_workflows, methods=["GET"]),
            Route("/api/workflows", create, methods=["POST"]),
            Route("/api/workflows/{id}", read, methods=["GET"]),
            Route("/api/workflows/{id}", update, methods=["PUT"]),
            Route("/api/workflows/{id}", delete, methods=["DELETE"]),
            Route("/api/workflows/{id}/execute", execute, methods=["POST"]),
            Route("/api/workflows/{id}/logs", logs, methods=["GET"]),
        ]
    )

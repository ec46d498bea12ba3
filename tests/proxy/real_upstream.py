"""A test upstream that is not the mock: the documented shapes, as a real deployment writes them.

Every answer conforms to the contract, with the variations a real Lenz deployment shows and the
mock never writes:
- timestamps with an offset and nanoseconds (`2025-06-01T14:00:00.123456789+07:00`), chosen so
  that ordering them as strings gives the wrong order (a later instant sorts first as text);
- `description: null` for a workflow created without one;
- execute answers a run still in progress (`status: "running"`, `finished_at: null`,
  `node_results: []`); the logs of `wf-offset` show that run finished, the logs of `wf-null`
  never do.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

CREDENTIAL = "cred-tg-real"
RUN_STARTED = "2025-06-03T01:00:00+07:00"  # 2025-06-02T18:00:00Z
"""When every run the upstream starts began: as text it sorts after `EVENING_RUN`'s start,
as an instant it is before it."""
EVENING_STARTED = "2025-06-02T20:00:00Z"
NODE_OUTPUT_STAMP = "2025-06-03T01:00:02+07:00"
"""A timestamp inside a node's free-form output: the deployment's data, never rewritten."""

WORKFLOWS: dict[str, dict[str, Any]] = {
    "wf-null": {
        "id": "wf-null",
        "name": "Ekspor tanpa deskripsi",
        "description": None,
        "is_active": False,
        "trigger_node": {"type": "manual", "config": {}},
        "nodes": [
            {
                "id": "node-export",
                "type": "event_history_export",
                "name": "Ekspor Riwayat FR",
                "config": {"analytic_type": "FR", "date_range": "yesterday"},
            }
        ],
        "created_at": "2025-06-01T08:00:00Z",  # after wf-offset as an instant, before as text
        "updated_at": None,
    },
    "wf-offset": {
        "id": "wf-offset",
        "name": "Laporan Harian Face Recognition",
        "description": "Ekspor riwayat FR setiap pagi lalu kirim via Telegram",
        "is_active": True,
        "trigger_node": {"type": "schedule", "config": {"cron": "0 0 7 * * *"}},
        "nodes": [
            {
                "id": "node-export",
                "type": "event_history_export",
                "name": "Ekspor Riwayat FR",
                "config": {"analytic_type": "FR", "date_range": "yesterday"},
            },
            {
                "id": "node-telegram",
                "type": "telegram_send_attachment",
                "name": "Kirim ke Telegram",
                "config": {"credential_id": CREDENTIAL, "file": "{{prev.body.file_url}}"},
            },
        ],
        "created_at": "2025-06-01T14:00:00.123456789+07:00",
        "updated_at": "2025-06-02T09:30:00.5+02:00",
    },
}


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status, media_type="application/json")


def _not_found() -> Response:
    return _json({"ok": False, "message": "workflow not found"}, 404)


def running_run(workflow_id: str) -> dict[str, Any]:
    """What execute answers: the run has started, nothing has finished yet."""
    return {
        "id": f"exec-run-{workflow_id}",
        "workflow_id": workflow_id,
        "trigger_type": "manual",
        "status": "running",
        "started_at": RUN_STARTED,
        "finished_at": None,
        "node_results": [],
        "error": None,
        "triggered_by": "user-real",
    }


def finished_run(workflow_id: str) -> dict[str, Any]:
    """The same run, as the logs show it once it finished."""
    return {
        **running_run(workflow_id),
        "status": "success",
        "finished_at": "2025-06-03T01:00:04.25+07:00",
        "node_results": [
            {
                "node_id": "node-export",
                "node_type": "event_history_export",
                "node_name": "Ekspor Riwayat FR",
                "status": "success",
                "started_at": RUN_STARTED,
                "finished_at": "2025-06-03T01:00:02.999999999+07:00",
                "output": {"file_url": "/exports/fr.csv", "generated_at": NODE_OUTPUT_STAMP},
                "error": None,
            }
        ],
    }


def evening_run(workflow_id: str) -> dict[str, Any]:
    """A scheduled run that failed: the newest run as an instant, the oldest as text."""
    return {
        "id": "exec-evening",
        "workflow_id": workflow_id,
        "trigger_type": "schedule",
        "status": "failed",
        "started_at": EVENING_STARTED,
        "finished_at": "2025-06-02T20:00:01Z",
        "node_results": [],
        "error": "telegram: chat not found",
        "triggered_by": "scheduler",
    }


def _page(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "ok": True,
        "message": "success",
        "data": items,
        "limit": 10,
        "current_page": 1,
        "total_data": len(items),
        "total_page": 1,
    }


def real_world_app() -> Starlette:
    async def list_workflows(request: Request) -> Response:
        return _json(_page([copy.deepcopy(w) for w in WORKFLOWS.values()]))

    async def get_workflow(request: Request) -> Response:
        workflow = WORKFLOWS.get(request.path_params["id"])
        if workflow is None:
            return _not_found()
        return _json({"ok": True, "message": "success", "data": workflow})

    async def execute(request: Request) -> Response:
        workflow_id = request.path_params["id"]
        if workflow_id not in WORKFLOWS:
            return _not_found()
        run = running_run(workflow_id)
        return _json({"ok": True, "message": "workflow executed successfully", "data": run})

    async def logs(request: Request) -> Response:
        workflow_id = request.path_params["id"]
        if workflow_id not in WORKFLOWS:
            return _not_found()
        if workflow_id == "wf-null":
            return _json(_page([]))  # its run never finishes while we record
        return _json(_page([finished_run(workflow_id), evening_run(workflow_id)]))

    return Starlette(
        routes=[
            Route("/api/workflows", list_workflows, methods=["GET"]),
            Route("/api/workflows/{id}", get_workflow, methods=["GET"]),
            Route("/api/workflows/{id}/execute", execute, methods=["POST"]),
            Route("/api/workflows/{id}/logs", logs, methods=["GET"]),
        ]
    )

"""Test-only upstreams: one that breaks the contract in known ways, one that only counts.

`broken_app` answers the Lenz paths with a known fault per workflow id (wrong shape, wrong
status, missing field, wrong content type, HTML instead of JSON, a slow answer), plus a few
non-Lenz paths whose bytes and headers are unusual on purpose (several Set-Cookie headers, gzip,
a chunked stream) to prove the proxy passes them through untouched. Every request it receives
is appended to `received`.
"""

from __future__ import annotations

import asyncio
import copy
import gzip
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

WORKFLOW: dict[str, Any] = {
    "id": "wf-ok",
    "name": "Laporan Harian Face Recognition",
    "description": "Ekspor riwayat FR setiap pagi",
    "is_active": True,
    "trigger_node": {"type": "schedule", "config": {"cron": "0 0 7 * * *"}},
    "nodes": [
        {
            "id": "node-telegram",
            "type": "telegram_send_attachment",
            "name": "Kirim ke Telegram",
            "config": {"credential_id": "cred-tg-001", "file": "{{prev.body.file_url}}"},
        }
    ],
    "created_at": "2025-01-15T00:00:00Z",
    "updated_at": None,
}
SECRET_IN_BODY = "bot-secret-value-77aa"


@dataclass
class Received:
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Upstream:
    received: list[Received] = field(default_factory=list)


def _json(value: Any, status: int = 200, media: str = "application/json") -> Response:
    return Response(json.dumps(value), status, media_type=media)


def _workflow(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(WORKFLOW)
    data.update(changes)
    return data


def broken_app(state: Upstream, *, slow_seconds: float = 3.0) -> Starlette:
    async def remember(request: Request) -> None:
        state.received.append(
            Received(
                request.method,
                request.url.path,
                request.url.query,
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
                await request.body(),
            )
        )

    async def list_workflows(request: Request) -> Response:
        await remember(request)
        bad = _workflow(is_active="yes")  # wrong type
        # total_page is missing: a missing field
        return _json(
            {
                "ok": True,
                "message": "success",
                "data": [bad],
                "limit": 10,
                "current_page": 1,
                "total_data": 1,
            }
        )

    async def create_workflow(request: Request) -> Response:
        await remember(request)
        return _json(
            {
                "ok": True,
                "message": "workflow created successfully",
                "data": _workflow(id="wf-new"),
            },
            201,
        )

    async def get_workflow(request: Request) -> Response:
        await remember(request)
        wid = request.path_params["id"]
        token = request.headers.get("authorization", "").partition(" ")[2]
        if wid == "status-500":
            return _json({"ok": False, "message": "internal error"}, 500)
        if wid == "wrong-type":
            return _json(
                {"ok": True, "message": "success", "data": _workflow(id=wid)}, media="text/plain"
            )
        if wid == "html":
            return Response("<html><body>Bad Gateway</body></html>", 200, media_type="text/html")
        if wid == "missing-id":
            data = _workflow()
            del data["id"]
            return _json({"ok": True, "message": "success", "data": data})
        if wid == "secret":
            data = _workflow(id=wid, name=f"echo {token}")
            data["nodes"][0]["config"]["bot_token"] = SECRET_IN_BODY
            return _json({"ok": True, "message": "success", "data": data})
        if wid == "echo-token":
            return _json(
                {
                    "ok": False,
                    "message": f"token {token} is not valid",
                    "bot_token": SECRET_IN_BODY,
                },
                400,
            )
        if wid == "slow":
            await asyncio.sleep(slow_seconds)
        return _json({"ok": True, "message": "success", "data": _workflow(id=wid)})

    async def execute(request: Request) -> Response:
        await remember(request)
        execution = {
            "id": "exec-1",
            "workflow_id": request.path_params["id"],
            "trigger_type": "manual",
            "status": "success",
            "started_at": "2025-04-30T07:00:00Z",
            "finished_at": "2025-04-30T07:00:05Z",
            "node_results": "not-a-list",  # wrong shape
            "error": None,
            "triggered_by": "user-alfin",
        }
        return _json({"ok": True, "message": "workflow executed successfully", "data": execution})

    async def cookies(request: Request) -> Response:
        await remember(request)
        response = Response(b'{"a": 1}', 200, media_type="application/json")
        response.raw_headers.append((b"set-cookie", b"a=1; Path=/"))
        response.raw_headers.append((b"set-cookie", b"b=2; Path=/; HttpOnly"))
        response.raw_headers.append((b"x-custom-thing", b"  spaced value  "))
        return response

    async def gzipped(request: Request) -> Response:
        await remember(request)
        body = gzip.compress(json.dumps({"ok": True, "message": "success" * 50}).encode(), mtime=0)
        return Response(
            body,
            200,
            headers={"content-encoding": "gzip", "vary": "Accept-Encoding"},
            media_type="application/json",
        )

    async def streamed(request: Request) -> Response:
        await remember(request)

        async def chunks() -> AsyncIterator[bytes]:
            for index in range(5):
                yield f"chunk-{index};".encode()
                await asyncio.sleep(0.01)

        return StreamingResponse(chunks(), media_type="text/plain")

    async def echo(request: Request) -> Response:
        await remember(request)
        return _json(
            {"method": request.method, "path": request.url.path, "query": request.url.query}
        )

    return Starlette(
        routes=[
            Route("/api/workflows", list_workflows, methods=["GET"]),
            Route("/api/workflows", create_workflow, methods=["POST"]),
            Route("/api/workflows/{id}", get_workflow, methods=["GET"]),
            Route("/api/workflows/{id}/execute", execute, methods=["POST"]),
            Route("/raw/cookies", cookies),
            Route("/raw/gzip", gzipped),
            Route("/raw/stream", streamed),
            Route("/raw/echo", echo, methods=["GET", "POST", "PUT", "DELETE"]),
        ]
    )


def counting_app(state: Upstream) -> Starlette:
    """The "evil" host: it must never see a request."""

    async def anything(request: Request) -> Response:
        state.received.append(
            Received(
                request.method,
                request.url.path,
                request.url.query,
                list(request.headers.items()),
                await request.body(),
            )
        )
        return Response(b"evil", 200)

    return Starlette(
        routes=[Route("/{path:path}", anything, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])]
    )

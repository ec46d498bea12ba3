"""A synchronous httpx transport that talks to an ASGI app in-process (no socket).

httpx's own `ASGITransport` is async only, and Starlette's `TestClient` warns with plain httpx;
this one runs the app on a private event-loop thread, with its lifespan started once, so the
guard and the checks use the same synchronous client against an app or a URL.
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from typing import Any

import anyio
import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal


class InProcessTransport(httpx.BaseTransport):
    """Send each request to `app` (ASGI 3) on a private event loop; lifespan on first use."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._stack = ExitStack()
        self._portal: BlockingPortal = self._stack.enter_context(start_blocking_portal())
        self._inner = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._lifespan: _Lifespan | None = None
        self._closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._lifespan is None:
            self._lifespan = _Lifespan(self._app, self._portal)
            self._lifespan.start()
        content = request.read()

        async def call() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            inner = httpx.Request(
                request.method, request.url, headers=request.headers.raw, content=content
            )
            response = await self._inner.handle_async_request(inner)
            body = await response.aread()
            return response.status_code, list(response.headers.raw), body

        status, headers, body = self._portal.call(call)
        return httpx.Response(status, headers=headers, content=body, request=request)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._lifespan is not None:
                self._lifespan.stop()
        finally:
            self._stack.close()


class _Lifespan:
    """The ASGI lifespan protocol, enough for startup and shutdown handlers to run."""

    def __init__(self, app: Any, portal: BlockingPortal) -> None:
        self.app = app
        self.portal = portal
        self.to_app_send, self.to_app_receive = anyio.create_memory_object_stream[dict[str, Any]](
            math.inf
        )
        self.from_app_send, self.from_app_receive = anyio.create_memory_object_stream[
            dict[str, Any] | None
        ](math.inf)
        self.supported = True

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        try:
            await self.app(scope, self.to_app_receive.receive, self.from_app_send.send)
        except Exception:
            self.supported = False  # an app without lifespan support refuses the scope
        finally:
            await self.from_app_send.send(None)

    async def _exchange(self, message: str) -> None:
        await self.to_app_send.send({"type": message})
        reply = await self.from_app_receive.receive()
        if reply is not None and reply["type"].endswith(".failed"):
            raise RuntimeError(reply.get("message") or f"the app failed its {message}")

    def start(self) -> None:
        self.portal.start_task_soon(self._run)
        self.portal.call(self._exchange, "lifespan.startup")

    def stop(self) -> None:
        if self.supported:
            self.portal.call(self._exchange, "lifespan.shutdown")

"""`create_app(config)`: the proxy as one Starlette app.

Everything outside `/__proxy/` goes straight to the `Forwarder` (a middleware that answers
itself, so the router never sees proxied traffic); `/__proxy/report`, `/__proxy/flush` and
`/__proxy/health` are the proxy's own. The lifespan owns the upstream connection pool, the
reference worker, the recorder's save loop and the log file.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ..spec import Spec
from ..wire import HttpMiddleware, cors_middleware
from .forward import Forwarder, envelope, origin_form, send_json
from .monitor import Monitor, Sink, iso_now
from .observations import ExchangeLog
from .recorder import Recorder
from .redact import Redactor
from .reference import EngineMode, ReferenceEngine
from .report import ReportState
from .report_html import render_html
from .semantics import SemanticChecker
from .sinks import ConsoleSink, JsonlSink
from .upstream import UpstreamURL

ADMIN_PREFIX = "/__proxy"


@dataclass
class ProxyConfig:
    """Everything `lenz-contract proxy` can be told; the defaults are the CLI's."""

    upstream: str
    log_path: Path | None = None
    exchange_log_path: Path | None = None
    """`--log-exchanges`: every exchange, redacted, for `lenz-contract drift`."""
    record_dir: Path | None = None
    fail_on_violation: bool = False
    cors_origins: tuple[str, ...] = ()
    timeout: float = 30.0
    connect_timeout: float = 5.0
    reference: EngineMode = "process"
    transport: Literal["fast", "httpcore"] = "fast"
    """`fast` (asyncio + httptools, see transport.py) or `httpcore` (httpx's own)."""
    console: TextIO | None = field(default_factory=lambda: sys.stderr)
    max_body_bytes: int = 16 * 1024 * 1024
    flush_interval: float = 1.0
    semantics: bool = True
    """Judge what traffic shows beyond schemas (`semantics.py`)."""


@dataclass
class ProxyState:
    """What the admin endpoints and the lifespan reach through `app.state.proxy`."""

    config: ProxyConfig
    monitor: Monitor
    forwarder: Forwarder
    recorder: Recorder | None
    reference: ReferenceEngine | None

    def report(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"reference": self.monitor.stats()}
        extra["recording"] = self.recorder.stats() if self.recorder else None
        semantics = self.monitor.semantics
        extra["semantics"] = semantics.stats() if semantics is not None else None
        log = self.monitor.observations
        extra["exchange_log"] = (
            {"path": str(log.path), "written": log.written} if log is not None else None
        )
        return self.monitor.report.to_json(extra)


class ForwardMiddleware(HttpMiddleware):
    """Sends every HTTP request outside `/__proxy/` to the forwarder; the rest to the router."""

    def __init__(self, app: ASGIApp, forwarder: Forwarder) -> None:
        super().__init__(app)
        self.forwarder = forwarder

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if not path.startswith("/"):  # absolute-form target (h11 passes it through): path only
            target = origin_form(scope)
            if target is None:
                await send_json(send, 400, envelope("invalid request target"))
                return
            path = unquote(target.decode("latin-1"))
            scope = {**scope, "path": path, "raw_path": target}
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        await self.forwarder(scope, receive, send)


def _state(request: Request) -> ProxyState:
    state: ProxyState = request.app.state.proxy
    return state


def _wants_json(request: Request) -> bool:
    fmt = request.query_params.get("format")
    if fmt:
        return fmt.lower() == "json"
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


async def report_endpoint(request: Request) -> Response:
    data = _state(request).report()
    if _wants_json(request):
        return JSONResponse(data, headers={"cache-control": "no-store"})
    return HTMLResponse(render_html(data), headers={"cache-control": "no-store"})


async def flush_endpoint(request: Request) -> Response:
    """Wait for openapi-core's pending checks and save the recording (CI: call before reading)."""
    state = _state(request)
    await state.monitor.drain()
    if state.recorder is not None:
        await state.recorder.save()
    return JSONResponse(
        {"ok": True, **state.report()["totals"], "reference": state.monitor.stats()}
    )


async def health_endpoint(request: Request) -> Response:
    return JSONResponse({"ok": True, "upstream": _state(request).config.upstream})


async def _error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    message = {404: "no such proxy endpoint", 405: "method not allowed"}.get(status, "proxy error")
    return Response(envelope(message), status, headers=headers, media_type="application/json")


def create_app(config: ProxyConfig, spec: Spec | None = None) -> Starlette:
    """The proxy app. Nothing touches the network or the disk until the lifespan starts,
    except reading an existing `record_dir` (so a bad folder fails before serving)."""
    spec = spec or Spec.load()
    upstream = UpstreamURL(config.upstream)
    redactor = Redactor()
    sinks: list[Sink] = [ConsoleSink(config.console)] if config.console is not None else []
    recorder = Recorder(config.record_dir, spec, redactor) if config.record_dir else None
    reference = (
        ReferenceEngine(spec.document, config.reference) if config.reference != "off" else None
    )
    report = ReportState(
        spec,
        upstream=upstream.text,
        started_at=iso_now(),
        settings={
            "fail_on_violation": config.fail_on_violation,
            "log": str(config.log_path) if config.log_path else None,
            "log_exchanges": str(config.exchange_log_path) if config.exchange_log_path else None,
            "record": str(config.record_dir) if config.record_dir else None,
            "semantics": config.semantics,
        },
    )
    monitor = Monitor(
        spec,
        upstream=upstream.text,
        report=report,
        sinks=sinks,
        redactor=redactor,
        reference=reference,
        recorder=recorder,
        semantics=SemanticChecker(spec) if config.semantics else None,
    )
    forwarder = Forwarder(
        upstream,
        monitor,
        timeout=config.timeout,
        connect_timeout=config.connect_timeout,
        fail_on_violation=config.fail_on_violation,
        max_body_bytes=config.max_body_bytes,
        transport=config.transport,
    )
    state = ProxyState(config, monitor, forwarder, recorder, reference)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if config.log_path is not None:
            monitor.sinks.append(JsonlSink(config.log_path))
        if config.exchange_log_path is not None:
            monitor.observations = ExchangeLog(config.exchange_log_path)
        if reference is not None:
            reference.start(asyncio.get_running_loop())
        await forwarder.start()
        saver = (
            asyncio.create_task(recorder.run(config.flush_interval))
            if recorder is not None
            else None
        )
        try:
            yield
        finally:
            if saver is not None:
                saver.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await saver
            await monitor.drain(timeout=5.0)
            if recorder is not None:
                await recorder.save()
            await forwarder.close()
            if reference is not None:
                reference.close()
            monitor.close()

    middleware = [
        *cors_middleware(config.cors_origins, methods=["*"], headers=["*"]),
        Middleware(ForwardMiddleware, forwarder=forwarder),
    ]
    app = Starlette(
        routes=[
            Route(f"{ADMIN_PREFIX}/report", report_endpoint, methods=["GET"]),
            Route(f"{ADMIN_PREFIX}/flush", flush_endpoint, methods=["POST"]),
            Route(f"{ADMIN_PREFIX}/health", health_endpoint, methods=["GET"]),
        ],
        middleware=middleware,
        exception_handlers={404: _error, 405: _error},
        lifespan=lifespan,
    )
    app.state.proxy = state
    return app

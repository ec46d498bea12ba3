"""`create_app(...)`: the mock as a Starlette app (served by uvicorn, or in-process in tests).

Routes: every spec operation (one pure-ASGI route, `dispatcher.ApiRoute`), the admin API under
`/__mock/`, the docs page and the spec files. 404 and 405 answers are the JSON error envelope
(Starlette's own are text/plain). CORS is Starlette's pure-ASGI middleware. The lifespan runs
the scheduler and, with `reload_spec`, the spec watcher; everything else is built here, so an
in-process client without lifespan sees a complete mock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Router
from starlette.types import Receive, Scope, Send

from ..wire import cors_middleware
from .admin import ADMIN_PREFIX, AdminGuard, JSONAnswer, admin_routes
from .config import MockConfig
from .dispatcher import RETRY_AFTER, ApiDispatcher, namespace_refusal, unavailable_body
from .docs_page import docs_routes
from .errors import one_error
from .namespaces import NamespaceError
from .reload import watch_spec
from .state import MockState
from .store import StoreUnavailable

logger = logging.getLogger(__name__)

CORS_HEADERS = ["Authorization", "Content-Type", "Prefer"]


def create_app(config: MockConfig | None = None, **options: Any) -> Starlette:
    """The mock app; `options` override fields of `config` (e.g. `self_check=True`).

    The running mock is `app.state.mock` (a `MockState`: service, store, recorder, ...).
    """
    config = config or MockConfig()
    for key, value in options.items():
        if not hasattr(config, key):
            raise TypeError(f"create_app() got an unknown option {key!r}")
        setattr(config, key, value)
    state = MockState(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks: list[asyncio.Task[None]] = []
        loop = asyncio.get_running_loop()
        if config.scheduler or state.backend.shared:  # a shared store: drops by other processes
            background = state.namespaces.run(fire=config.scheduler)
            tasks.append(loop.create_task(background, name="lenz-mock-scheduler"))
        if config.reload_spec:
            tasks.append(loop.create_task(watch_spec(state)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            state.close()

    async def not_found(request: Request, exc: Exception) -> Response:
        body = one_error("path", f"no endpoint at {request.url.path}")
        state.check_error_envelope(body)
        return JSONAnswer(body, 404)

    async def store_unavailable(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StoreUnavailable)
        retry = {RETRY_AFTER[0].decode(): RETRY_AFTER[1].decode()}
        return JSONAnswer(unavailable_body(exc), 503, headers=retry)

    async def namespace_refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, NamespaceError)
        status, body = namespace_refusal(exc)
        return JSONAnswer(body, status)

    async def not_allowed(request: Request, exc: Exception) -> Response:
        headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
        body = one_error("method", f"{request.method} is not allowed here")
        state.check_error_envelope(body)
        return JSONAnswer(body, 405, headers=headers)

    middleware = [
        *cors_middleware(
            config.cors_origins,
            methods=["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"],
            headers=CORS_HEADERS,
            middleware=BrowserOnlyCORS,
        ),
        Middleware(ApiDispatcher, state=state),
    ]
    app = Starlette(
        routes=[
            Mount(ADMIN_PREFIX, app=AdminGuard(_admin_app(state), state)),
            *docs_routes(state),
        ],
        middleware=middleware,
        exception_handlers={
            404: not_found,
            405: not_allowed,
            StoreUnavailable: store_unavailable,
            NamespaceError: namespace_refused,
        },
        lifespan=lifespan,
    )
    app.state.mock = state
    return app


class BrowserOnlyCORS(CORSMiddleware):
    """Starlette's CORS, skipped for requests without `Origin` (curl, tests, load tools).

    Starlette 1.x wraps every response to add `Vary: Origin`; on the API's hot path that
    costs more than the handler, and only browsers (which always send Origin) need CORS.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, _ in scope["headers"]:
                if name == b"origin":
                    await super().__call__(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _admin_app(state: MockState) -> Router:
    return Router(routes=admin_routes(state))

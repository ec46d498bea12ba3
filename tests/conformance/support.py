"""What the conformance tests share: targets seeded with foreign data, extra breaks, short runs.

The test servers (`servers/`) are the targets; `extra_break` wraps one to break a rule the
catalogue has no break for, so every Lenz check has a server that fails it.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lenz_contract.conformance import Profile, RunOptions, RunResult, Target, run

from ..conftest import load_fixture
from .servers import make_app

TOKEN = "good-token"
JSON = dict[str, Any]


def foreign_workflows() -> list[JSON]:
    """Workflows that exist before a run (the docs' seed, one inactive and one more active)."""
    seed: list[JSON] = copy.deepcopy(load_fixture("seed/workflows.json"))
    extra = copy.deepcopy(seed[0])
    seed.append(
        extra
        | {
            "id": "wf-foreign-002",
            "name": "Foreign workflow, inactive",
            "is_active": False,
            "created_at": "2025-02-01T00:00:00Z",
        }
    )
    seed.append(
        copy.deepcopy(seed[0])
        | {"id": "wf-foreign-003", "name": "Laporan Mingguan", "created_at": "2025-03-01T00:00:00Z"}
    )
    return seed


class Wrapped:
    """An ASGI wrapper that still shows the wrapped server's `state` (its data, its log)."""

    def __init__(self, inner: Any, app: ASGIApp) -> None:
        self.inner = inner
        self.app = app
        self.state = inner.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def target(*breaks: str, seed: list[JSON] | None = None) -> Any:
    """A test server (with `breaks`), seeded with foreign workflows."""
    return make_app(breaks=breaks, seed=foreign_workflows() if seed is None else seed)


def state(app: Any) -> JSON:
    """What the server holds, as the API can see it (to compare before and after a run).

    Executions of a deleted workflow stay in the test server's memory but no request reaches
    them, so only those of existing workflows count.
    """
    workflows = app.state.workflows
    executions = {k: v for k, v in app.state.executions.items() if k in workflows}
    return copy.deepcopy({"workflows": workflows, "executions": executions})


def checks_only(app: Any, profile: Profile = Profile.DOCS, **options: Any) -> RunResult:
    """The Lenz checks alone (no schemathesis phases), in-process, execution allowed; a run
    still in progress is polled for 2 s (not 30: the test servers finish at once or never)."""
    options.setdefault("allow_execute", True)
    options.setdefault("execution_timeout", 2.0)
    return run(
        Target.in_process(app),
        TOKEN,
        RunOptions(profile=profile, generation=False, **options),
    )


def generation_only(app: Any, profile: Profile = Profile.DOCS, **options: Any) -> RunResult:
    """schemathesis's phases alone, small and seeded."""
    options.setdefault("allow_execute", True)
    options.setdefault("execution_timeout", 2.0)
    options.setdefault("max_examples", 5)
    options.setdefault("seed", 7)
    return run(
        Target.in_process(app),
        TOKEN,
        RunOptions(profile=profile, semantic=False, **options),
    )


# -- extra breaks (ASGI wrappers around a correct server) -----------------------------------------


def _rewrite_json(app: ASGIApp, change: Callable[[Scope, Any], Any]) -> ASGIApp:
    """Wrap `app`, passing every JSON answer through `change(scope, body)`."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            with contextlib.suppress(ValueError):  # not JSON: passed on as it is
                body = json.dumps(change(scope, json.loads(body))).encode()
            headers = [
                (k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"
            ]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, capture)

    return wrapped


def _query_without(app: ASGIApp, name: str) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            parts = [
                p
                for p in scope["query_string"].split(b"&")
                if not p.startswith(name.encode() + b"=")
            ]
            scope = {**scope, "query_string": b"&".join(parts)}
        await app(scope, receive, send)

    return wrapped


def _hide_crud_items(scope: Scope, body: Any) -> Any:
    """The list leaves out workflows named `...-crud-...` (they read back, but are not listed)."""
    if scope["method"] == "GET" and scope["path"] == "/api/workflows" and isinstance(body, dict):
        body["data"] = [i for i in body.get("data", []) if "-crud-" not in i.get("name", "")]
    return body


def _status_422(app: ASGIApp) -> ASGIApp:
    """Bad input is refused with 422 instead of 400 (a legal 4xx, but not the strict 400)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        async def changed(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 400:
                message = {**message, "status": 422}
            await send(message)

        await app(scope, receive, changed)

    return wrapped


EXTRA_BREAKS: dict[str, Callable[[ASGIApp], ASGIApp]] = {
    "created_not_listed": lambda app: _rewrite_json(app, _hide_crud_items),
    "search_ignored": lambda app: _query_without(app, "search"),
    "bad_input_422": _status_422,
    "mock_header": lambda app: _with_header(app, b"x-lenz-mock", b"1"),
}


def _with_header(app: ASGIApp, name: bytes, value: bytes) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (name, value)]}
            await send(message)

        await app(scope, receive, tagged)

    return wrapped


def extra_break(name: str, app: Any | None = None) -> Wrapped:
    """A correct server (or `app`) broken by one of `EXTRA_BREAKS`."""
    inner = app if app is not None else target()
    return Wrapped(inner, EXTRA_BREAKS[name](inner))


@contextmanager
def no_change(app: Any) -> Iterator[JSON]:
    """Assert the server holds exactly what it held before the block."""
    before = state(app)
    yield before
    assert state(app) == before

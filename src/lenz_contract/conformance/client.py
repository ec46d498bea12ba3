"""The Lenz checks' own client: one method per operation, every call through the guard.

Methods and paths come from the spec (`Spec.operation`), never written here.

Calls never raise on an HTTP status: a check wants to see a 500 or a 404, not an exception. Each
answer comes back as a `Reply` holding the exchange as it went over the wire, so a failure can
point at it (and its `curl`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack
from urllib.parse import quote

import httpx

from .context import RunContext
from .guard import DORMANT_EXTENSION, EXCHANGE_EXTENSION, PHASE_EXTENSION, GuardRefused
from .results import Exchange
from .token import PLACEHOLDER

NO_TOKEN = ""  # pass as `token=` to send no Authorization header at all


class Sending(TypedDict, total=False):
    """What a call sends besides its method and path."""

    params: dict[str, Any] | None
    body: Any
    raw: bytes | None
    token: str | None  # None: the run's token; NO_TOKEN: none
    extensions: dict[str, Any] | None


class TransportProblem(Exception):
    """The target did not answer (connection refused, timeout...)."""


@dataclass(frozen=True)
class Reply:
    """One answer: status, headers, parsed JSON (or None) and the exchange behind it."""

    operation: str
    status: int
    headers: httpx.Headers
    body: bytes
    json: Any
    exchange: Exchange

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def data(self) -> Any:
        return self.json.get("data") if isinstance(self.json, dict) else None

    @property
    def content_type(self) -> str:
        return str(self.headers.get("content-type", ""))

    def field(self, name: str) -> Any:
        return self.json.get(name) if isinstance(self.json, dict) else None

    def is_error_envelope(self) -> bool:
        """`{ok: false, message: <string>}` (the documented error body)."""
        body = self.json
        return (
            isinstance(body, dict)
            and body.get("ok") is False
            and isinstance(body.get("message"), str)
        )

    def describe(self) -> str:
        return f"{self.status} {self.exchange.body_excerpt(160)}"


class LenzClient:
    """Typed calls to the seven operations (and raw ones), through the guarded transport."""

    def __init__(
        self,
        ctx: RunContext,
        http: httpx.Client,
        *,
        phase: str = "semantic",
        observer: Callable[[Reply], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self.http = http
        self.phase = phase
        self.observer = observer

    # -- the seven operations (method and path read from the spec) ---------------------------

    def list_workflows(
        self,
        *,
        page: int | str | None = None,
        limit: int | str | None = None,
        search: str | None = None,
        token: str | None = None,
    ) -> Reply:
        params = {"page": page, "limit": limit, "search": search}
        return self.operation("listWorkflows", params=params, token=token)

    def create(
        self,
        body: Any,
        *,
        token: str | None = None,
        raw: bytes | None = None,
        dormant: bool = False,
    ) -> Reply:
        """Create a workflow; `dormant=True` asks the guard to let it be active, which it only
        does for a schedule that can never fire (`guard.never_fires`)."""
        extensions = {DORMANT_EXTENSION: True} if dormant else None
        return self.operation(
            "createWorkflow", body=body, raw=raw, token=token, extensions=extensions
        )

    def get(self, workflow_id: str, *, token: str | None = None) -> Reply:
        return self.operation("getWorkflow", workflow_id, token=token)

    def update(
        self, workflow_id: str, body: Any, *, token: str | None = None, raw: bytes | None = None
    ) -> Reply:
        return self.operation("updateWorkflow", workflow_id, body=body, raw=raw, token=token)

    def delete(self, workflow_id: str, *, token: str | None = None) -> Reply:
        return self.operation("deleteWorkflow", workflow_id, token=token)

    def execute(self, workflow_id: str, *, token: str | None = None) -> Reply:
        return self.operation("executeWorkflow", workflow_id, token=token)

    def logs(
        self,
        workflow_id: str,
        *,
        page: int | str | None = None,
        limit: int | str | None = None,
        token: str | None = None,
    ) -> Reply:
        params = {"page": page, "limit": limit}
        return self.operation("listWorkflowLogs", workflow_id, params=params, token=token)

    # -- plumbing ------------------------------------------------------------------------------

    def operation(
        self, operation_id: str, workflow_id: str | None = None, **sending: Unpack[Sending]
    ) -> Reply:
        """Call `operation_id` at the method and path the spec gives it."""
        op = self.ctx.spec.operation(operation_id)
        path = self.path_of(operation_id, workflow_id)
        return self.call(operation_id, op.method, path, **sending)

    def path_of(self, operation_id: str, workflow_id: str | None = None) -> str:
        """The operation's path with its one path parameter (the workflow id) filled in."""
        op = self.ctx.spec.operation(operation_id)
        names = [p.name for p in op.parameters if p.location == "path"]
        path = op.path
        for name in names:
            if workflow_id is None:
                raise ValueError(f"{operation_id} needs a workflow id")
            path = path.replace("{" + name + "}", quote(workflow_id, safe=""))
        return path

    def call(self, operation: str, method: str, path: str, **sending: Unpack[Sending]) -> Reply:
        """Send one request; `token=None` sends the run's token, `NO_TOKEN` none."""
        params, body, raw = sending.get("params"), sending.get("body"), sending.get("raw")
        token, extensions = sending.get("token"), sending.get("extensions")
        headers = {"Accept": "application/json"}
        used = PLACEHOLDER if token is None else token  # the guard fills in the run's token
        if used:
            headers["Authorization"] = f"Bearer {used}"
        content: bytes | None = raw
        if content is None and body is not None:
            content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        if content is not None:
            headers["Content-Type"] = "application/json"
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        url = self.ctx.target.base_url + path
        request = self.http.build_request(
            method,
            url,
            params=query or None,
            headers=headers,
            content=content,
            extensions={PHASE_EXTENSION: self.phase, **(extensions or {})},
        )
        try:
            response = self.http.send(request)
        except GuardRefused:
            raise
        except httpx.TransportError as exc:
            raise TransportProblem(f"{method} {url}: {exc.__class__.__name__}: {exc}") from exc
        exchange = response.extensions[EXCHANGE_EXTENSION]
        try:
            parsed = json.loads(response.content)
        except ValueError:
            parsed = None
        reply = Reply(
            operation, response.status_code, response.headers, response.content, parsed, exchange
        )
        if self.observer is not None:
            self.observer(reply)
        return reply


def build_http(ctx: RunContext, transport: httpx.BaseTransport) -> httpx.Client:
    """The one httpx client of a run (its transport is the guard)."""
    return httpx.Client(
        base_url=ctx.target.base_url,
        transport=transport,
        timeout=ctx.options.request_timeout,
        follow_redirects=False,
    )

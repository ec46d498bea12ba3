"""The safety layer: every request of a run passes here, and only safe ones reach the target.

A conformance run talks to real deployments, so "generate anything" needs a fence. The guard is
an httpx transport that wraps the real one (HTTP or in-process ASGI); the Lenz checks use it
directly, and schemathesis reaches the target only through `Gateway`, an ASGI app in front of
the same transport (schemathesis is never told the target's URL). Whatever a phase generates,
the guard:

- lets reads (GET, HEAD, OPTIONS) through, and in read-only runs nothing else;
- lets a create through, after naming it `lenz-contract-<run id>-...` and making it inactive
  (`is_active: true`/missing becomes `false`; a non-boolean or non-string is negative data and is
  left alone), and records the id the answer gives, for cleanup;
- lets PUT, DELETE, execute and any other write reach only ids this run created; a write aimed at
  any other id is sent to an id that cannot exist (`lenz-contract-<run id>-absent`), and an
  execute is treated so unless execution is allowed;
- refuses writes it cannot place (a PUT on the collection, a path outside the API);
- waits out 429 answers (`Retry-After`) and keeps to `--rate-limit`;
- logs every exchange, token redacted, so failures can be replayed with `curl`.
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

import anyio
import httpx

from .context import RunContext
from .results import Exchange

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COLLECTION = ("api", "workflows")
MAX_LOGGED_BODY = 64 * 1024
MAX_429_RETRIES = 8
PHASE_EXTENSION = "lenz_phase"
EXCHANGE_EXTENSION = "lenz_exchange"
EXCHANGE_HEADER = "x-lenz-contract-exchange"
GUARD_HEADER = "x-lenz-contract-guard"
_MISSING = object()


class GuardRefused(Exception):
    """The guard would not send this request at all."""


@dataclass(frozen=True)
class Decision:
    """What the guard does with one request."""

    raw_path: str  # percent-encoded, relative to the target's base path
    body: bytes
    notes: tuple[str, ...] = ()


@dataclass
class Guard:
    """The policy: which requests may reach the target, rewritten how, and which ids are ours."""

    ctx: RunContext
    owned: list[str] = field(default_factory=list)
    unparsed_creates: int = 0
    rewrites: int = 0
    refusals: int = 0
    _owned_set: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def owns(self, workflow_id: str) -> bool:
        with self._lock:
            return workflow_id in self._owned_set

    def adopt(self, workflow_id: str) -> None:
        """Record an id this run created (from a create answer, or found by its run-id name)."""
        with self._lock:
            if workflow_id not in self._owned_set:
                self._owned_set.add(workflow_id)
                self.owned.append(workflow_id)

    def vet(self, method: str, raw_path: str, body: bytes) -> Decision:
        """Decide on one request; raises `GuardRefused` when it must not be sent."""
        method = method.upper()
        if self.ctx.options.read_only and method != "GET":
            return self._refuse(f"{method} {raw_path}: read-only run sends GET requests only")
        if method in SAFE_METHODS:
            return Decision(raw_path, body)
        segments = raw_path.split("/")
        if segments[1:3] != list(COLLECTION):
            return self._refuse(f"{method} {raw_path}: a write outside the Workflows API")
        if len(segments) == 3:
            if method == "POST":
                safe_body, notes = self.make_safe(body)
                return Decision(raw_path, safe_body, notes)
            return self._refuse(f"{method} {raw_path}: a write on the whole collection")
        workflow_id = unquote(segments[3])
        rest = segments[4:]
        if workflow_id == self.ctx.absent_id:
            return Decision(raw_path, body)  # made up to be absent: nothing to protect
        if not self.owns(workflow_id):
            return self._redirect(segments, body, f"id {workflow_id!r} was not created by this run")
        if method == "POST" and rest[:1] == ["execute"] and not self.ctx.execute_allowed:
            return self._redirect(segments, body, "execution is not allowed in this run")
        if method in ("PUT", "PATCH") and not rest:
            safe_body, notes = self.make_safe(body)
            return Decision(raw_path, safe_body, notes)
        return Decision(raw_path, body)

    def make_safe(self, body: bytes) -> tuple[bytes, tuple[str, ...]]:
        """Name a create/update body after the run and make it inactive; leave negative data be."""
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return body, ()
        if not isinstance(data, dict):
            return body, ()
        notes = []
        active = data.get("is_active", _MISSING)
        if active is _MISSING or active is True:
            data["is_active"] = False
            notes.append("is_active set to false")
        name = data.get("name")
        prefix = self.ctx.name_prefix
        if isinstance(name, str) and name and not name.startswith(prefix):
            data["name"] = prefix + name
            notes.append("name prefixed with the run id")
        if not notes:
            return body, ()
        return json.dumps(data, ensure_ascii=True).encode("ascii"), tuple(notes)

    def observe(self, method: str, raw_path: str, status: int, body: bytes) -> None:
        """Learn from an answer: a successful create gives an id this run now owns."""
        if method.upper() != "POST" or raw_path.split("?")[0] != "/" + "/".join(COLLECTION):
            return
        if not 200 <= status < 300:
            return
        try:
            created = json.loads(body)["data"]["id"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            created = None
        if isinstance(created, str) and created:
            self.adopt(created)
        else:
            with self._lock:
                self.unparsed_creates += 1

    def _redirect(self, segments: list[str], body: bytes, why: str) -> Decision:
        with self._lock:
            self.rewrites += 1
        segments = [*segments[:3], quote(self.ctx.absent_id, safe=""), *segments[4:]]
        return Decision("/".join(segments), body, (f"sent to an absent id: {why}",))

    def _refuse(self, why: str) -> Decision:
        with self._lock:
            self.refusals += 1
        raise GuardRefused(why)


class GuardTransport(httpx.BaseTransport):
    """The httpx transport every request of a run goes through (see the module docstring)."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        guard: Guard,
        *,
        base_path: str = "",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inner = inner
        self.guard = guard
        self.base_path = base_path.rstrip("/")
        self.exchanges: list[Exchange] = []
        self.by_phase: Counter[str] = Counter()
        self.rate_limit_waits = 0
        self._sleep = sleep
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._inflight = 0
        self._next_slot = 0.0
        rate = guard.ctx.options.rate_limit
        self._interval = 1.0 / rate if rate else 0.0

    # -- the request path --------------------------------------------------------------------

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raw = request.url.raw_path.decode("ascii")
        path, _, query = raw.partition("?")
        relative = path[len(self.base_path) :] if path.startswith(self.base_path) else path
        if not relative.startswith("/"):
            relative = "/" + relative
        body = request.read()
        decision = self.guard.vet(request.method, relative, body)
        if decision.raw_path != relative or decision.body != body:
            target_path = self.base_path + decision.raw_path + (f"?{query}" if query else "")
            headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"content-length"]
            request = httpx.Request(
                request.method,
                request.url.copy_with(raw_path=target_path.encode("ascii")),
                headers=headers,
                content=decision.body,
                extensions=request.extensions,
            )
        with self._lock:
            self._inflight += 1
        try:
            response, elapsed = self._send(request)
        finally:
            with self._lock:
                self._inflight -= 1
                self._idle.notify_all()
        self.guard.observe(
            request.method, decision.raw_path, response.status_code, response.content
        )
        return self._record(request, decision, response, elapsed)

    def _send(self, request: httpx.Request) -> tuple[httpx.Response, float]:
        limit = self.guard.ctx.options.max_retry_after
        for attempt in range(MAX_429_RETRIES + 1):
            self._throttle()
            started = time.monotonic()
            response = self.inner.handle_request(request)
            response.read()
            elapsed = time.monotonic() - started
            if response.status_code != 429 or attempt == MAX_429_RETRIES:
                return response, elapsed
            delay = retry_after(response.headers.get("retry-after"))
            if delay is None:
                delay = min(2.0**attempt, 30.0)
            if delay > limit:
                return response, elapsed
            with self._lock:
                self.rate_limit_waits += 1
            response.close()
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _throttle(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._interval
        if slot > now:
            self._sleep(slot - now)

    def _record(
        self, request: httpx.Request, decision: Decision, response: httpx.Response, elapsed: float
    ) -> httpx.Response:
        phase = str(request.extensions.get(PHASE_EXTENSION, "semantic"))
        ctx = self.guard.ctx
        headers = tuple(
            (k, ctx.redact(v))
            for k, v in request.headers.multi_items()
            if k.lower() not in ("content-length", "host", "accept-encoding", "connection")
        )
        content = response.content
        with self._lock:
            exchange = Exchange(
                index=len(self.exchanges),
                phase=phase,
                method=request.method,
                url=ctx.redact(str(request.url)),
                path=decision.raw_path,
                request_headers=headers,
                request_body=decision.body[:MAX_LOGGED_BODY],
                status=response.status_code,
                response_headers=tuple(response.headers.multi_items()),
                response_body=content[:MAX_LOGGED_BODY],
                elapsed=elapsed,
                note="; ".join(decision.notes),
            )
            self.exchanges.append(exchange)
            self.by_phase[phase] += 1
        out_headers = [
            (k, v)
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        out_headers.append((EXCHANGE_HEADER, str(exchange.index)))
        if decision.notes:
            out_headers.append(
                (GUARD_HEADER, exchange.note.encode("ascii", "backslashreplace").decode())
            )
        return httpx.Response(
            response.status_code,
            headers=out_headers,
            content=content,
            request=request,
            extensions={EXCHANGE_EXTENSION: exchange},
        )

    # -- for cleanup and reports -------------------------------------------------------------

    def wait_idle(self, timeout: float) -> bool:
        """Wait for requests still in flight (an interrupted phase may leave one running)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._inflight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def exchange(self, index: int) -> Exchange | None:
        with self._lock:
            return self.exchanges[index] if 0 <= index < len(self.exchanges) else None

    def close(self) -> None:
        self.inner.close()


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


URL_SAFE = "/%:@!$&'()*+,;=-._~"  # kept as sent; anything else is percent-encoded
HOP_HEADERS = frozenset({b"host", b"content-length", b"connection", b"transfer-encoding"})


class Gateway:
    """schemathesis's only way to the target: an ASGI app that forwards through the guard.

    schemathesis sends to `schema.app = Gateway(...)` in-process, so every request it makes
    (cases, stateful steps, the extra requests its auth and content-type checks send) reaches
    the target through the guarded client, whatever the target is.
    """

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        raw_path = quote(scope.get("raw_path") or scope["path"].encode("utf-8"), safe=URL_SAFE)
        query = quote(scope.get("query_string") or b"", safe=URL_SAFE + "?")
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() not in HOP_HEADERS]
        base = self.client.base_url
        path = base.raw_path.decode("ascii").split("?")[0].rstrip("/") + raw_path
        full = (path + (f"?{query}" if query else "")).encode("ascii")
        request = self.client.build_request(
            scope["method"],
            base.copy_with(raw_path=full),
            headers=headers,
            content=b"".join(chunks),
            extensions={PHASE_EXTENSION: "generation"},
        )
        response = await anyio.to_thread.run_sync(self._send, request, abandon_on_cancel=True)
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [
                    (k.encode("latin-1"), v.encode("latin-1"))
                    for k, v in response.headers.multi_items()
                    if k.lower() not in ("content-length", "transfer-encoding")
                ]
                + [(b"content-length", str(len(response.content)).encode("ascii"))],
            }
        )
        await send({"type": "http.response.body", "body": response.content})

    def _send(self, request: httpx.Request) -> httpx.Response:
        import requests  # schemathesis classifies network failures by the requests exceptions

        try:
            return self.client.send(request)
        except httpx.TimeoutException as exc:
            raise requests.exceptions.ReadTimeout(str(exc)) from exc
        except httpx.TransportError as exc:
            raise requests.exceptions.ConnectionError(str(exc)) from exc

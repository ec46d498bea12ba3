"""The safety layer: every request of a run passes here, and only safe ones reach the target.

A conformance run talks to real deployments, so "generate anything" needs a fence. The guard is
an httpx transport that wraps the real one (HTTP or in-process ASGI); the Lenz checks use it
directly, and schemathesis reaches the target only through `Gateway`, an ASGI app in front of
the same transport (schemathesis is never told the target's URL). Whatever a phase generates,
the guard:

- lets reads (GET, HEAD, OPTIONS) through, and in read-only runs nothing else;
- lets a create through, after naming it `lenz-contract-<run id>-...` and making it inactive
  (`is_active: true`/missing, and `null` in the docs profile, becomes `false`; any other value is
  negative data and is left alone), and records the id the answer gives, for cleanup; the one exception is a create
  the Lenz checks mark dormant whose schedule can never fire (30 February), which may stay
  active (a deployment may refuse to execute inactive workflows);
- watches every answer about a workflow of this run: one answered active that the run did not
  create dormant is a safety event, deactivated at once (a PUT with `is_active: false`, else a
  DELETE) and reported;
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
import re
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

from .context import Profile, RunContext
from .headers import shown
from .results import Exchange
from .token import PLACEHOLDER, TokenError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COLLECTION = ("api", "workflows")
MAX_LOGGED_BODY = 64 * 1024
MAX_429_RETRIES = 8
PHASE_EXTENSION = "lenz_phase"
DORMANT_EXTENSION = "lenz_dormant"
EXCHANGE_EXTENSION = "lenz_exchange"
EXCHANGE_HEADER = "x-lenz-contract-exchange"
GUARD_HEADER = "x-lenz-contract-guard"
BEARER_PLACEHOLDER = f"Bearer {PLACEHOLDER}"  # the run's token, filled in on the wire
_MISSING = object()


class GuardRefused(Exception):
    """The guard would not send this request at all."""


@dataclass
class SafetyEvent:
    """A workflow of this run answered active although the run never let it be."""

    workflow_id: str
    exchange: int  # the answer that showed it active
    action: str  # what the guard did about it


# A day that no month of that number has: 30 or 31 February, 31 April/June/September/November.
_NO_SUCH_DAY = {2: {30, 31}, 4: {31}, 6: {31}, 9: {31}, 11: {31}}
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
        start=1,
    )
}
_FIXED = re.compile(r"^[0-9]{1,2}$")


def never_fires(cron: str) -> bool:
    """True only for a six-field cron that names one day that does not exist (30 February).

    Deliberately narrow: fixed second, minute and hour, one day of the month, one month, and a
    weekday field of `*` or `?` (a restricted weekday would fire on its own in most crons).
    """
    fields = cron.split(" ")
    if len(fields) != 6 or not all(_FIXED.match(f) for f in fields[:4]):
        return False
    month_field = fields[4].upper()
    month = _MONTHS.get(month_field) or (int(month_field) if _FIXED.match(month_field) else 0)
    return fields[5] in ("*", "?") and int(fields[3]) in _NO_SUCH_DAY.get(month, set())


def dormant_body(body: bytes, prefix: str) -> bool:
    """A create body of this run (named `prefix...`) that is active only with a schedule that
    can never fire."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    if not isinstance(data, dict) or data.get("is_active") is not True:
        return False
    trigger = data.get("trigger_node")
    config = trigger.get("config") if isinstance(trigger, dict) else None
    cron = config.get("cron") if isinstance(config, dict) else None
    return (
        isinstance(trigger, dict)
        and trigger.get("type") == "schedule"
        and isinstance(cron, str)
        and never_fires(cron)
        and isinstance(data.get("name"), str)
        and data["name"].startswith(prefix)
    )


@dataclass(frozen=True)
class Decision:
    """What the guard does with one request."""

    raw_path: str  # percent-encoded, relative to the target's base path
    body: bytes
    notes: tuple[str, ...] = ()
    dormant: bool = False  # a create allowed to stay active: its schedule never fires


@dataclass
class Guard:
    """The policy: which requests may reach the target, rewritten how, and which ids are ours."""

    ctx: RunContext
    owned: list[str] = field(default_factory=list)
    dormant: set[str] = field(default_factory=set)  # owned ids allowed to be active
    safety_events: list[SafetyEvent] = field(default_factory=list)
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

    def vet(self, method: str, raw_path: str, body: bytes, *, dormant: bool = False) -> Decision:
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
                if dormant and dormant_body(body, self.ctx.name_prefix):
                    return Decision(raw_path, body, ("dormant: its schedule never fires",), True)
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
        # `null` may read as "left out", and left out may mean active: in the docs profile null
        # is valid data, so it goes as false; in the strict one it is negative data (refused,
        # or the safety watch switches the workflow off)
        lenient = self.ctx.profile is Profile.DOCS
        if active is _MISSING or active is True or (active is None and lenient):
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

    def observe(
        self, method: str, raw_path: str, status: int, body: bytes, *, dormant: bool = False
    ) -> None:
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
            if dormant:
                with self._lock:
                    self.dormant.add(created)
        else:
            with self._lock:
                self.unparsed_creates += 1

    def active_own(self, status: int, body: bytes) -> list[dict[str, Any]]:
        """Workflows of this run that an answer shows active although they may not be."""
        if not 200 <= status < 300:
            return []
        try:
            data = json.loads(body).get("data")
        except (ValueError, AttributeError, UnicodeDecodeError, RecursionError):
            return []
        items = data if isinstance(data, list) else [data]
        return [
            item
            for item in items
            if isinstance(item, dict)
            and item.get("is_active") is True
            and isinstance(item.get("id"), str)
            and self.owns(item["id"])
            and item["id"] not in self.dormant
        ]

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
        self.token_errors: list[str] = []
        self._sleep = sleep
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._inflight = 0
        self._next_slot = 0.0
        rate = guard.ctx.options.rate_limit
        self._interval = 1.0 / rate if rate else 0.0
        self._added = frozenset(name.lower() for name, _ in guard.ctx.options.headers)

    # -- the request path --------------------------------------------------------------------

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for name, value in self.guard.ctx.options.headers:  # --header: on every request
            request.headers[name] = value
        raw = request.url.raw_path.decode("ascii")
        path, _, query = raw.partition("?")
        relative = path[len(self.base_path) :] if path.startswith(self.base_path) else path
        if not relative.startswith("/"):
            relative = "/" + relative
        body = request.read()
        dormant = bool(request.extensions.get(DORMANT_EXTENSION))
        decision = self.guard.vet(request.method, relative, body, dormant=dormant)
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
            request.method,
            decision.raw_path,
            response.status_code,
            response.content,
            dormant=decision.dormant,
        )
        recorded = self._record(request, decision, response, elapsed)
        for workflow in self.guard.active_own(response.status_code, response.content):
            self._deactivate(workflow, recorded.extensions[EXCHANGE_EXTENSION], request)
        return recorded

    # -- safety events ----------------------------------------------------------------------

    def _deactivate(self, workflow: dict[str, Any], shown: Exchange, like: httpx.Request) -> None:
        """A workflow of this run is active although the run never let it be: switch it off now.

        A PUT of what the answer shows with `is_active: false` first; if the deployment still
        answers it active, it is deleted. Both go straight to the target (the id is ours).
        """
        workflow_id = workflow["id"]
        with self._lock:
            if any(e.workflow_id == workflow_id for e in self.guard.safety_events):
                return  # already dealt with (an answer may show it twice)
            event = SafetyEvent(workflow_id, shown.index, "")
            self.guard.safety_events.append(event)
        fields = {
            k: workflow[k]
            for k in ("name", "description", "trigger_node", "nodes")
            if k in workflow
        }
        body = json.dumps({**fields, "is_active": False}).encode()
        item = self.base_path + "/" + "/".join(COLLECTION) + "/" + quote(workflow_id, safe="")
        action = "could not be switched off"
        for method, content in (("PUT", body), ("DELETE", b"")):
            headers = [
                (k, v) for k, v in like.headers.raw if k.lower() in (b"authorization", b"accept")
            ]
            if content:
                headers.append((b"content-type", b"application/json"))
            request = httpx.Request(
                method,
                like.url.copy_with(raw_path=item.encode("ascii")),
                headers=headers,
                content=content,
                extensions={PHASE_EXTENSION: "safety"},
            )
            try:
                response, elapsed = self._send(request)
            except httpx.TransportError:
                continue
            decision = Decision(item[len(self.base_path) :], content, ("safety: switch it off",))
            self._record(request, decision, response, elapsed)
            if method == "PUT" and 200 <= response.status_code < 300:
                if not self.guard.active_own(response.status_code, response.content):
                    action = "switched off at once (PUT with is_active false)"
                    break
            elif method == "DELETE" and 200 <= response.status_code < 300:
                action = "deleted at once (a PUT could not switch it off)"
                break
        event.action = action

    def _send(self, request: httpx.Request) -> tuple[httpx.Response, float]:
        """Send `request` with the run's current token in place of the placeholder; wait out a
        429; after a 401 for the run's token, get a new one (`--token-command`) and try once
        more (a 401 means nothing was done, so sending again is safe)."""
        limit = self.guard.ctx.options.max_retry_after
        renewed = False
        for attempt in range(MAX_429_RETRIES + 2):
            self._throttle()
            wire, used = self._with_token(request)
            started = time.monotonic()
            response = self.inner.handle_request(wire)
            response.read()
            elapsed = time.monotonic() - started
            if response.status_code == 401 and used and not renewed and self._renew(used):
                renewed = True
                response.close()
                continue
            if response.status_code != 429 or attempt >= MAX_429_RETRIES:
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

    def _renew(self, used: str) -> bool:
        """A new token after a 401; a failing token command is a run error, not a crash."""
        try:
            return self.guard.ctx.tokens.refresh(used)
        except TokenError as exc:
            with self._lock:
                self.token_errors.append(str(exc))
            return False

    def _with_token(self, request: httpx.Request) -> tuple[httpx.Request, str]:
        """The request as it goes on the wire, and the token it carries ("" if not the run's)."""
        if request.headers.get("authorization") != BEARER_PLACEHOLDER:
            return request, ""
        token = self.guard.ctx.tokens.current()
        headers = [
            (k, f"Bearer {token}".encode() if k.lower() == b"authorization" else v)
            for k, v in request.headers.raw
        ]
        wire = httpx.Request(
            request.method,
            request.url,
            headers=headers,
            content=request.content,
            extensions=request.extensions,
        )
        return wire, token

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
            (k, ctx.redact(shown(k, v) if k.lower() in self._added else v))
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

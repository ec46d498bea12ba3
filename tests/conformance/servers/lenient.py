"""A test-only Lenz server on the lenient side of every point the docs leave open, all at once.

The conformance suite's `docs` profile must pass any deployment that does what the Lenz docs
say, however it settles what they leave open. This server settles every open point the lenient
way, as a Go backend (echo, encoding/json into structs, echo-jwt) with default settings would:
create answers 200, `is_active` defaults to false, PUT merges, unknown ids answer 400, execute
answers a run still in progress, logs are oldest first, `total_page` is 1 when empty, timestamps
are RFC 3339 with +07:00 and nanoseconds, every answer carries extra fields, auth refusals are
echo-jwt's bare `{"message": ...}`, and a wrong method is a 404. If the docs profile fails here,
the suite demands something the docs do not.

It is an independent implementation: it imports neither `lenz_contract` nor the strict test
server (`lenz.py`), so a shared misreading cannot hide in both.
"""

from __future__ import annotations

import copy
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

JSON = dict[str, Any]
DEFAULT_TOKENS: Mapping[str, str] = MappingProxyType({"good-token": "user-qa"})
MEDIA_TYPE = "application/json; charset=UTF-8"  # echo's MIMEApplicationJSON (charset=UTF-8)
MAX_BODY = 1 << 20  # echo's middleware.BodyLimit("1M")
MAX_DEPTH = 512  # nesting a body may have (Go allows 10000; Python's stack would not)
RUN_NS = 300_000_000  # how long a run takes: 0.3 s of real time
JAKARTA = timezone(timedelta(hours=7), "WIB")  # Asia/Jakarta has had no DST since 1964
INT64_MAX = (1 << 63) - 1
_ATOI = re.compile(r"([+-]?)0*([0-9]+)")  # what strconv.Atoi accepts
_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)")
_SURROGATE = re.compile("[\ud800-\udfff]")
# encoding/json escapes these even inside strings (HTML safety, JavaScript line separators)
_GO_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


@dataclass
class RecordedRequest:
    """One request as the server received it (tests count, e.g., writes to seeded workflows)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any  # the parsed JSON body; None when absent or malformed
    authorization: bool  # an Authorization header was sent
    status: int | None = None  # the status answered


@dataclass(frozen=True)
class Call:
    """What a handler needs from a request: the path id, the query, the raw body, the user."""

    id: str
    query: QueryParams
    raw: bytes
    user: str


@dataclass
class Plan:
    """A run still in progress: what it will look like is fixed when it starts."""

    run: JSON  # the stored run, updated in place when it finishes
    started: int  # ns since the epoch
    nodes: list[Any]  # the workflow's nodes when it started (a later PUT does not change them)


class Answer(Exception):
    """Stop handling and answer this (echo's HTTPError, or a handler's error envelope)."""

    def __init__(self, status: int, payload: JSON, headers: Mapping[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.payload = payload
        self.headers = dict(headers or {})


def invalid() -> Answer:
    """The handlers' one answer to a body that does not bind (c.Bind failed)."""
    return Answer(400, {"ok": False, "message": "invalid request"})


# -- time ---------------------------------------------------------------------------------------


class Clock:
    """Real time in ns, nudged forward so no two stamps are equal or go back (a clock may)."""

    def __init__(self) -> None:
        self._last = 0

    def now(self) -> int:
        self._last = max(time.time_ns(), self._last + 1)
        return self._last


def stamp(ns: int) -> str:
    """`ns` as Go's time.RFC3339Nano in Asia/Jakarta: trailing zeros of the fraction dropped."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    text = datetime.fromtimestamp(seconds, JAKARTA).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{fraction:09d}".rstrip("0")
    return f"{text}.{digits}+07:00" if digits else f"{text}+07:00"


def instant(value: Any) -> int:
    """A stored stamp as ns since the epoch, for ordering (fractions differ in width, so text
    order is not time order); -1 for anything that is not an RFC 3339 stamp (seeds may hold it).
    """
    found = _STAMP.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        return -1
    whole, fraction, offset = found.groups()
    try:
        base = datetime.fromisoformat(whole + ("+00:00" if offset in "Zz" else offset))
    except ValueError:
        return -1
    return int(base.timestamp()) * 1_000_000_000 + int((fraction or "0")[:9].ljust(9, "0"))


# -- JSON in and out, as encoding/json does it --------------------------------------------------


def _finite(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError("out of float64 range")  # Go: "cannot unmarshal number … into float64"
    return number


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _clean(value: Any, depth: int = 0) -> Any:
    """Lone surrogates become U+FFFD as in Go (they cannot be encoded back to UTF-8 otherwise)."""
    if depth > MAX_DEPTH:
        raise ValueError("nested too deeply")
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_clean(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {_clean(key, depth): _clean(item, depth + 1) for key, item in value.items()}
    return value


def parse(raw: bytes) -> Any:
    """The JSON value of a body; invalid UTF-8 is replaced (Go does), big integers stay exact."""
    text = raw.decode("utf-8", "replace")
    try:
        value = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
        return _clean(value)
    except (ValueError, RecursionError):  # JSONDecodeError and int-digit limits are ValueErrors
        raise invalid() from None


def parsed_or_none(raw: bytes) -> Any:
    """For the request log: the body, or None when it is absent or not JSON."""
    try:
        return parse(raw) if raw else None
    except Answer:
        return None


def go_json(payload: Any) -> bytes:
    """Encode as echo's c.JSON does: compact, HTML characters escaped, a trailing newline."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.translate(_GO_ESCAPES) + "\n").encode()


# -- binding a body into the Go structs ---------------------------------------------------------

Decoder = Callable[[Any], Any]


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid()
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise invalid()
    return value


def _go_map(value: Any) -> Any:
    """A free map as Go's map[string]any re-encodes it: the same values, keys sorted."""
    if isinstance(value, dict):
        return {key: _go_map(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_go_map(item) for item in value]
    return value


def _config(value: Any) -> JSON:
    if not isinstance(value, dict):
        raise invalid()
    config: JSON = _go_map(value)
    return config


def _present(value: Any, fields: Mapping[str, Decoder]) -> JSON:
    """The struct fields an object sets, as encoding/json binds it.

    Keys match field names case-insensitively; unknown keys and `null` values set nothing (a
    Go field keeps its zero value), and a later key overrides an earlier one.
    """
    if not isinstance(value, dict):
        raise invalid()
    found: JSON = {}
    for key, item in value.items():
        name = next((field for field in fields if field.casefold() == key.casefold()), None)
        if name is not None and item is not None:
            found[name] = fields[name](item)
    return found


def _struct(value: Any, fields: Mapping[str, Decoder], zero: JSON) -> JSON:
    return {**copy.deepcopy(zero), **_present(value, fields)}


TRIGGER_FIELDS: Mapping[str, Decoder] = {"type": _string, "config": _config}
TRIGGER_ZERO: JSON = {"type": "", "config": None}
NODE_FIELDS: Mapping[str, Decoder] = {
    "id": _string,
    "type": _string,
    "name": _string,
    "config": _config,
}
NODE_ZERO: JSON = {"id": "", "type": "", "name": "", "config": None}


def _trigger(value: Any) -> JSON:
    return _struct(value, TRIGGER_FIELDS, TRIGGER_ZERO)


def _nodes(value: Any) -> list[JSON]:
    if not isinstance(value, list):
        raise invalid()
    return [
        copy.deepcopy(NODE_ZERO) if item is None else _struct(item, NODE_FIELDS, NODE_ZERO)
        for item in value
    ]


WORKFLOW_FIELDS: Mapping[str, Decoder] = {
    "name": _string,
    "description": _string,
    "is_active": _boolean,
    "trigger_node": _trigger,
    "nodes": _nodes,
}
# Go's zero values: `is_active` is a plain bool, so leaving it out means false.
WORKFLOW_ZERO: JSON = {
    "name": "",
    "description": None,
    "is_active": False,
    "trigger_node": TRIGGER_ZERO,
    "nodes": [],
}


def bind_workflow(raw: bytes) -> JSON:
    """The fields a create or update body sets; the 400 envelope when it does not bind."""
    return _present(parse(raw), WORKFLOW_FIELDS)


# -- query parameters ---------------------------------------------------------------------------


def first(query: QueryParams, name: str) -> str | None:
    """The first value, as Go's url.Values.Get (Starlette's `get` gives the last)."""
    values = query.getlist(name)
    return values[0] if values else None


def positive(query: QueryParams, name: str, default: int) -> int:
    """A Go handler's `n, err := strconv.Atoi(q); if err != nil || n < 1 { n = default }`."""
    found = _ATOI.fullmatch(first(query, name) or "")
    if found is None or found.group(1) == "-" or len(found.group(2)) > 19:
        return default
    number = int(found.group(2))
    return number if 1 <= number <= INT64_MAX else default


def page_of(items: list[JSON], query: QueryParams) -> JSON:
    """One page: no cap on `limit`, and `total_page` 1 even when there is nothing."""
    page, limit = positive(query, "page", 1), positive(query, "limit", 10)
    start = (page - 1) * limit
    return {
        "ok": True,
        "message": "Success",
        "data": copy.deepcopy(items[start : start + limit]),
        "limit": limit,
        "current_page": page,
        "total_data": len(items),
        "total_page": max(1, -(-len(items) // limit)),
    }


# -- the server ---------------------------------------------------------------------------------


async def read_body(request: Request) -> tuple[bytes, bool]:
    """The body, and whether it was over 1 MiB (then it is read to the end but not kept)."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size <= MAX_BODY:
                chunks.append(chunk)
    except ClientDisconnect:
        pass
    return (b"", True) if size > MAX_BODY else (b"".join(chunks), False)


class LenientServer:
    """The state and the seven operations; an ASGI app that answers every path and method."""

    def __init__(
        self,
        tokens: Mapping[str, str],
        seed: list[JSON],
        rate_limit_every: int,
        retry_after: str,
    ) -> None:
        self.tokens = dict(tokens)
        self.rate_limit_every = rate_limit_every
        self.retry_after = retry_after
        self.clock = Clock()
        self.request_log: list[RecordedRequest] = []
        self.workflows: dict[str, JSON] = {}
        self.executions: dict[str, list[JSON]] = {}
        self.pending: dict[str, Plan] = {}
        self.bugs: list[str] = []  # exceptions answered as 400 instead of a 500 (tests check)
        self.messages_sent = 0  # the Telegram message ids
        for item in seed:
            self._seed(item)
        wf = r"/api/workflows/(?P<id>[^/]+)"
        self.routes: list[tuple[re.Pattern[str], dict[str, Callable[[Call], JSON]]]] = [
            (re.compile("/api/workflows"), {"GET": self.list_workflows, "POST": self.create}),
            (re.compile(wf), {"GET": self.get, "PUT": self.update, "DELETE": self.delete}),
            (re.compile(wf + "/execute"), {"POST": self.execute}),
            (re.compile(wf + "/logs"), {"GET": self.logs}),
        ]

    def _seed(self, item: Mapping[str, Any]) -> None:
        workflow = copy.deepcopy(dict(item))
        workflow.setdefault("id", str(uuid.uuid4()))
        workflow.setdefault("created_at", stamp(self.clock.now()))
        workflow.setdefault("updated_at", None)
        self.workflows[str(workflow["id"])] = workflow

    # -- HTTP plumbing ----------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # a websocket: echo would not upgrade it either
            await send({"type": "websocket.close", "code": 1000})
            return
        request = Request(scope, receive)
        raw, too_large = await read_body(request)
        record = RecordedRequest(
            request.method,
            scope["path"],
            dict(request.query_params),
            parsed_or_none(raw),
            "authorization" in request.headers,
        )
        self.request_log.append(record)
        response = self.answer(request, raw, too_large)
        record.status = response.status_code
        await response(scope, receive, send)

    def answer(self, request: Request, raw: bytes, too_large: bool) -> Response:
        """Every answer is JSON with a `request_id`; a bug answers 400, never a 500."""
        try:
            status, payload, headers = 200, self.handle(request, raw, too_large), {}
        except Answer as answer:
            status, payload, headers = answer.status, answer.payload, answer.headers
        except Exception as error:  # a bug must still answer JSON, and never a 5xx
            self.bugs.append(repr(error))
            status, payload, headers = 400, invalid().payload, {}
        payload = {**payload, "request_id": str(len(self.request_log))}
        try:
            body = go_json(payload)
        except (TypeError, ValueError, RecursionError) as error:  # e.g. a seed that is not JSON
            self.bugs.append(repr(error))
            status, body = 400, go_json({**invalid().payload, "request_id": payload["request_id"]})
        return Response(body, status, headers=headers, media_type=MEDIA_TYPE)

    def handle(self, request: Request, raw: bytes, too_large: bool) -> JSON:
        """echo's order: rate limiter, router, body limit, JWT, then the handler."""
        self.settle()
        every = self.rate_limit_every
        if every > 0 and len(self.request_log) % every == 0:
            retry = {"Retry-After": self.retry_after}
            raise Answer(429, {"message": "rate limit exceeded"}, retry)
        handler, workflow_id = self.route(request.method, request.scope["path"])
        if too_large:
            raise Answer(413, {"message": "Request Entity Too Large"})
        user = self.authenticate(request.headers.getlist("authorization"))
        return handler(Call(workflow_id, request.query_params, raw, user))

    def route(self, method: str, path: str) -> tuple[Callable[[Call], JSON], str]:
        """A handler, or echo's 404 (also for a method the path does not have: no 405)."""
        for pattern, handlers in self.routes:
            found = pattern.fullmatch(path)
            if found is not None and method in handlers:
                return handlers[method], found.groupdict().get("id") or ""
        raise Answer(404, {"message": "Not Found"})

    def authenticate(self, headers: list[str]) -> str:
        """echo-jwt: tokens from `Bearer <token>` headers (any case); 400 none, 401 unknown."""
        prefix = "bearer "
        tokens = [
            h[len(prefix) :] for h in headers if len(h) > len(prefix) and h[:7].lower() == prefix
        ]
        if not tokens:
            raise Answer(400, {"message": "missing or malformed jwt"})
        for token in tokens:
            if token in self.tokens:
                return self.tokens[token]
        raise Answer(401, {"message": "invalid or expired jwt"})

    # -- helpers of the operations ------------------------------------------------------------

    def find(self, workflow_id: str) -> JSON:
        found = self.workflows.get(workflow_id)
        if found is None:
            raise Answer(400, {"ok": False, "message": "workflow not found"})
        return found

    @staticmethod
    def render(workflow: JSON) -> JSON:
        """A stored workflow as answered: with `owner_id` ("" for a seed that has none)."""
        return {**copy.deepcopy(workflow), "owner_id": workflow.get("owner_id", "")}

    @staticmethod
    def ok(message: str, data: Any) -> JSON:
        return {"ok": True, "message": message, "data": data}

    # -- the seven operations -----------------------------------------------------------------

    def list_workflows(self, call: Call) -> JSON:
        needle = (first(call.query, "search") or "").casefold()
        found = [w for w in self.workflows.values() if needle in str(w.get("name")).casefold()]
        found.sort(key=lambda w: (instant(w.get("created_at")), str(w.get("id"))), reverse=True)
        page = page_of(found, call.query)
        page["data"] = [self.render(workflow) for workflow in page["data"]]
        return page

    def create(self, call: Call) -> JSON:
        fields = {**copy.deepcopy(WORKFLOW_ZERO), **bind_workflow(call.raw)}
        workflow = {"id": str(uuid.uuid4()), **fields}
        workflow |= {"created_at": stamp(self.clock.now()), "updated_at": None}
        workflow["owner_id"] = call.user
        self.workflows[workflow["id"]] = workflow
        return self.ok("Workflow created", self.render(workflow))

    def get(self, call: Call) -> JSON:
        return self.ok("Success", self.render(self.find(call.id)))

    def update(self, call: Call) -> JSON:
        fields = bind_workflow(call.raw)  # Bind first, then look up, as a Go handler does
        workflow = self.find(call.id)
        workflow |= fields
        workflow["updated_at"] = stamp(self.clock.now())
        return self.ok("Workflow updated", self.render(workflow))

    def delete(self, call: Call) -> JSON:
        self.find(call.id)
        del self.workflows[call.id]  # its runs stay: logs still answer them
        return {"ok": True, "message": "Workflow deleted"}

    def execute(self, call: Call) -> JSON:
        workflow = self.find(call.id)
        if workflow.get("is_active") is not True:
            raise Answer(400, {"ok": False, "message": "workflow is not active"})
        started = self.clock.now()
        run: JSON = {
            "id": str(uuid.uuid4()),
            "workflow_id": call.id,
            "trigger_type": "manual",
            "status": "running",
            "started_at": stamp(started),
            "finished_at": None,
            "node_results": [],
            "error": None,
            "triggered_by": call.user,
            "duration_ms": None,
        }
        nodes = workflow.get("nodes")
        plan = Plan(run, started, copy.deepcopy(nodes) if isinstance(nodes, list) else [])
        self.pending[run["id"]] = plan
        self.executions.setdefault(call.id, []).append(run)
        return self.ok("Workflow execution started", copy.deepcopy(run))

    def logs(self, call: Call) -> JSON:
        """Oldest first; an unknown id is an empty page (the query filters, nothing looks up)."""
        runs = sorted(
            self.executions.get(call.id, []),
            key=lambda run: (instant(run.get("started_at")), str(run.get("id"))),
        )
        return page_of(runs, call.query)

    # -- runs finishing in the background -------------------------------------------------------

    def settle(self) -> None:
        """Finish every run whose 0.3 s have passed: computed when read, so no threads."""
        now = time.time_ns()
        for run_id, plan in list(self.pending.items()):
            if now >= plan.started + RUN_NS:
                del self.pending[run_id]
                plan.run |= self.finished(plan)

    def finished(self, plan: Plan) -> JSON:
        """The nodes ran one after another inside the run's 0.3 s, each at distinct instants."""
        slots = 2 * len(plan.nodes) + 1
        ticks = [plan.started + k * RUN_NS // slots for k in range(slots + 1)]
        results = [
            self.node_result(node, ticks[2 * i + 1], ticks[2 * i + 2])
            for i, node in enumerate(plan.nodes)
        ]
        return {
            "status": "success",
            "finished_at": stamp(ticks[-1]),
            "node_results": results,
            "duration_ms": RUN_NS // 1_000_000,
        }

    def node_result(self, node: Any, started: int, finished: int) -> JSON:
        fields = node if isinstance(node, dict) else {}
        return {
            "node_id": fields.get("id", ""),
            "node_type": fields.get("type", ""),
            "node_name": fields.get("name", ""),
            "status": "success",
            "started_at": stamp(started),
            "finished_at": stamp(finished),
            "output": self.output(fields, started),
            "error": None,
        }

    def output(self, node: JSON, started: int) -> JSON:
        if node.get("type") == "event_history_export":
            return {"file_url": f"/exports/{node.get('id', '')}.csv", "date": stamp(started)[:10]}
        if node.get("type") == "telegram_send_attachment":
            self.messages_sent += 1
            return {"message_id": self.messages_sent}
        return {}


def make_lenient_app(
    *,
    tokens: Mapping[str, str] = DEFAULT_TOKENS,
    seed: list[JSON] | None = None,
    rate_limit_every: int = 0,
    retry_after: str = "0",
) -> Starlette:
    """A Lenz server on the lenient side of every open point (see the module docstring).

    `tokens` maps a bearer token to its user id (`owner_id`, `triggered_by`); `seed` holds
    workflows present from the start, stored as given; every `rate_limit_every`-th request
    answers 429 with `Retry-After: <retry_after>`. `app.state` holds `server`, `workflows`,
    `executions` and `request_log`.
    """
    server = LenientServer(tokens, seed or [], rate_limit_every, retry_after)
    app = Starlette()
    # No Starlette routes: every path and method (even one a route pattern could not match, such
    # as an encoded newline) reaches the server, which routes like echo.
    app.router.default = server
    app.state.server = server
    app.state.workflows = server.workflows
    app.state.executions = server.executions
    app.state.request_log = server.request_log
    return app

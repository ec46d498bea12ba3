"""A small, correct, in-memory Lenz Workflows server that can be broken one rule at a time.

It follows the docs and the *strict* column of CONTRACT-DECISIONS.md, and validates request
bodies with the contract's own compiled validators, so it refuses exactly what the spec
refuses. Every break in `BREAKS` is one named `self.broken("...")` conditional below, so a
reader sees each deviation in one place. It is written straight on Starlette and does not
import `lenz_contract.mock`, so the conformance suite is tested against an independent server.
"""

from __future__ import annotations

import asyncio
import copy
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from types import MappingProxyType
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from lenz_contract.spec import FieldError, Spec

from .breaks import BREAKS

JSON = dict[str, Any]
INVALID = "invalid request"
LIMIT_CAP = 100
MAX_BODY = 1 << 20
DEFAULT_TOKENS: Mapping[str, str] = MappingProxyType({"good-token": "user-qa"})
ANONYMOUS = "user-anonymous"


@cache
def contract() -> Spec:
    return Spec.load()


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


class Refusal(Exception):
    """Stop handling and answer `response` (an error)."""

    def __init__(self, response: Response) -> None:
        self.response = response


class Clock:
    """A fake clock that moves one second at every reading: timestamps strictly increase."""

    def __init__(self, start: datetime = datetime(2025, 6, 1, tzinfo=UTC)) -> None:
        self._now = start

    def now(self) -> str:
        self._now += timedelta(seconds=1)
        return self._now.strftime("%Y-%m-%dT%H:%M:%SZ")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None


class LenzServer:
    """The state and the seven operations; an ASGI app (mounted on every path and method)."""

    def __init__(self, breaks: Iterable[str], tokens: Mapping[str, str], seed: list[JSON]) -> None:
        self.breaks = frozenset(breaks)
        if unknown := self.breaks - BREAKS.keys():
            raise ValueError(f"unknown breaks: {sorted(unknown)}")
        self.tokens = dict(tokens)
        self.clock = Clock()
        self.request_log: list[RecordedRequest] = []
        self.workflows: dict[str, JSON] = {}
        self.executions: dict[str, list[JSON]] = {}
        self.hidden: set[str] = set()  # deleted, but still listed (`deleted_still_listed`)
        self.counter = 0
        for item in seed:
            self._seed(item)
        wf, run, logs = r"^/api/workflows/(?P<id>[^/]+)", "/execute$", "/logs$"
        self.routes: list[tuple[re.Pattern[str], dict[str, Callable[[Call], tuple[int, JSON]]]]] = [
            (re.compile(r"^/api/workflows$"), {"GET": self.list_workflows, "POST": self.create}),
            (re.compile(wf + "$"), {"GET": self.get, "PUT": self.update, "DELETE": self.delete}),
            (re.compile(wf + run), {"POST": self.execute}),
            (re.compile(wf + logs), {"GET": self.logs}),
        ]

    def broken(self, name: str) -> bool:
        if name not in BREAKS:
            raise KeyError(name)
        return name in self.breaks

    # -- HTTP plumbing ------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        raw = await request.body()
        record = RecordedRequest(
            request.method,
            scope["path"],
            dict(request.query_params),
            _json_or_none(raw),
            "authorization" in request.headers,
        )
        self.request_log.append(record)
        if self.broken("slow"):
            await asyncio.sleep(0.02)
        try:
            response = self.answer(request, raw)
        except Refusal as refusal:
            response = refusal.response
        record.status = response.status_code
        await response(scope, receive, send)

    def answer(self, request: Request, raw: bytes) -> Response:
        if self.broken("rate_limited") and len(self.request_log) % 7 == 0:
            return self.error(429, message="too many requests", headers={"Retry-After": "1"})
        handler, params = self.route(request.method, request.scope["path"])
        user = self.authenticate(request.headers.get("authorization"))
        status, payload = handler(Call(params.get("id", ""), request.query_params, raw, user))
        return self.respond(status, payload)

    def route(self, method: str, path: str) -> tuple[Callable[[Call], tuple[int, JSON]], JSON]:
        for pattern, handlers in self.routes:
            if (found := pattern.match(path)) is None:
                continue
            if method not in handlers:
                why = FieldError("method", f"{method} is not allowed on {path}")
                allow = {"Allow": ", ".join(handlers)}
                raise Refusal(self.error(405, [why], message="method not allowed", headers=allow))
            return handlers[method], found.groupdict()
        raise Refusal(self.error(404, [FieldError("path", f"no endpoint at {path}")]))

    def authenticate(self, header: str | None) -> str:
        scheme, _, token = (header or "").partition(" ")
        user = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if user is not None:
            return user
        if self.broken("auth_ignored"):
            return ANONYMOUS
        why = FieldError("header.Authorization", "a known bearer token is required")
        raise Refusal(self.error(401, [why]))

    def respond(
        self, status: int, payload: JSON, headers: dict[str, str] | None = None
    ) -> Response:
        if self.broken("extra_fields"):
            payload = {**payload, "request_id": f"req-{len(self.request_log):04d}"}
        media = "application/json"
        if self.broken("wrong_content_type") and status < 300:
            media = "text/plain"
        text = json.dumps(payload, ensure_ascii=False)
        return Response(text, status, headers=headers, media_type=media)

    def error(
        self,
        status: int,
        errors: Iterable[FieldError] = (),
        *,
        message: str = INVALID,
        headers: dict[str, str] | None = None,
    ) -> Response:
        payload: JSON = {"ok": False, "message": message}
        if details := [e.as_dict() for e in errors]:
            payload["errors"] = details
        return self.respond(status, payload, headers)

    # -- inputs ---------------------------------------------------------------------------------

    def body(self, call: Call, operation_id: str) -> JSON:
        """The request body, valid against the contract, or a refusal."""
        if len(call.raw) > MAX_BODY:
            raise Refusal(self.error(413, [FieldError("body", "larger than 1 MiB")]))
        try:
            body = json.loads(call.raw, parse_constant=_reject_constant)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            if self.broken("server_error_on_bad_json"):
                plain = Response("Internal Server Error", 500, media_type="text/plain")
                raise Refusal(plain) from None
            raise Refusal(self.error(400, [FieldError("body", "not valid JSON")])) from None
        pointer = contract().operation(operation_id).request_body_pointer
        assert pointer is not None
        errors = [e for e in contract().validator(pointer).errors(body) if not self.tolerated(e)]
        if errors:
            raise Refusal(self.error(400, errors))
        return dict(body)

    def tolerated(self, error: FieldError) -> bool:
        if self.broken("bad_input_accepted") and error.path == "body" and '"name"' in error.reason:
            return True
        return self.broken("cron_not_validated") and error.path.startswith(
            "body.trigger_node.config.cron"
        )

    def page_and_limit(self, query: QueryParams) -> tuple[int, int]:
        page = self.positive(query, "page", 1)
        return page, min(self.positive(query, "limit", 10), LIMIT_CAP)

    def positive(self, query: QueryParams, name: str, default: int) -> int:
        raw = query.get(name)
        if raw is None:
            return default
        if re.fullmatch(r"[0-9]+", raw) and int(raw) >= 1:
            return int(raw)
        why = FieldError(f"query.{name}", f"{raw!r} is not an integer ≥ 1")
        raise Refusal(self.error(400, [why]))

    def find(self, workflow_id: str) -> JSON:
        found = self.workflows.get(workflow_id)
        if found is not None and workflow_id not in self.hidden:
            return found
        status = 404
        if self.broken("unknown_id_500"):
            status = 500
        if self.broken("unknown_id_400"):
            status = 400
        why = FieldError("path.id", f"no workflow has the id {workflow_id!r}")
        raise Refusal(self.error(status, [why]))

    # -- outputs --------------------------------------------------------------------------------

    def paginate(self, items: list[JSON], page: int, limit: int) -> JSON:
        total = len(items)
        size = 10 if self.broken("limit_ignored") else limit
        start = 0 if self.broken("page_ignored") else (page - 1) * size
        total_page = math.ceil(total / limit)
        if self.broken("total_page_rounded_down"):
            total_page = total // limit
        if self.broken("empty_total_page_one") and total == 0:
            total_page = 1
        return {
            "ok": True,
            "message": "success",
            "data": items[start : start + size],
            "limit": limit,
            "current_page": 1 if self.broken("current_page_wrong") else page,
            "total_data": total,
            "total_page": total_page,
        }

    def render(self, workflow: JSON) -> JSON:
        out = copy.deepcopy(workflow)
        if self.broken("wrong_shape"):
            del out["created_at"]
        if self.broken("config_not_round_tripped"):
            for node in out["nodes"]:
                node["config"] = dict(list(node.get("config", {}).items())[:1])
        if self.broken("extra_fields"):
            out["owner"] = "user-owner"
        return out

    def new_id(self, prefix: str) -> str:
        self.counter += 1
        while f"{prefix}-{self.counter:04d}" in self.workflows:  # a seeded id
            self.counter += 1
        return f"{prefix}-{self.counter:04d}"

    def _seed(self, item: Mapping[str, Any]) -> None:
        workflow: JSON = {"description": None, "is_active": True, "nodes": [], "updated_at": None}
        workflow |= copy.deepcopy(dict(item))
        workflow.setdefault("id", self.new_id("wf"))
        workflow.setdefault("created_at", self.clock.now())
        self.workflows[workflow["id"]] = workflow

    # -- the seven operations ----------------------------------------------------------------

    def list_workflows(self, call: Call) -> tuple[int, JSON]:
        page, limit = self.page_and_limit(call.query)
        needle = call.query.get("search", "")
        ordered = sorted(self.workflows.values(), key=lambda w: (w["created_at"], w["id"]))
        found = [self.render(w) for w in ordered if self.matches(w["name"], needle)]
        return 200, self.paginate(found, page, limit)

    def matches(self, name: str, needle: str) -> bool:
        if not needle:
            return True
        if self.broken("search_case_sensitive"):
            return needle in name
        if self.broken("search_exact"):
            return needle.lower() == name.lower()
        return needle.lower() in name.lower()

    def create(self, call: Call) -> tuple[int, JSON]:
        fields = self.fields(self.body(call, "createWorkflow"))
        workflow = {"id": self.new_id("wf"), **fields}
        workflow |= {"created_at": self.clock.now(), "updated_at": None}
        self.workflows[workflow["id"]] = workflow
        status = 200 if self.broken("create_answers_200") else 201
        return status, self.ok("workflow created successfully", self.render(workflow))

    def get(self, call: Call) -> tuple[int, JSON]:
        return 200, self.ok("success", self.render(self.find(call.id)))

    def update(self, call: Call) -> tuple[int, JSON]:
        old = self.find(call.id)
        fields = self.fields(self.body(call, "updateWorkflow"))
        now = self.clock.now()
        new = {"id": old["id"], **fields, "created_at": old["created_at"], "updated_at": now}
        if self.broken("updated_at_not_moved"):
            new["updated_at"] = old["updated_at"]
        if self.broken("created_at_changes"):
            new["created_at"] = now
        if not self.broken("update_not_persisted"):
            self.workflows[old["id"]] = new
        return 200, self.ok("workflow updated successfully", self.render(new))

    def delete(self, call: Call) -> tuple[int, JSON]:
        workflow_id = self.find(call.id)["id"]
        if self.broken("deleted_still_listed"):
            self.hidden.add(workflow_id)
        elif not self.broken("delete_not_deleting"):
            del self.workflows[workflow_id]
        return 200, {"ok": True, "message": "workflow deleted successfully"}

    def execute(self, call: Call) -> tuple[int, JSON]:
        workflow = self.find(call.id)
        started = self.clock.now()
        results = [self.run_node(node) for node in workflow["nodes"]]
        if self.broken("node_results_out_of_order"):
            results.reverse()
        run: JSON = {
            "id": self.new_id("exec"),
            "workflow_id": workflow["id"],
            "trigger_type": "manual",
            "status": "success",
            "started_at": started,
            "finished_at": self.clock.now(),
            "node_results": results,
            "error": None,
            "triggered_by": call.user,
        }
        if self.broken("execute_not_finished"):
            run |= {"status": "running", "finished_at": None}
        if not self.broken("execution_missing_from_logs"):
            self.executions.setdefault(workflow["id"], []).append(run)
        return 200, self.ok("workflow executed successfully", copy.deepcopy(run))

    def logs(self, call: Call) -> tuple[int, JSON]:
        workflow = self.find(call.id)
        page, limit = self.page_and_limit(call.query)
        runs = sorted(
            self.executions.get(workflow["id"], []),
            key=lambda run: (run["started_at"], run["id"]),
            reverse=not self.broken("logs_oldest_first"),
        )
        return 200, self.paginate(copy.deepcopy(runs), page, limit)

    # -- helpers of the operations -----------------------------------------------------------

    @staticmethod
    def ok(message: str, data: JSON) -> JSON:
        return {"ok": True, "message": message, "data": data}

    @staticmethod
    def fields(body: JSON) -> JSON:
        """The stored fields of a create or full-replacement body, exactly as sent."""
        return copy.deepcopy(
            {
                "name": body.get("name", ""),  # only missing under `bad_input_accepted`
                "description": body.get("description"),
                "is_active": body.get("is_active", True),
                "trigger_node": body["trigger_node"],
                "nodes": body["nodes"],
            }
        )

    def run_node(self, node: JSON) -> JSON:
        started = self.clock.now()
        config = node.get("config") or {}
        output: JSON = {"ok": True}
        if node["type"] == "event_history_export":
            suffix = config.get("format", "csv")
            output = {"file_url": f"/exports/{node['id']}.{suffix}", "date": started[:10]}
        elif node["type"] == "telegram_send_attachment":
            output = {"message_id": self.counter}
        return {
            "node_id": node["id"],
            "node_type": node["type"],
            "node_name": node.get("name", ""),
            "status": "success",
            "started_at": started,
            "finished_at": self.clock.now(),
            "output": output,
            "error": None,
        }


async def _not_found(request: Request, exc: Exception) -> Response:
    body = json.dumps({"ok": False, "message": "invalid request"}).encode()
    return Response(body, status_code=404, media_type="application/json")


def make_app(
    *,
    breaks: Iterable[str] = (),
    tokens: Mapping[str, str] = DEFAULT_TOKENS,
    seed: list[JSON] | None = None,
) -> Starlette:
    """A Lenz server; each name in `breaks` (see `BREAKS`) breaks exactly one rule.

    `tokens` maps a bearer token to its user id (`triggered_by`); `seed` holds workflows present
    from the start (foreign data a conformance run must not change). `app.state.request_log`
    records every request; `app.state.workflows` and `app.state.executions` hold the data.
    """
    server = LenzServer(breaks, tokens, seed or [])
    # The catch-all route cannot match a path with an encoded newline (`/api/workflows/a%0Ab`);
    # such a path names no workflow either, so it gets the JSON 404 every unknown id gets.
    app = Starlette(routes=[Route("/{path:path}", server)], exception_handlers={404: _not_found})
    app.state.server = server
    app.state.request_log = server.request_log
    app.state.workflows = server.workflows
    app.state.executions = server.executions
    return app

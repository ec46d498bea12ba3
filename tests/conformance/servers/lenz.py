"""A small, correct, in-memory Lenz Workflows server that can be varied one behaviour at a time.

It follows the docs and the *strict* column of docs/contract-decisions.md, and validates request
bodies with the contract's own compiled validators, so it refuses exactly what the spec
refuses. Every variation in `BREAKS` (a break of a rule, or a legitimate choice the docs leave
open) is one named `self.broken("...")` conditional below, so a reader sees each deviation in
one place. It is written straight on Starlette and does not import `lenz_contract.mock`, so the
conformance suite is tested against an independent server.
"""

from __future__ import annotations

import asyncio
import copy
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
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
NAME_REQUIRED = '"name" is a required property'  # the only error `bad_input_accepted` tolerates
LIMIT_CAP = 100
DEFAULTS: Mapping[str, int] = MappingProxyType({"page": 1, "limit": 10})
STORED = ("name", "description", "is_active", "trigger_node", "nodes")  # a body's stored fields
WIB = timezone(timedelta(hours=7))  # Western Indonesian Time, where Lenz deployments run
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
    """A fake clock that moves one step at every reading: timestamps strictly increase.

    With a `zone`, it writes that offset and milliseconds instead of `Z` (`timestamps_offset`).
    """

    def __init__(
        self,
        start: datetime = datetime(2025, 6, 1, tzinfo=UTC),
        step: timedelta = timedelta(seconds=1),
        zone: tzinfo | None = None,
    ) -> None:
        self._now = start
        self._step = step
        self._zone = zone

    def now(self) -> str:
        self._now += self._step
        if self._zone is not None:
            return self._now.astimezone(self._zone).isoformat(timespec="milliseconds")
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
        if self.broken("timestamps_offset"):  # a 1.25 s step, so that the milliseconds vary
            self.clock = Clock(step=timedelta(milliseconds=1250), zone=WIB)
        self.request_log: list[RecordedRequest] = []
        self.workflows: dict[str, JSON] = {}
        self.executions: dict[str, list[JSON]] = {}
        self.hidden: set[str] = set()  # deleted, but still listed (`deleted_still_listed`)
        # `execute_async`: run id → (the finished run, logs reads that showed it running)
        self.finishing: dict[str, tuple[JSON, int]] = {}
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
                if self.broken("wrong_method_404"):
                    raise Refusal(self.error(404, [why]))
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
        bearer = scheme.lower() == "bearer" and token.strip() != ""
        if self.broken("auth_missing_400") and not bearer:  # as Go's echo-jwt middleware
            raise Refusal(self.respond(400, {"message": "missing or malformed jwt"}))
        if self.broken("auth_bare") or self.broken("auth_missing_400"):
            raise Refusal(self.respond(401, {"message": "invalid or expired jwt"}))
        why = FieldError("header.Authorization", "a known bearer token is required")
        raise Refusal(self.error(403 if self.broken("auth_403") else 401, [why]))

    def respond(
        self, status: int, payload: JSON, headers: dict[str, str] | None = None
    ) -> Response:
        if self.broken("extra_fields"):
            payload = {**payload, "request_id": f"req-{len(self.request_log):04d}"}
        if self.broken("messages_changed") and payload.get("ok") is True:
            payload = {**payload, "message": "OK"}
        media = "application/json"
        if self.broken("json_charset"):
            media = "application/json; charset=utf-8"
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
        if self.broken("loose_validation"):
            loose, errors = _loose_body(body)
            errors = [e for e in errors if not self.tolerated(e, operation_id)]
            if errors:
                raise Refusal(self.error(400, errors))
            if self.broken("wrong_type_accepted") and isinstance(body, dict) and "name" in body:
                loose["name"] = body["name"]  # kept as sent; `fields` stores it as a string
            return loose
        pointer = contract().operation(operation_id).request_body_pointer
        assert pointer is not None
        errors = [
            e
            for e in contract().validator(pointer).errors(body)
            if not self.tolerated(e, operation_id)
        ]
        if errors:
            raise Refusal(self.error(400, errors))
        return dict(body)

    def tolerated(self, error: FieldError, operation_id: str) -> bool:
        where, why = error.path, error.reason
        if self.broken("bad_input_accepted") and where == "body" and why == NAME_REQUIRED:
            return True
        if self.broken("wrong_type_accepted") and where == "body.name":
            return "not of type" in why or "is not a string" in why
        if self.broken("put_merge") and operation_id == "updateWorkflow" and where == "body":
            return why.endswith("is a required property")  # a merge needs no field
        return self.broken("cron_not_validated") and where.startswith(
            "body.trigger_node.config.cron"
        )

    def page_and_limit(self, query: QueryParams) -> tuple[int, int]:
        page, limit = self.positive(query, "page"), self.positive(query, "limit")
        if self.broken("limit_uncapped"):
            return page, limit
        return page, min(limit, 50 if self.broken("limit_cap_50") else LIMIT_CAP)

    def positive(self, query: QueryParams, name: str) -> int:
        raw = query.get(name)
        if raw is None:
            return DEFAULTS[name]
        if re.fullmatch(r"[0-9]+", raw) and int(raw) >= 1:
            return int(raw)
        if self.broken("query_fallback"):
            return DEFAULTS[name]
        why = FieldError(f"query.{name}", f"{raw!r} is not an integer ≥ 1")
        raise Refusal(self.error(400, [why]))

    def known(self, workflow_id: str) -> bool:
        return workflow_id in self.workflows and workflow_id not in self.hidden

    def find(self, workflow_id: str) -> JSON:
        if self.known(workflow_id):
            return self.workflows[workflow_id]
        status = 404
        if self.broken("unknown_id_500"):
            status = 500
        if self.broken("unknown_id_400"):
            status = 400
        why = FieldError("path.id", f"no workflow has the id {workflow_id!r}")
        raise Refusal(self.error(status, [why]))

    # -- outputs --------------------------------------------------------------------------------

    def paginate(self, items: list[JSON], page: int, limit: int, *, logs: bool = False) -> JSON:
        total = len(items)
        size = 10 if self.broken("limit_ignored") else limit
        first_only = self.broken("page_ignored") or (logs and self.broken("logs_page_ignored"))
        start = 0 if first_only else (page - 1) * size
        total_page = math.ceil(total / limit)
        if self.broken("total_page_rounded_down") or (
            logs and self.broken("logs_total_page_rounded_down")
        ):
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
        ordered = sorted(
            self.workflows.values(),
            key=lambda w: (w["created_at"], w["id"]),
            reverse=self.broken("list_newest_first"),
        )
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
        if self.broken("created_active"):
            fields["is_active"] = True
        workflow = {"id": self.new_id("wf"), **fields}
        workflow |= {"created_at": self.clock.now(), "updated_at": None}
        self.workflows[workflow["id"]] = workflow
        status = 200 if self.broken("create_answers_200") else 201
        return status, self.ok("workflow created successfully", self.render(workflow))

    def get(self, call: Call) -> tuple[int, JSON]:
        return 200, self.ok("success", self.render(self.find(call.id)))

    def update(self, call: Call) -> tuple[int, JSON]:
        old = self.find(call.id)
        body = self.body(call, "updateWorkflow")
        if self.broken("put_merge"):
            body = {k: v for k, v in old.items() if k in STORED} | body
        # the decision: a full replacement, but `is_active` left out keeps its value
        body = {"is_active": old.get("is_active", True)} | body
        fields = self.fields(body)
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
        if self.broken("execute_refuses_inactive") and not workflow.get("is_active", True):
            why = FieldError("path.id", f"the workflow {workflow['id']!r} is inactive")
            raise Refusal(self.error(400, [why], message="workflow is inactive"))
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
        if self.broken("manual_run_as_schedule"):
            run |= {"trigger_type": "schedule", "triggered_by": "scheduler"}
        if self.broken("execute_not_finished"):
            run |= {"status": "running", "finished_at": None}
        if self.broken("execute_async"):  # finishes once a logs read has seen it running
            self.finishing[run["id"]] = (copy.deepcopy(run), 0)
            run |= {"status": "running", "finished_at": None, "node_results": []}
        if not self.broken("execution_missing_from_logs"):
            self.executions.setdefault(workflow["id"], []).append(run)
        return 200, self.ok("workflow executed successfully", copy.deepcopy(run))

    def logs(self, call: Call) -> tuple[int, JSON]:
        if self.broken("logs_unknown_empty") and not self.known(call.id):
            page, limit = self.page_and_limit(call.query)
            return 200, self.paginate([], page, limit, logs=True)
        workflow = self.find(call.id)
        page, limit = self.page_and_limit(call.query)
        runs = self.executions.get(workflow["id"], [])
        self.finish_async(runs)
        if self.broken("logs_foreign_entries"):
            runs = [run for every in self.executions.values() for run in every]
        runs = sorted(
            runs,
            key=lambda run: (run["started_at"], run["id"]),
            reverse=not self.broken("logs_oldest_first"),
        )
        return 200, self.paginate(copy.deepcopy(runs), page, limit, logs=True)

    def finish_async(self, runs: list[JSON]) -> None:
        """`execute_async`: one logs read still sees a run running, the next sees it finished."""
        for run in runs:
            if (pending := self.finishing.get(run["id"])) is None:
                continue
            finished, reads = pending
            if reads:
                run |= finished
                del self.finishing[run["id"]]
            else:
                self.finishing[run["id"]] = (finished, reads + 1)

    # -- helpers of the operations -----------------------------------------------------------

    @staticmethod
    def ok(message: str, data: JSON) -> JSON:
        return {"ok": True, "message": message, "data": data}

    def fields(self, body: JSON) -> JSON:
        """The stored fields of a create or full-replacement body: as sent, and for what it
        leaves out the decisions' defaults (`is_active` true, `description` "")."""
        fields: JSON = {
            "name": body.get("name", ""),  # only missing under `bad_input_accepted`
            "description": body.get("description", ""),
            "is_active": body.get("is_active", True),
            "trigger_node": body["trigger_node"],
            "nodes": body["nodes"],
        }
        if self.broken("wrong_type_accepted") and not isinstance(fields["name"], str):
            fields["name"] = str(fields["name"])
        if self.broken("description_null") and "description" not in body:
            fields["description"] = None
        if self.broken("description_absent") and "description" not in body:
            del fields["description"]
        if self.broken("description_not_stored"):
            fields["description"] = ""
        return copy.deepcopy(fields)

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


def _loose(
    obj: JSON, key: str, kind: type, default: Any, where: str, errors: list[FieldError]
) -> Any:
    """`obj[key]` when present, not null and of JSON type `kind`; else `default` (and, when it
    has another type, a reason in `errors`)."""
    value = obj.get(key)
    if value is None:
        return copy.deepcopy(default)
    if isinstance(value, kind):
        return copy.deepcopy(value)
    named = {str: "a string", bool: "a boolean", dict: "an object", list: "an array"}[kind]
    errors.append(FieldError(f"{where}.{key}", f"{json.dumps(value)[:80]} is not {named}"))
    return copy.deepcopy(default)


def _loose_body(body: Any) -> tuple[JSON, list[FieldError]]:
    """`loose_validation`: only what the docs state (a JSON object, each field's JSON type);
    whatever is missing or null takes a default, unknown properties are dropped."""
    if not isinstance(body, dict):
        return {}, [FieldError("body", "not a JSON object")]
    errors: list[FieldError] = []
    trigger = _loose(body, "trigger_node", dict, {}, "body", errors)
    nodes: list[JSON] = []
    for index, node in enumerate(_loose(body, "nodes", list, [], "body", errors)):
        where = f"body.nodes[{index}]"
        if not isinstance(node, dict):
            errors.append(FieldError(where, "not an object"))
            continue
        nodes.append(
            {
                "id": _loose(node, "id", str, "", where, errors),
                "type": _loose(node, "type", str, "", where, errors),
                "name": _loose(node, "name", str, "", where, errors),
                "config": _loose(node, "config", dict, {}, where, errors),
            }
        )
    fields: JSON = {
        "name": _loose(body, "name", str, "", "body", errors),
        "description": _loose(body, "description", str, "", "body", errors),
        "is_active": _loose(body, "is_active", bool, True, "body", errors),
        "trigger_node": {
            "type": _loose(trigger, "type", str, "schedule", "body.trigger_node", errors),
            "config": _loose(trigger, "config", dict, {}, "body.trigger_node", errors),
        },
        "nodes": nodes,
    }
    return fields, errors


async def _not_found(request: Request, exc: Exception) -> Response:
    server: LenzServer = request.app.state.server
    return server.error(404)


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

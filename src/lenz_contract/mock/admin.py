"""Control of the mock under `/__mock/` (outside the Lenz API, no token).

Reset to the fixtures, export/import the whole state, move the clock (firing what became due),
latency and failure injection per operationId, and the last requests with their validation
result: each for one namespace (the `X-Lenz-Mock-Namespace` header, or the namespace a bearer
token is bound to, else `default`); `GET /__mock/namespaces` lists them all and
`DELETE /__mock/namespaces/NAME` deletes one. Open only when the server listens on loopback or
runs with `--admin`: it can wipe the state, so it must not be reachable from a network by
accident.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ..spec import FieldError, jsontext
from ..spec.requests import parse_json_body
from ..spec.timestamps import format_utc, parse_rfc3339
from ..wire import BodyTooLarge, ClientGone, read_body
from .auth import bearer_token
from .config import MAX_IMPORT_BYTES, is_ip_address, is_loopback
from .dispatcher import dump_json, send_json
from .errors import error_body, one_error
from .faults import Failure
from .namespaces import NAME_RULE_TEXT, NAMESPACE_HEADER, Namespace, chosen_namespace
from .schedule import RunReport
from .snapshot import SnapshotError, snapshot_from_json
from .store import Snapshot

if TYPE_CHECKING:
    from .state import MockState

ADMIN_PREFIX = "/__mock"


class JSONAnswer(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dump_json(content)


def bad_request(errors: list[FieldError]) -> JSONAnswer:
    return JSONAnswer(error_body(errors), status_code=400)


class AdminGuard:
    """403 for every admin path unless the admin API is allowed (loopback or `--admin`).

    Without `--admin`, both must be loopback: the configured host and the local address the
    connection arrived on (an app whose config says 127.0.0.1 may still be served on 0.0.0.0,
    e.g. by `uvicorn --factory`; a request through a network interface is then refused).
    """

    def __init__(self, app: ASGIApp, state: MockState) -> None:
        self.app = app
        self.state = state

    def allowed(self, scope: Scope) -> bool:
        config = self.state.config
        if config.admin:
            return True
        server = scope.get("server")
        local = str(server[0]) if server else ""
        return config.admin_allowed and (is_loopback(local) or not is_ip_address(local))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.allowed(scope):
            reason = "the admin API is open only on a loopback address or with --admin"
            await send_json(send, 403, one_error("admin", reason))
            return
        await self.app(scope, receive, send)


async def _json_body(request: Request, limit: int = 1024 * 1024) -> tuple[Any, JSONAnswer | None]:
    """The request's JSON (None when empty) or the 400/413 answer to give instead."""
    try:
        raw = await read_body(request.receive, limit)
    except BodyTooLarge:
        return None, JSONAnswer(one_error("body", f"is larger than {limit} bytes"), 413)
    except ClientGone:  # never act on half a body
        return None, bad_request([FieldError("body", "the client left before sending it whole")])
    if not raw.strip():
        return None, None
    value, error = parse_json_body(raw)
    if error is not None:
        return None, bad_request([error])
    return value, None


def _snapshot(state: MockState, body: Any) -> Snapshot:
    """The imported state, validated. jsonschema-rs raises on an `ExactNumber` it is asked to
    look at (one where the schema expects something else): such a state is judged, and kept,
    with plain floats (a 400 in the usual case, never a 500)."""
    try:
        return snapshot_from_json(state.runtime.spec, body)
    except SnapshotError:
        raise
    except ValueError:  # jsonschema-rs: "Unsupported type"
        return snapshot_from_json(state.runtime.spec, jsontext.plain(body))


def _report(report: RunReport) -> dict[str, Any]:
    return {
        "checked_from": format_utc(report.checked_from),
        "checked_until": format_utc(report.checked_until),
        "fired": [
            {"workflow_id": f.workflow_id, "fire_time": format_utc(f.fire_time)}
            for f in report.fired
        ],
        "truncated": report.truncated,
        "problems": report.problems,
        "errors": [{"workflow_id": f.workflow_id, "reason": r} for f, r in report.errors],
    }


def bound_namespace(state: MockState, request: Request) -> str | None:
    """The namespace the request's token is confined to, if it is a bound token."""
    token = bearer_token(request.headers.get("authorization"))
    return (
        state.token_namespaces.get(token) if token is not None and token in state.tokens else None
    )


async def namespace_of(state: MockState, request: Request) -> Namespace:
    """The namespace an admin request acts on: its header, else its token's, else `default`
    (raises `NamespaceError`: 400 or 403; `StoreUnavailable`: 503)."""
    bound = bound_namespace(state, request)
    name = chosen_namespace(request.headers.get(NAMESPACE_HEADER), bound)
    known = state.namespaces.known(name)
    if known is not None:
        return known
    opened: Namespace = await state.call(state.namespaces.get, name)
    return opened


def admin_routes(state: MockState) -> list[BaseRoute]:
    async def index(request: Request) -> Response:
        return JSONAnswer(
            {
                "ok": True,
                "mock": state.describe(),
                "namespaces": {
                    "header": NAMESPACE_HEADER,
                    "names": NAME_RULE_TEXT,
                    "default": "default",
                    "note": "every endpoint below acts on the request's namespace",
                },
                "endpoints": {
                    "GET /__mock/namespaces": "every namespace, its workflows and clock",
                    "DELETE /__mock/namespaces/NAME": "delete a namespace and all it holds",
                    "POST /__mock/reset": "back to the seed ({seed: false} empties)",
                    "GET /__mock/state": "export the whole state",
                    "PUT /__mock/state": "import a whole state (validated; all or nothing)",
                    "GET /__mock/clock": "the mock clock",
                    "POST /__mock/clock": '{"advance": seconds} or {"set": iso}; fires due schedules',
                    "GET|PUT /__mock/config": '{"latency_ms", "failures": {operationId: status | {status, rate}}}',
                    "GET /__mock/requests?limit=N": "the last N requests, newest first",
                    "GET /__mock/failures": "self-check failures (bugs of the mock)",
                },
            }
        )

    async def reset(request: Request) -> Response:
        body, problem = await _json_body(request)
        if problem is not None:
            return problem
        seed = body.get("seed", True) if isinstance(body, dict) else True
        if not isinstance(seed, bool):
            return bad_request([FieldError("body.seed", "must be a boolean")])
        namespace = await namespace_of(state, request)
        await state.call(lambda: namespace.service.reset(seed=seed))
        namespace.recorder.clear()
        return JSONAnswer(
            {"ok": True, "message": "state reset", "seeded": seed, "namespace": namespace.name}
        )

    async def export_state(request: Request) -> Response:
        namespace = await namespace_of(state, request)
        return JSONAnswer(await state.call(namespace.service.export_state))

    async def list_namespaces(request: Request) -> Response:
        found = await state.call(state.backend.namespaces)
        return JSONAnswer(
            {
                "ok": True,
                "data": [
                    {
                        "name": info.name,
                        "workflows": info.workflows,
                        "clock_offset_seconds": info.clock_offset_seconds,
                    }
                    for info in found
                ],
            }
        )

    async def delete_namespace(request: Request) -> Response:
        """Delete a namespace everywhere (a CI job's, when the job ends); the next request
        naming it starts again from the seed. A bound token may delete only its own."""
        name = chosen_namespace(request.path_params["name"], bound_namespace(state, request))
        if not await state.call(state.namespaces.drop, name):
            missing = error_body([FieldError("path.name", f"there is no namespace {name!r}")])
            return JSONAnswer({**missing, "message": "namespace not found"}, 404)
        return JSONAnswer({"ok": True, "message": "namespace deleted", "namespace": name})

    async def import_state(request: Request) -> Response:
        body, problem = await _json_body(request, MAX_IMPORT_BYTES)
        if problem is not None:
            return problem
        try:
            snapshot = _snapshot(state, body)
        except SnapshotError as exc:
            return bad_request(exc.errors)
        namespace = await namespace_of(state, request)
        await state.call(namespace.service.import_state, snapshot)
        return JSONAnswer(
            {
                "ok": True,
                "message": "state imported",
                "namespace": namespace.name,
                "workflows": len(snapshot.workflows),
                "executions": len(snapshot.executions),
                "credentials": len(snapshot.credentials),
            }
        )

    async def get_clock(request: Request) -> Response:
        namespace = await namespace_of(state, request)
        return JSONAnswer(await state.call(_clock_answer, namespace))

    def _clock_answer(namespace: Namespace) -> dict[str, Any]:
        service = namespace.service
        return {
            "ok": True,
            "namespace": namespace.name,
            "now": service.timestamp(),
            "offset_seconds": service.clock.offset.total_seconds(),
        }

    async def move_clock(request: Request) -> Response:
        body, problem = await _json_body(request)
        if problem is not None:
            return problem
        if not isinstance(body, dict) or ("advance" in body) == ("set" in body):
            return bad_request(
                [FieldError("body", 'give exactly one of {"advance": seconds} or {"set": iso}')]
            )
        namespace = await namespace_of(state, request)
        service = namespace.service
        try:
            if "advance" in body:
                seconds = body["advance"]
                if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                    raise ValueError("advance must be a number of seconds")
                if not math.isfinite(seconds) or seconds < 0 or seconds > 100 * 365 * 86400:
                    raise ValueError("advance must be between 0 and 100 years of seconds")
                report = await state.call(lambda: service.move_clock(advance=float(seconds)))
            else:
                when = parse_rfc3339(body["set"])
                if when is None:
                    raise ValueError(f"{body['set']!r} is not an RFC 3339 timestamp")
                report = await state.call(lambda: service.move_clock(to=when))
        except (ValueError, OverflowError) as exc:
            where = "body.advance" if "advance" in body else "body.set"
            return bad_request([FieldError(where, str(exc))])
        answer = await state.call(_clock_answer, namespace)
        return JSONAnswer({**answer, "schedules": _report(report)})

    async def get_config(request: Request) -> Response:
        namespace = await namespace_of(state, request)
        return JSONAnswer({"ok": True, **namespace.faults.as_dict()})

    async def set_config(request: Request) -> Response:
        body, problem = await _json_body(request)
        if problem is not None:
            return problem
        if not isinstance(body, dict):
            return bad_request([FieldError("body", "must be a JSON object")])
        faults = (await namespace_of(state, request)).faults
        errors: list[FieldError] = []
        latency = body.get("latency_ms", faults.latency_ms)
        if isinstance(latency, bool) or not isinstance(latency, int | float):
            errors.append(FieldError("body.latency_ms", "must be a number"))
        elif not (math.isfinite(latency) and 0 <= latency <= 60_000):
            errors.append(FieldError("body.latency_ms", "must be between 0 and 60000"))
        failures = _failures(body.get("failures"), errors) if "failures" in body else None
        if errors:
            return bad_request(errors)
        faults.latency_ms = float(latency)
        if failures is not None:
            faults.failures = failures
        return JSONAnswer({"ok": True, **faults.as_dict()})

    def _failures(raw: Any, errors: list[FieldError]) -> dict[str, Failure]:
        if not isinstance(raw, dict):
            errors.append(FieldError("body.failures", "must be an object by operationId"))
            return {}
        out: dict[str, Failure] = {}
        for op_id, rule in raw.items():
            where = f"body.failures.{op_id}"
            if op_id not in state.runtime.plans:
                errors.append(FieldError(where, "no operation has this operationId"))
                continue
            status, rate = (
                (rule, 1.0)
                if not isinstance(rule, dict)
                else (
                    rule.get("status", 500),
                    rule.get("rate", 1.0),
                )
            )
            if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
                errors.append(
                    FieldError(f"{where}.status", "must be an HTTP error status (400-599)")
                )
                continue
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
                errors.append(FieldError(f"{where}.rate", "must be a number from 0 to 1"))
                continue
            out[op_id] = Failure(status, float(rate))
        return out

    async def requests(request: Request) -> Response:
        raw = request.query_params.get("limit", "50")
        if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
            return bad_request([FieldError("query.limit", "must be an integer from 1 to 10000")])
        namespace = await namespace_of(state, request)
        return JSONAnswer({"ok": True, "data": namespace.recorder.last(int(raw))})

    async def failures(request: Request) -> Response:
        return JSONAnswer({"ok": True, "data": list(state.failures)})

    return [
        Route("/", index, methods=["GET"]),
        Route("/namespaces", list_namespaces, methods=["GET"]),
        Route("/namespaces/{name}", delete_namespace, methods=["DELETE"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/state", export_state, methods=["GET"]),
        Route("/state", import_state, methods=["PUT", "POST"]),
        Route("/clock", get_clock, methods=["GET"]),
        Route("/clock", move_clock, methods=["POST"]),
        Route("/config", get_config, methods=["GET"]),
        Route("/config", set_config, methods=["PUT", "POST"]),
        Route("/requests", requests, methods=["GET"]),
        Route("/failures", failures, methods=["GET"]),
    ]

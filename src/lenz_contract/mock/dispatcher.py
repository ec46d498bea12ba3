"""The Lenz API's request path: one pure-ASGI route that answers every spec operation.

Per request, in order: find the operation (the spec's router, `spec.routing`), its namespace
(`X-Lenz-Mock-Namespace` or the token's: 400/403, `namespaces.py`), optional latency, bearer
token (401), `Prefer` (forced documented answer), failure injection, body (413
over the limit), validation with the compiled validators (400/415, `validate_request`), the
operation's handler, the self-check of the answer against the spec, and one record in the ring
buffer. No Starlette Request/Response objects and no `BaseHTTPMiddleware`: this path must serve
thousands of requests per second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send

from .. import wire
from ..spec import FieldError, SchemaValidator, jsontext
from ..spec.requests import BAD_REQUEST, RequestVerdict, read_query
from ..wire import BodyTooLarge, ClientGone, read_body
from .auth import bearer_token
from .errors import UNAUTHORIZED_REASON, error_body, one_error
from .handlers import HANDLERS, Call
from .namespaces import NAMESPACE_HEADER, NAMESPACE_HEADER_RAW, NamespaceError, chosen_namespace
from .prefer import preferred_answer
from .store import StoreUnavailable

if TYPE_CHECKING:
    from .namespaces import Namespace
    from .recorder import RequestRecorder
    from .runtime import OperationPlan
    from .state import MockState

logger = logging.getLogger(__name__)

JSON_HEADER = (b"content-type", b"application/json")
MOCK_HEADER = (wire.MOCK_HEADER.encode(), wire.MOCK_HEADER_VALUE.encode())
"""Says "this is the mock" on every API answer: the conformance suite then runs its execution
checks without `--allow-execute` (executing on a mock harms no one)."""
SERVER_ERROR = 500
UNAVAILABLE = 503
RETRY_AFTER = (b"retry-after", b"1")


def unavailable_body(exc: StoreUnavailable) -> dict[str, Any]:
    """The Lenz error envelope of a 503: the state cannot be reached now (the database)."""
    return error_body([FieldError("state", str(exc))], "service unavailable")


def namespace_refusal(exc: NamespaceError) -> tuple[int, dict[str, Any]]:
    where = "header.Authorization" if exc.status == 403 else f"header.{NAMESPACE_HEADER}"
    return exc.status, one_error(where, str(exc))


def dump_json(body: Any) -> bytes:
    """The answer's JSON text: orjson, every number as the request wrote it (`spec.jsontext`:
    integers beyond 64 bits, `ExactNumber`s, any depth the body parser accepts)."""
    return jsontext.dumps(body)


async def send_json(
    send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = dump_json(body)
    raw = [JSON_HEADER, (b"content-length", str(len(payload)).encode())]
    if headers:
        raw += headers
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


class ApiDispatcher(wire.HttpMiddleware):
    """Pure-ASGI middleware answering every path the spec declares (a known path with another
    method is a 405); anything else goes on to the Starlette app (admin, docs, 404).

    It sits inside Starlette's middleware stack, so it skips the router and the exception
    middleware that the other routes need.
    """

    def __init__(self, app: ASGIApp, state: MockState) -> None:
        super().__init__(app)
        self.state = state

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime = self.state.runtime
        op, params, _, allowed = runtime.router.match(scope["method"], _route_path(scope))
        if op is not None:
            await self.handle(scope, receive, send, runtime.plans[op.operation_id], params)
        elif allowed:
            await self.not_allowed(scope, send, allowed)
        else:
            await self.app(scope, receive, send)

    async def not_allowed(self, scope: Scope, send: Send, allowed: tuple[str, ...]) -> None:
        started = time.perf_counter()
        body = one_error("method", f"{scope['method']} is not allowed here")
        headers = [(b"allow", ", ".join(allowed).encode())]
        self.state.check_error_envelope(body)
        await self._answer(scope, send, None, 405, body, started, body_errors(body), headers)

    async def handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        plan: OperationPlan,
        params: Mapping[str, str],
    ) -> None:
        started = time.perf_counter()
        state = self.state
        op_id = plan.operation.operation_id
        where: list[RequestRecorder] = [state.recorder]
        try:
            status, body, extra, errors, checked = await self._serve(
                scope, receive, plan, params, where
            )
        except ClientGone:
            return  # nobody is left to answer
        except StoreUnavailable as exc:  # the database is away: say so, and when to retry
            body = unavailable_body(exc)
            status, extra, errors, checked = UNAVAILABLE, [RETRY_AFTER], body_errors(body), False
        except Exception as exc:  # a bug: answer it loudly, never crash the connection
            logger.exception("the mock failed on %s %s", scope["method"], scope["path"])
            state.note_failure(f"{op_id}: {type(exc).__name__}: {exc}")
            status, body, extra, errors, checked = (
                SERVER_ERROR,
                error_body([FieldError("server", f"{type(exc).__name__}: {exc}")], "mock error"),
                [],
                [],
                False,
            )
        if checked and state.config.self_check:
            status, body = self._self_check(plan, status, body)
        await self._answer(scope, send, op_id, status, body, started, errors, extra, where[0])

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        plan: OperationPlan,
        params: Mapping[str, str],
        where: list[RequestRecorder],
    ) -> tuple[int, Any, list[tuple[bytes, bytes]], list[FieldError], bool]:
        """`(status, body, extra headers, request errors, self-check it?)`; `where[0]` becomes
        the request log of the request's namespace once it is known."""
        state = self.state
        op = plan.operation
        authorization = content_type = prefer = namespace_header = None
        content_length = -1
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"prefer":
                prefer = value.decode("latin-1")
            elif name == b"content-length" and value.isdigit():
                content_length = int(value)
            elif name == NAMESPACE_HEADER_RAW:
                namespace_header = value.decode("latin-1")
        token = bearer_token(authorization)
        user = bound = None
        if token is not None:
            user = state.tokens.get(token)
            bound = state.token_namespaces.get(token) if user is not None else None
        try:
            chosen = chosen_namespace(namespace_header, bound)
            namespace: Namespace | None = state.namespaces.known(chosen)
            if namespace is None and not (op.requires_auth and user is None):
                namespace = await state.call(state.namespaces.get, chosen)  # may create it
        except NamespaceError as exc:
            status, body = namespace_refusal(exc)
            return status, body, [], body_errors(body), False
        faults = state.faults if namespace is None else namespace.faults
        if namespace is not None:
            where[0] = namespace.recorder
        if faults.latency_ms > 0:
            await asyncio.sleep(faults.latency_ms / 1000)
        if op.requires_auth and user is None:
            body = one_error("header.Authorization", UNAUTHORIZED_REASON)
            return 401, body, [(b"www-authenticate", b"Bearer")], body_errors(body), True
        if namespace is None:
            namespace = await state.call(state.namespaces.get, chosen)
            where[0] = namespace.recorder
        if prefer is not None:
            forced = preferred_answer(op, prefer, state.recorded_examples.get(op.operation_id))
            if forced is not None:
                return forced[0], forced[1], [], body_errors(forced[1]), True
        injected = namespace.faults.failure_for(op.operation_id)
        if injected is not None:
            body = one_error("mock", f"failure injected for {op.operation_id} (admin API)")
            return injected, body, [], body_errors(body), False
        raw_body: bytes | None = None
        if plan.requests.takes_body:
            limit = state.config.max_body_bytes
            try:
                if content_length > limit:
                    raise BodyTooLarge
                raw_body = await read_body(receive, limit)
            except BodyTooLarge:
                body = one_error("body", f"is larger than {limit} bytes")
                return 413, body, [], body_errors(body), True
        verdict = validate_request(
            plan,
            params,
            scope.get("query_string", b""),
            content_type,
            raw_body,
            _text_headers(scope) if plan.requests.header_rules else None,
        )
        if verdict.status is not None:
            return verdict.status, error_body(verdict.errors), [], verdict.errors, True
        handler = HANDLERS.get(op.operation_id)
        if handler is None:  # an operation the spec gained after this mock was written
            fallback = preferred_answer(op, f"code={plan.success_status}")
            assert fallback is not None
            return fallback[0], fallback[1], [], [], True
        call = Call(
            plan, namespace.service, user or "anonymous", verdict.path, verdict.query, verdict.body
        )
        status, body = await state.call(handler, call)
        return status, body, [], body_errors(body), True

    def _self_check(self, plan: OperationPlan, status: int, body: Any) -> tuple[int, Any]:
        documented, validator = plan.response_check(status)
        if not documented:
            problems = [FieldError("response.status", f"{status} is not documented")]
        elif validator is None:
            problems = []
        else:
            problems = _answer_errors(validator, body)
        if not problems:
            return status, body
        reason = "; ".join(str(p) for p in problems)
        message = f"self-check: {plan.operation.operation_id} answered {status} against the spec: {reason}"
        logger.error("%s", message)
        self.state.note_failure(message)
        return SERVER_ERROR, error_body(problems, "mock self-check failed")

    async def _answer(
        self,
        scope: Scope,
        send: Send,
        op_id: str | None,
        status: int,
        body: Any,
        started: float,
        errors: list[FieldError],
        headers: list[tuple[bytes, bytes]] | None = None,
        recorder: RequestRecorder | None = None,
    ) -> None:
        await send_json(send, status, body, [MOCK_HEADER, *(headers or [])])
        (recorder or self.state.recorder).record(
            scope, operation_id=op_id, status=status, errors=errors, started=started
        )


def validate_request(
    plan: OperationPlan,
    params: Mapping[str, str],
    query_string: bytes,
    content_type: str | None,
    body: bytes | None,
    headers: Sequence[tuple[str, str]] | None = None,
) -> RequestVerdict:
    """The mock's verdict on a routed request: its parameters and body by the operation's
    compiled validator, and a 400 `query` when the query is not UTF-8 text (its parameters are
    then not read; the rest still is: every problem is reported).

    No state: the test that holds the mock and the proxy to the same verdicts calls it as the
    dispatcher does (after routing and the token, before the handler).
    """
    query, problem = read_query(query_string) if query_string else ([], None)
    verdict = plan.requests.validate(
        path_params=params,
        query=None if problem else query,
        content_type=content_type,
        body=body,
        headers=headers,
    )
    if problem is not None:
        verdict.errors.insert(0, problem)
        verdict.status = verdict.status or BAD_REQUEST
    return verdict


def _answer_errors(validator: SchemaValidator, body: Any) -> list[FieldError]:
    """The self-check's reasons. jsonschema-rs raises on a float subclass it is asked to look
    at (an `ExactNumber` the client sent): those are checked as their float values."""
    try:
        return validator.errors(body, "response")
    except ValueError:
        try:
            return validator.errors(jsontext.plain(body), "response")
        except (ValueError, OverflowError) as exc:  # e.g. its recursion limit
            return [FieldError("response", f"cannot be checked: {exc}")]


def body_errors(body: Any) -> list[FieldError]:
    """The located reasons an error envelope carries (for the request log)."""
    if not isinstance(body, dict) or body.get("ok") is not False:
        return []
    return [
        FieldError(str(e.get("path")), str(e.get("reason")))
        for e in body.get("errors") or []
        if isinstance(e, dict)
    ]


def _text_headers(scope: Scope) -> list[tuple[str, str]]:
    """The request's headers as text (only read for an operation with header parameters)."""
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path

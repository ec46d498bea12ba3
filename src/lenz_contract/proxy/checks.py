"""The fast engine: a whole exchange checked in microseconds with validators compiled at startup.

It runs on every exchange, after the client has its answer (or before, with
`--fail-on-violation`, where it decides the 502). It checks what openapi-core checks: routing,
the bearer token, path, query and header parameters, the request body's media type, JSON and
schema; the response's status, media type, JSON and schema. openapi-core then re-checks in the
background (`reference.py`) and only adds what this engine missed.

Routing and reading parameters are the spec's (`spec.routing`, `spec.requests`), the very code
the mock validates with, so the proxy and the mock take a request the same way (a differential
test holds them to it); this module only turns their answers into findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..spec import Operation, Spec
from ..spec.document import resolve_pointer
from ..spec.requests import RequestValidator, compile_request_validators, read_query
from .exchange import JSON_MEDIA_TYPE, Exchange, header, media_type, parse_json
from .violations import (
    Direction,
    Finding,
    pointer_of,
    schema_findings,
    short_json,
    source_along,
)

MAX_FINDINGS = 20
UNCHECKED_METHODS = frozenset({"OPTIONS", "HEAD"})


@dataclass(frozen=True)
class Route:
    """Where a request lands in the spec: its operation, or the path template it missed."""

    method: str
    operation: Operation | None
    path_params: dict[str, str]
    template: str | None
    allowed: tuple[str, ...]

    @property
    def label(self) -> str:
        """The operationId, or `METHOD /template` for a method the path does not allow."""
        if self.operation is not None:
            return self.operation.operation_id
        return f"{self.method} {self.template}" if self.template else "(unmatched)"


@dataclass(frozen=True)
class ResponseCheck:
    """The fast verdict on a response, and its parsed JSON body (for the recorder)."""

    findings: tuple[Finding, ...]
    body: Any
    parsed: bool
    decoded: bytes | None


class _Plan:
    """What one operation's checks need, looked up once."""

    def __init__(self, spec: Spec, op: Operation) -> None:
        doc = spec.document
        self.op = op
        raw = resolve_pointer(doc, op.pointer)
        body_node = raw.get("requestBody")
        while isinstance(body_node, dict) and "$ref" in body_node:
            body_node = resolve_pointer(doc, body_node["$ref"])
        self.request_media: tuple[str, ...] = tuple((body_node or {}).get("content") or ())
        self.takes_body = body_node is not None
        self.response_media: dict[str, tuple[str, ...]] = {}
        for status in op.responses:
            node = resolve_pointer(doc, f"{op.pointer}/responses/{status}")
            while isinstance(node, dict) and "$ref" in node:
                node = resolve_pointer(doc, node["$ref"])
            self.response_media[status] = tuple((node or {}).get("content") or ())
        sources = {r.source for r in op.responses.values()}
        self.status_source = "documented" if "documented" in sources else "inferred"
        schemes = doc.get("components", {}).get("securitySchemes", {})
        self.security_source = next(
            (schemes.get(name, {}).get("x-lenz-source") for name in op.security_schemes), None
        )


class FastChecker:
    """Routes and checks exchanges against one spec; all schemas compiled in `__init__`."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.document = spec.document
        self._plans = {op_id: _Plan(spec, op) for op_id, op in spec.operations.items()}
        self._requests: dict[str, RequestValidator] = compile_request_validators(spec)
        for op in spec.operations.values():
            for pointer in self._pointers(op):
                self._validator(pointer)

    @staticmethod
    def _pointers(op: Operation) -> list[str]:
        out = [p.schema_pointer for p in op.parameters]
        out += [op.request_body_pointer] if op.request_body_pointer else []
        out += [r.schema_pointer for r in op.responses.values() if r.schema_pointer]
        return out

    def _validator(self, pointer: str) -> Any:
        """The spec's compiled validator (compiled once, shared with everything else)."""
        return self.spec.validator(pointer).compiled

    # -- routing ---------------------------------------------------------------------------
    def route(self, method: str, path: str) -> Route:
        """The spec's router (`spec.routing`: the mock's and `Spec.match`'s too)."""
        found = self.spec.router.match(method, path)
        params = dict(found.params) if found.operation is not None else {}
        return Route(method.upper(), found.operation, params, found.template, found.allowed)

    # -- schemas ---------------------------------------------------------------------------
    def schema_errors(
        self,
        pointer: str,
        instance: Any,
        *,
        direction: Direction,
        prefix: str,
        fallback_source: str | None,
    ) -> list[Finding]:
        compiled = self._validator(pointer)
        if compiled.is_valid(instance):
            return []
        out: list[Finding] = []
        for error in compiled.iter_errors(instance):
            schema_path = list(error.schema_path)
            keyword = str(schema_path[-1]) if schema_path else ""
            source, name = source_along(self.document, schema_path)
            kind = error.kind
            value = _keyword_value(self.document, schema_path)
            out += schema_findings(
                self.document,
                direction=direction,
                prefix=prefix,
                instance_path=list(error.instance_path),
                keyword=keyword,
                value=value,
                instance=error.instance,
                source=source or fallback_source,
                spec_pointer=pointer_of(schema_path),
                schema_name=name,
                missing=[kind.property] if keyword == "required" else [],
                unexpected=list(getattr(kind, "unexpected", []) or [])
                if keyword == "additionalProperties"
                else [],
            )
            if len(out) >= MAX_FINDINGS:
                break
        return out

    # -- requests --------------------------------------------------------------------------
    def check_request(self, exchange: Exchange, route: Route) -> list[Finding]:
        op = route.operation
        if op is None:
            if route.template and exchange.method not in UNCHECKED_METHODS:
                return [
                    Finding(
                        "request",
                        "method",
                        "method",
                        "one of " + ", ".join(route.allowed),
                        exchange.method,
                        "documented",
                    )
                ]
            return []
        plan = self._plans[op.operation_id]
        out: list[Finding] = []
        if op.requires_auth:
            out += self._check_auth(exchange, plan)
        out += self._check_parameters(exchange, route, op)
        if plan.takes_body:
            out += self._check_request_body(exchange, plan)
        return _unique(out)

    def _check_auth(self, exchange: Exchange, plan: _Plan) -> list[Finding]:
        value = header(exchange.request_headers, "authorization")
        scheme, space, _ = (value or "").partition(" ")
        if value is not None and scheme.lower() == "bearer" and space:
            return []
        actual = "missing" if value is None else f"{scheme or '(empty)'} (not a bearer token)"
        pointer = f"{plan.op.pointer}/security"
        return [
            Finding(
                "request",
                "header.Authorization",
                "security",
                "Bearer <token>",
                actual,
                plan.security_source,
                pointer,
            )
        ]

    def _check_parameters(self, exchange: Exchange, route: Route, op: Operation) -> list[Finding]:
        """Parameters read by the mock's own reader (`RequestValidator.read_parameters`), then
        checked against their schemas here, for findings with the broken keyword."""
        query, problem = read_query(_query_bytes(exchange.query_string))
        out: list[Finding] = []
        if problem is not None:
            actual = short_json(exchange.query_string)
            out.append(Finding("request", problem.path, "encoding", "UTF-8", actual, op.source))
        values, _ = self._requests[op.operation_id].read_parameters(
            route.path_params, None if problem else query, exchange.request_headers
        )
        for rule, value, unread in values:
            param = rule.parameter
            if unread is not None:
                out.append(
                    Finding(
                        "request",
                        unread.where,
                        unread.rule,
                        unread.expected,
                        unread.actual,
                        param.source,
                        param.schema_pointer,
                    )
                )
                continue
            out += self.schema_errors(
                param.schema_pointer,
                value,
                direction="request",
                prefix=rule.where,
                fallback_source=param.source,
            )
        return out

    def _check_request_body(self, exchange: Exchange, plan: _Plan) -> list[Finding]:
        op = plan.op
        body = exchange.request_body
        if not body:
            if not op.request_body_required:
                return []
            return [Finding("request", "body", "required", "a request body", "empty", op.source)]
        given = media_type(exchange.request_content_type)
        if given not in plan.request_media:
            return [
                Finding(
                    "request",
                    "header.Content-Type",
                    "content-type",
                    " or ".join(plan.request_media),
                    given or "missing",
                    op.source,
                    f"{op.pointer}/requestBody/content",
                )
            ]
        if given != JSON_MEDIA_TYPE or op.request_body_pointer is None:
            return []
        ok, value, why = parse_json(body)
        if not ok:
            return [Finding("request", "body", "json", "a JSON document", why, op.source)]
        return self.schema_errors(
            op.request_body_pointer,
            value,
            direction="request",
            prefix="body",
            fallback_source=op.source,
        )

    # -- responses -------------------------------------------------------------------------
    def check_response(self, exchange: Exchange, route: Route) -> ResponseCheck:
        op = route.operation
        if op is None or not exchange.response_complete:
            return ResponseCheck((), None, False, None)
        plan = self._plans[op.operation_id]
        response = op.response_for(exchange.status)
        if response is None:
            finding = Finding(
                "response",
                "status",
                "status",
                "status in [" + ", ".join(op.responses) + "]",
                str(exchange.status),
                plan.status_source,
                f"{op.pointer}/responses",
            )
            return ResponseCheck((finding,), None, False, None)
        documented = plan.response_media.get(response.status, ())
        if not documented or exchange.method == "HEAD":
            return ResponseCheck((), None, False, None)
        out: list[Finding] = []
        given = media_type(exchange.response_content_type)
        if given not in documented:
            out.append(
                Finding(
                    "response",
                    "header.Content-Type",
                    "content-type",
                    " or ".join(documented),
                    given or "missing",
                    op.source,
                    f"{op.pointer}/responses/{response.status}/content",
                )
            )
        if JSON_MEDIA_TYPE not in documented or response.schema_pointer is None:
            return ResponseCheck(tuple(out), None, False, None)
        if given in documented and given != JSON_MEDIA_TYPE:
            # Another media type the contract lists for this answer (`text/csv` next to JSON,
            # say): its body is not JSON, and nothing here has a schema for it.
            return ResponseCheck(tuple(out), None, False, None)
        decoded = exchange.decoded_response_body()
        if decoded is None:  # not captured, or an encoding we cannot undo: nothing to judge
            return ResponseCheck(tuple(out), None, False, None)
        ok, value, why = parse_json(decoded)
        if not ok:
            shown = short_json(decoded[:80].decode("utf-8", "replace"), 100)
            actual = f"{why}: {shown}" if decoded else "an empty body"
            out.append(Finding("response", "body", "json", "a JSON document", actual, op.source))
            return ResponseCheck(tuple(out), None, False, decoded)
        out += self.schema_errors(
            response.schema_pointer,
            value,
            direction="response",
            prefix="body",
            fallback_source=response.source or op.source,
        )
        return ResponseCheck(tuple(_unique(out)), value, True, decoded)


def _query_bytes(query_string: str) -> bytes:
    """The raw query bytes back: the proxy keeps them decoded as latin-1 (one char a byte)."""
    try:
        return query_string.encode("latin-1")
    except UnicodeEncodeError:  # not from the wire: already text
        return query_string.encode("utf-8")


def _keyword_value(document: dict[str, Any], schema_path: list[Any]) -> Any:
    node: Any = document
    for part in schema_path:
        if isinstance(node, dict):
            node = node.get(str(part))
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return None
    return node


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for finding in findings:
        key = (finding.direction, finding.path, finding.rule)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out

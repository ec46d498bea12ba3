"""Validate an HTTP request against its operation with validators compiled once from the spec.

The mock and the proxy both need the same answer to "is this request what the contract asks
for, and if not, where is it wrong?" in microseconds, so everything an operation needs (its
parameters' schemas, defaults and the body schema) is looked up once per operation here, and a
request is then only coerced, parsed and checked. openapi-core stays the reference; a
differential test keeps the two in agreement (and lists where they knowingly differ).

Query strings are typed by their parameter schema (`?limit=5` is the integer 5), defaults come
from the spec, and every problem comes back as a located `FieldError` (`query.limit`,
`path.id`, `body.trigger_node.config.cron`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from .document import resolve_pointer
from .errors import FieldError
from .model import JSON_MEDIA_TYPE, Operation, Parameter, Spec
from .schemas import SchemaValidator

BAD_REQUEST = 400
UNSUPPORTED_MEDIA_TYPE = 415


@dataclass
class RequestVerdict:
    """The outcome of validating one request: typed values, or the status and reasons to refuse.

    `status` is None when the request is valid, 400 for bad values and 415 for a body in a
    media type the operation does not take.
    """

    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    errors: list[FieldError] = field(default_factory=list)
    status: int | None = None

    @property
    def ok(self) -> bool:
        return self.status is None


def media_type(content_type: str | None) -> str:
    """`Application/JSON; charset=utf-8` → `application/json`; '' when absent."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def parse_json_body(raw: bytes) -> tuple[Any, FieldError | None]:
    """Strict RFC 8259 JSON: NaN, lone surrogates, non-UTF-8 bytes and depth > 1024 are refused.

    orjson never raises RecursionError and refuses what a JSON encoder could not write back,
    so a body that parses here can always be answered.
    """
    try:
        return orjson.loads(raw), None
    except orjson.JSONDecodeError as exc:
        return None, FieldError("body", f"malformed JSON: {exc}")
    except (ValueError, RecursionError, MemoryError) as exc:  # defensive: never a 500
        return None, FieldError("body", f"malformed JSON: {type(exc).__name__}")


def _schema_type(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind if isinstance(kind, str) else None


class ParameterRule:
    """One query or path parameter: its coercion, default and compiled schema."""

    def __init__(self, parameter: Parameter, validator: SchemaValidator) -> None:
        self.name = parameter.name
        self.location = parameter.location
        self.required = parameter.required
        self.allow_empty = parameter.allow_empty
        self.has_default = "default" in parameter.schema
        self.default = parameter.default
        self.type = _schema_type(parameter.schema)
        items = parameter.schema.get("items")
        self.item_type = _schema_type(items) if isinstance(items, dict) else None
        self.validator = validator
        self.where = f"{parameter.location}.{parameter.name}"

    def coerce(self, values: Sequence[str]) -> tuple[Any, FieldError | None]:
        """The typed value of the raw strings given for this parameter (form style, explode)."""
        if self.type == "array":
            out = []
            for value in values:
                item, error = self.coerce_value(value, self.item_type)
                if error is not None:
                    return None, error
                out.append(item)
            return out, None
        if len(values) > 1:
            return None, FieldError(self.where, f"given {len(values)} times; give it once")
        return self.coerce_value(values[0], self.type)

    def coerce_value(self, value: str, kind: str | None) -> tuple[Any, FieldError | None]:
        if value == "" and not self.allow_empty:
            return None, FieldError(self.where, "must not be empty")
        if kind == "integer":
            try:
                # int() semantics, as openapi-core casts; over 4300 digits is a ValueError too.
                return int(value), None
            except ValueError:
                return None, FieldError(self.where, f"must be an integer, got {_short(value)}")
        if kind == "number":
            try:
                number = float(value)
            except ValueError:
                return None, FieldError(self.where, f"must be a number, got {_short(value)}")
            if number != number or number in (float("inf"), float("-inf")):
                return None, FieldError(self.where, "must be a finite number")
            return number, None
        if kind == "boolean":
            lowered = value.lower()
            if lowered in ("true", "false"):
                return lowered == "true", None
            return None, FieldError(self.where, f"must be true or false, got {_short(value)}")
        return value, None

    def check(self, value: Any) -> list[FieldError]:
        try:
            return self.validator.errors(value, self.where)
        except (ValueError, OverflowError) as exc:  # a value the schema engine cannot represent
            return [FieldError(self.where, f"cannot be checked: {exc}")]


class RequestValidator:
    """Everything one operation needs to check a request, compiled once."""

    def __init__(self, spec: Spec, operation: Operation) -> None:
        self.operation = operation
        self.params = [
            ParameterRule(p, spec.validator(p.schema_pointer))
            for p in operation.parameters
            if p.location in ("query", "path")
        ]
        self.query_rules = [p for p in self.params if p.location == "query"]
        self.path_rules = [p for p in self.params if p.location == "path"]
        self.takes_body = operation.request_body_pointer is not None
        self.body_required = operation.request_body_required
        self.body_validator = (
            spec.validator(operation.request_body_pointer)
            if operation.request_body_pointer
            else None
        )
        self.body_defaults = (
            _top_level_defaults(spec, operation.request_body_pointer)
            if operation.request_body_pointer
            else {}
        )

    def validate(
        self,
        *,
        path_params: Mapping[str, str],
        query: Sequence[tuple[str, str]],
        content_type: str | None = None,
        body: bytes | None = None,
    ) -> RequestVerdict:
        """Check path, query and body; every problem is reported, not only the first."""
        verdict = RequestVerdict()
        errors = verdict.errors
        for rule in self.path_rules:
            raw = path_params.get(rule.name)
            if raw is None:
                errors.append(FieldError(rule.where, "is required"))
                continue
            # An empty path segment is left to the schema (`minLength`), as openapi-core does.
            value, error = (raw, None) if raw == "" else rule.coerce_value(raw, rule.type)
            if error is not None:
                errors.append(error)
                continue
            found = rule.check(value)
            errors += found
            if not found:
                verdict.path[rule.name] = value
        self._check_query(query, verdict)
        status = BAD_REQUEST
        if self.takes_body:
            status = self._check_body(content_type, body, verdict)
        if errors:
            verdict.status = status
        return verdict

    def _check_query(self, query: Sequence[tuple[str, str]], verdict: RequestVerdict) -> None:
        given: dict[str, list[str]] = {}
        for name, value in query:
            given.setdefault(name, []).append(value)
        for rule in self.query_rules:
            values = given.get(rule.name)
            if values is None:
                if rule.required:
                    verdict.errors.append(FieldError(rule.where, "is required"))
                elif rule.has_default:
                    verdict.query[rule.name] = rule.default
                continue
            value, error = rule.coerce(values)
            if error is not None:
                verdict.errors.append(error)
                continue
            found = rule.check(value)
            if found:
                verdict.errors += found
            else:
                verdict.query[rule.name] = value

    def _check_body(
        self, content_type: str | None, body: bytes | None, verdict: RequestVerdict
    ) -> int:
        """Check the body; returns the status a body problem calls for (400 or 415)."""
        if not body:
            if self.body_required:
                verdict.errors.append(FieldError("body", "is required (a JSON object)"))
            return BAD_REQUEST
        if media_type(content_type) != JSON_MEDIA_TYPE:
            verdict.errors.append(
                FieldError(
                    "header.Content-Type",
                    f"must be {JSON_MEDIA_TYPE}, got {_short(content_type or '(none)')}",
                )
            )
            return UNSUPPORTED_MEDIA_TYPE
        value, error = parse_json_body(body)
        if error is not None:
            verdict.errors.append(error)
            return BAD_REQUEST
        assert self.body_validator is not None
        found = self.body_validator.errors(value, "body")
        if found:
            verdict.errors += found
            return BAD_REQUEST
        if isinstance(value, dict):
            for key, default in self.body_defaults.items():
                value.setdefault(key, default)
        verdict.body = value
        return BAD_REQUEST


def compile_request_validators(spec: Spec) -> dict[str, RequestValidator]:
    """A `RequestValidator` per operationId (compile at startup, reuse for every request)."""
    return {op_id: RequestValidator(spec, op) for op_id, op in spec.operations.items()}


def _top_level_defaults(spec: Spec, pointer: str) -> dict[str, Any]:
    """`{property: default}` of the body schema's own properties, following `$ref`s."""
    schema = _deref_schema(spec.document, resolve_pointer(spec.document, pointer))
    out: dict[str, Any] = {}
    properties = schema.get("properties") if isinstance(schema, dict) else None
    for name, sub in (properties or {}).items():
        sub = _deref_schema(spec.document, sub)
        if isinstance(sub, dict) and "default" in sub:
            out[name] = sub["default"]
    return out


def _deref_schema(document: dict[str, Any], node: Any) -> Any:
    for _ in range(32):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        node = resolve_pointer(document, node["$ref"])
    return node


def _short(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

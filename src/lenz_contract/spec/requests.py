"""Validate an HTTP request against its operation with validators compiled once from the spec.

The mock and the proxy both need the same answer to "is this request what the contract asks
for, and if not, where is it wrong?" in microseconds, so everything an operation needs (its
parameters' schemas, defaults and the body schema) is looked up once per operation here, and a
request is then only coerced, parsed and checked. openapi-core stays the reference; a
differential test keeps the two in agreement (and lists where they knowingly differ).

Parameters are read here once for everyone: the mock validates with these rules and the proxy
reads with them too (`RequestValidator.read_parameters`), so both take `?limit=...` the same
way. Query strings are typed by their parameter schema (`?limit=5` is the integer 5), defaults
come from the spec, and every problem comes back as a located `FieldError` (`query.limit`,
`path.id`, `body.trigger_node.config.cron`).

How a raw string is read (the rules openapi-core is compared with; see the differential test):
- the query is UTF-8 text once percent-decoded (`read_query`), `+` is a space;
- a single-valued parameter given twice is refused (`?page=1&page=2`: which one was meant?);
- an empty query value is refused unless `allowEmptyValue`; an empty path segment is left to
  the parameter's schema (`minLength`), as openapi-core does (see `routing`);
- an integer is an optional `-` and ASCII digits, nothing else: `int()` would also take `1_0`,
  `+1`, ` 10 `, full-width `１０` and Arabic-Indic `١٠`, which no client means as an integer;
- a number is JSON's number syntax (ASCII) and finite; a boolean is `true` or `false`.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias
from urllib.parse import parse_qsl

from .document import follow_refs, resolve_pointer
from .errors import FieldError
from .jsontext import JsonTextError, plain, read_json
from .model import JSON_MEDIA_TYPE, Operation, Parameter, Spec
from .schemas import SchemaValidator

BAD_REQUEST = 400
UNSUPPORTED_MEDIA_TYPE = 415
LOCATIONS = ("path", "query", "header")
"""Where a parameter is read from (cookies are not read)."""

INTEGER_TEXT = re.compile(r"-?[0-9]+")
NUMBER_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
NOT_UTF8_QUERY = "is not UTF-8 text (percent-encoded bytes must spell UTF-8)"


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
    """Strict RFC 8259 JSON with every number kept (`jsontext`): NaN, lone surrogates, non-UTF-8
    bytes and depth > 1024 are refused, so a body that parses here can always be answered."""
    try:
        return read_json(raw).value, None
    except JsonTextError as exc:
        return None, FieldError("body", exc.reason)


def read_query(raw: bytes) -> tuple[list[tuple[str, str]], FieldError | None]:
    """The query string's `(name, value)` pairs, percent-decoded as UTF-8 (`+` is a space).

    Bytes that do not spell UTF-8, raw or percent-encoded, are refused (a located 400 `query`),
    not decoded into U+FFFD and searched for.
    """
    if not raw:
        return [], None
    try:
        text = raw.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict"), None
    except UnicodeDecodeError:
        return [], FieldError("query", NOT_UTF8_QUERY)


@dataclass(frozen=True)
class ParameterProblem:
    """Why a parameter's raw text could not be read: `reason` for the mock's 400, and the
    rule broken with what was expected and given, for the proxy's violation."""

    where: str
    reason: str
    rule: str
    expected: str
    actual: str

    @property
    def error(self) -> FieldError:
        return FieldError(self.where, self.reason)


ReadValue: TypeAlias = "tuple[ParameterRule, Any, ParameterProblem | None]"
"""One declared parameter the request carries (or misses): its rule, its typed value, or the
problem that kept it from being read (the value is then None)."""

ParameterReading: TypeAlias = "tuple[list[ReadValue], dict[str, Any]]"
"""The declared parameters of one request read from their raw strings, in declaration order,
not yet checked against their schemas; and the spec's default of each query parameter left
out. Plain tuples: this runs on every request of the mock."""


def _schema_type(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind if isinstance(kind, str) else None


class ParameterRule:
    """One path, query or header parameter: how its raw text is read, its default and its
    compiled schema (see the module for the reading rules)."""

    def __init__(self, parameter: Parameter, validator: SchemaValidator) -> None:
        self.parameter = parameter
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
        self.key = parameter.name.lower() if parameter.location == "header" else parameter.name
        """The name a request's values are grouped under (header names are case-insensitive)."""

    def read(self, values: Sequence[str]) -> tuple[Any, ParameterProblem | None]:
        """The typed value of the raw strings given for this parameter (form style, explode)."""
        if self.type == "array":
            out = []
            for value in values:
                item, problem = self.read_value(value, self.item_type)
                if problem is not None:
                    return None, problem
                out.append(item)
            return out, None
        if len(values) > 1:
            reason = f"given {len(values)} times; give it once"
            return None, self._problem(reason, "repeated", "one value", f"{len(values)} values")
        return self.read_value(values[0], self.type)

    def read_value(self, value: str, kind: str | None) -> tuple[Any, ParameterProblem | None]:
        """One raw string as `kind` (a JSON-schema type; None or string: the text itself)."""
        if value == "":
            if self.location == "path":  # the schema's to refuse (`minLength`), see `routing`
                return value, None
            if not self.allow_empty:
                return None, self._problem(
                    "must not be empty", "allowEmptyValue", "a non-empty value", '""'
                )
        if kind == "integer":
            if INTEGER_TEXT.fullmatch(value) is None:
                return None, self._not_a(value, "an integer")
            try:
                return int(value), None
            except ValueError:  # more digits than Python converts (4300 by default)
                limit = sys.get_int_max_str_digits()
                return None, self._not_a(value, f"an integer of at most {limit} digits")
        if kind == "number":
            number = float(value) if NUMBER_TEXT.fullmatch(value) else None
            if number is None:
                return None, self._not_a(value, "a number")
            if number in (float("inf"), float("-inf")):
                return None, self._not_a(value, "a finite number")
            return number, None
        if kind == "boolean":
            lowered = value.lower()
            if lowered in ("true", "false"):
                return lowered == "true", None
            return None, self._not_a(value, "true or false")
        return value, None

    def missing(self) -> ParameterProblem:
        return self._problem("is required", "required", "present", "missing")

    def check(self, value: Any) -> list[FieldError]:
        try:
            return self.validator.errors(value, self.where)
        except (ValueError, OverflowError) as exc:  # a value the schema engine cannot represent
            return [FieldError(self.where, f"cannot be checked: {exc}")]

    def _not_a(self, value: str, what: str) -> ParameterProblem:
        return self._problem(f"must be {what}, got {_short(value)}", "type", what, _quoted(value))

    def _problem(self, reason: str, rule: str, expected: str, actual: str) -> ParameterProblem:
        return ParameterProblem(self.where, reason, rule, expected, actual)


class RequestValidator:
    """Everything one operation needs to check a request, compiled once."""

    def __init__(self, spec: Spec, operation: Operation) -> None:
        self.operation = operation
        self.params = [
            ParameterRule(p, spec.validator(p.schema_pointer))
            for p in operation.parameters
            if p.location in LOCATIONS
        ]
        self.path_rules = [p for p in self.params if p.location == "path"]
        self.query_rules = [p for p in self.params if p.location == "query"]
        self.header_rules = [p for p in self.params if p.location == "header"]
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

    def read_parameters(
        self,
        path_params: Mapping[str, str],
        query: Sequence[tuple[str, str]] | None,
        headers: Sequence[tuple[str, str]] | None = None,
    ) -> ParameterReading:
        """Read every declared parameter from the raw request (path, then query, then headers
        when given: header names are case-insensitive). Nothing is checked against a schema.

        `query` None: the query could not be read (`read_query`'s problem, reported by the
        caller); its parameters are then not read, the others still are.
        """
        values: list[ReadValue] = []
        defaults: dict[str, Any] = {}
        for rule in self.path_rules:
            raw = path_params.get(rule.name)
            if raw is None:
                values.append((rule, None, rule.missing()))
            else:
                values.append((rule, *rule.read_value(raw, rule.type)))
        if query is not None and self.query_rules:
            given: dict[str, list[str]] = {}
            for name, value in query:
                given.setdefault(name, []).append(value)
            self._read(self.query_rules, given, values, defaults)
        if headers is not None and self.header_rules:
            sent: dict[str, list[str]] = {}
            for name, value in headers:
                sent.setdefault(name.lower(), []).append(value)
            self._read(self.header_rules, sent, values, defaults)
        return values, defaults

    @staticmethod
    def _read(
        rules: list[ParameterRule],
        given: Mapping[str, list[str]],
        values: list[ReadValue],
        defaults: dict[str, Any],
    ) -> None:
        """Read named (query or header) parameters from their raw values, grouped by `key`."""
        for rule in rules:
            raw = given.get(rule.key)
            if raw is not None:
                values.append((rule, *rule.read(raw)))
            elif rule.required:
                values.append((rule, None, rule.missing()))
            elif rule.has_default:
                defaults[rule.name] = rule.default

    def validate(
        self,
        *,
        path_params: Mapping[str, str],
        query: Sequence[tuple[str, str]] | None,
        content_type: str | None = None,
        body: bytes | None = None,
        headers: Sequence[tuple[str, str]] | None = None,
    ) -> RequestVerdict:
        """Check path, query (headers when given) and body; every problem is reported, not only
        the first (`query` None: see `read_parameters`)."""
        verdict = RequestVerdict()
        errors = verdict.errors
        values, defaults = self.read_parameters(path_params, query, headers)
        for rule, value, problem in values:
            if problem is not None:
                errors.append(problem.error)
                continue
            found = rule.check(value)
            if found:
                errors += found
            elif rule.location == "path":
                verdict.path[rule.name] = value
            elif rule.location == "query":
                verdict.query[rule.name] = value
        if defaults:
            verdict.query.update(defaults)
        status = BAD_REQUEST
        if self.takes_body:
            status = self._check_body(content_type, body, verdict)
        if errors:
            verdict.status = status
        return verdict

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
        try:
            value, exact_numbers = read_json(body)
        except JsonTextError as exc:
            verdict.errors.append(FieldError("body", exc.reason))
            return BAD_REQUEST
        assert self.body_validator is not None
        try:  # jsonschema-rs takes no float subclass: an ExactNumber is checked as its float
            found = self.body_validator.errors(plain(value) if exact_numbers else value, "body")
        except (ValueError, OverflowError) as exc:  # e.g. its recursion limit (255 levels)
            found = [FieldError("body", f"cannot be checked: {exc}")]
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
    schema = follow_refs(spec.document, resolve_pointer(spec.document, pointer))
    out: dict[str, Any] = {}
    properties = schema.get("properties") if isinstance(schema, dict) else None
    for name, sub in (properties or {}).items():
        sub = follow_refs(spec.document, sub)
        if isinstance(sub, dict) and "default" in sub:
            out[name] = sub["default"]
    return out


def _short(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _quoted(value: str) -> str:
    """The raw text as a JSON string, cut to 160 characters (the proxy's `actual`)."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."

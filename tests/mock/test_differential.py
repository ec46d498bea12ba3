"""The compiled request validators (`spec/requests.py`) agree with openapi-core, the reference.

schemathesis generates valid and invalid query strings and bodies for every operation; both
validators judge the same raw request and must both accept or both refuse it. Where the mock
is knowingly stricter than openapi-core the disagreement must be one of `KNOWN_DIVERGENCES`
(each one a decision, not an accident).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from schemathesis.generation import GenerationMode
from werkzeug.datastructures import Headers, ImmutableMultiDict

from lenz_contract.spec import Operation, Spec
from lenz_contract.spec.requests import RequestValidator, compile_request_validators

from ..conftest import load_fixture

pytestmark = pytest.mark.filterwarnings("ignore:Use of allowEmptyValue:DeprecationWarning")


@dataclass
class RawRequest:
    """What both validators see: one HTTP request, bytes and strings only."""

    operation: Operation
    path_params: dict[str, str]
    query: list[tuple[str, str]]
    body: bytes | None = None
    content_type: str | None = None


@dataclass
class ReferenceRequest:
    """An openapi-core request (its `Request` protocol) built from a `RawRequest`."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    host_url: str = "http://mock.test"

    def __post_init__(self) -> None:
        self.method = self.method.lower()
        headers = Headers(list(self.headers.items()))
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(self.query), header=headers, cookie=ImmutableMultiDict()
        )
        self.content_type = headers.get("Content-Type", "application/octet-stream")


@pytest.fixture(scope="module")
def reference(spec: Spec) -> OpenAPI:
    return OpenAPI.from_dict(spec.document)


@pytest.fixture(scope="module")
def compiled(spec: Spec) -> dict[str, RequestValidator]:
    return compile_request_validators(spec)


def reference_accepts(reference: OpenAPI, raw: RawRequest) -> bool:
    path = raw.operation.path
    for name, value in raw.path_params.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    headers = {"Authorization": "Bearer lenz-mock-token"}
    if raw.content_type is not None:
        headers["Content-Type"] = raw.content_type
    request = ReferenceRequest(raw.operation.method, path, raw.query, headers, raw.body)
    try:
        return not list(reference.iter_request_errors(request))
    except RecursionError:  # json.loads on deeply nested input: a crash is not an acceptance
        return False


def compiled_accepts(compiled: dict[str, RequestValidator], raw: RawRequest) -> bool:
    verdict = compiled[raw.operation.operation_id].validate(
        path_params=raw.path_params, query=raw.query, content_type=raw.content_type, body=raw.body
    )
    return verdict.ok


# --- where the mock is knowingly stricter -----------------------------------------------------


def _repeated_parameter(raw: RawRequest) -> bool:
    declared = {p.name for p in raw.operation.query_parameters()}
    names = [name for name, _ in raw.query if name in declared]
    return len(names) != len(set(names))


def _not_strict_json(raw: RawRequest) -> bool:
    if not raw.body:
        return False
    try:
        orjson.loads(raw.body)
    except orjson.JSONDecodeError:
        return True
    return False


def _string_ending_in_newline(raw: RawRequest) -> bool:
    def walk(value: Any) -> bool:
        if isinstance(value, str):
            return value.endswith("\n")
        if isinstance(value, dict):
            return any(walk(v) for v in value.values())
        if isinstance(value, list):
            return any(walk(v) for v in value)
        return False

    try:
        return walk(json.loads(raw.body or b"null"))
    except (ValueError, RecursionError):
        return False


def _integer_not_in_ascii_digits(raw: RawRequest) -> bool:
    """An integer parameter (by its schema) whose text Python's `int()` reads but that is not
    an optional `-` and ASCII digits: `+5`, ` 5 `, `1_0`, `１０`, `١٠`."""
    integers = {
        p.name for p in raw.operation.query_parameters() if p.schema.get("type") == "integer"
    }
    for name, value in raw.query:
        if name in integers and re.fullmatch(r"-?[0-9]+", value) is None:
            try:
                int(value)
            except ValueError:
                continue
            return True
    return False


KNOWN_DIVERGENCES: dict[str, Callable[[RawRequest], bool]] = {
    # openapi-core silently takes the first of `?page=1&page=2`; the mock says which one to drop.
    "a single-valued query parameter given twice": _repeated_parameter,
    # openapi-core parses with json.loads (NaN, Infinity, lone surrogates); the mock takes RFC 8259
    # JSON only, which it can always answer back.
    "a body that is not strict JSON": _not_strict_json,
    # openapi-core casts an integer parameter with Python's `int()`, which also reads `+5`, ` 5 `,
    # `1_0` and non-ASCII digits (`１０`, `١٠`): Python's literal syntax, not how a client writes
    # an integer in a URL. The mock takes `-?[0-9]+` only, and says where (`query.limit: must be
    # an integer, got '1_0'`) instead of guessing what was meant.
    "an integer parameter that is not ASCII digits": _integer_not_in_ascii_digits,
    # Python's `re.search` lets `$` match before a final newline (`"0 0 7 * * *\n"` passes a
    # `^...$` pattern); jsonschema-rs follows ECMA 262, where it does not.
    "a pattern-checked string ending in a newline": _string_ending_in_newline,
}


def assert_agree(
    reference: OpenAPI, compiled: dict[str, RequestValidator], raw: RawRequest
) -> None:
    expected = reference_accepts(reference, raw)
    got = compiled_accepts(compiled, raw)
    if expected == got:
        return
    explained = [name for name, applies in KNOWN_DIVERGENCES.items() if applies(raw)]
    assert not expected or (explained and not got), (
        f"openapi-core {'accepts' if expected else 'refuses'} but the compiled validators "
        f"{'accept' if got else 'refuse'}: {raw!r}"
    )


# --- generated requests -----------------------------------------------------------------------


def _query_pairs(query: Any) -> list[tuple[str, str]]:
    """Form style, explode: lists repeat the key; other values are written as JSON would be."""
    pairs: list[tuple[str, str]] = []
    for name, value in (query or {}).items():
        for item in value if isinstance(value, list) else [value]:
            text = item if isinstance(item, str) else json.dumps(item)
            pairs.append((str(name), text))
    return pairs


def _raw_from_case(operation: Operation, case: Any) -> RawRequest | None:
    body = None
    if operation.request_body_pointer is not None and not isinstance(
        case.body, schemathesis.core.NotSet
    ):
        try:
            body = json.dumps(case.body, allow_nan=False).encode()
        except (TypeError, ValueError):
            return None
    params = {
        str(k): v if isinstance(v, str) else json.dumps(v)
        for k, v in (case.path_parameters or {}).items()
    }
    return RawRequest(
        operation,
        params,
        _query_pairs(case.query),
        body,
        (case.media_type or "application/json") if body is not None else None,
    )


OPERATIONS = [op.operation_id for op in Spec.load().operations.values()]


@pytest.mark.parametrize(
    "mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"]
)
@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_generated_requests_get_the_same_verdict(
    spec: Spec,
    reference: OpenAPI,
    compiled: dict[str, RequestValidator],
    operation_id: str,
    mode: GenerationMode,
) -> None:
    schema = schemathesis.openapi.from_dict(spec.document)
    operation = spec.operation(operation_id)
    strategy = schema[operation.path][operation.method].as_strategy(generation_mode=mode)
    verdicts: list[bool] = []

    @settings(
        max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        raw = _raw_from_case(operation, case)
        if raw is None:
            return
        assert_agree(reference, compiled, raw)
        verdicts.append(compiled_accepts(compiled, raw))

    check()
    assert verdicts, "no request was generated"
    if mode is GenerationMode.POSITIVE:
        assert any(verdicts), "schemathesis' valid requests were all refused"


# --- requests that generators rarely produce ---------------------------------------------------

CREATE = json.dumps(load_fixture("docs/createWorkflow.request.json")).encode()
EDGE_QUERIES = [
    [],
    [("search", "")],
    [("page", "")],
    [("limit", "0")],
    [("limit", " 5")],
    [("limit", "5 ")],
    [("limit", "+5")],
    [("limit", "1_0")],
    [("limit", "\uff11\uff10")],  # full-width 10
    [("limit", "\u0661\u0660")],  # Arabic-Indic 10
    [("limit", "-0")],
    [("limit", "007")],
    [("limit", "5.0")],
    [("limit", "1e1")],
    [("limit", "9" * 30)],
    [("limit", "9" * 5000)],
    [("page", "-1")],
    [("page", "1"), ("page", "2")],
    [("unknown", "x")],
    [("search", "\x00\ufffd")],  # what undecodable query bytes become
]
EDGE_BODIES = [
    (CREATE, "application/json"),
    (CREATE, "application/json; charset=utf-8"),
    (CREATE, "text/plain"),
    (CREATE, None),
    (b"", "application/json"),
    (b"{", "application/json"),
    (b"\xff\xfe", "application/json"),
    (b"[]", "application/json"),
    (b"null", "application/json"),
    (b'{"name": NaN}', "application/json"),
    (b"[" * 3000 + b"]" * 3000, "application/json"),
    (CREATE.replace(b"0 0 7 * * *", b"0 0 7 * * *\\n"), "application/json"),
    (CREATE.replace(b"0 0 7 * * *", b"0 0 7 * *"), "application/json"),
    (CREATE.replace(b'"is_active": true', b'"is_active": 1'), "application/json"),
    (CREATE.replace(b'"caption"', b'"capton"'), "application/json"),
]


@pytest.mark.parametrize("query", EDGE_QUERIES, ids=repr)
def test_edge_queries_get_the_same_verdict(
    spec: Spec,
    reference: OpenAPI,
    compiled: dict[str, RequestValidator],
    query: list[tuple[str, str]],
) -> None:
    for operation_id in ("listWorkflows", "listWorkflowLogs"):
        operation = spec.operation(operation_id)
        params = {"id": "wf-uuid-001"} if "{id}" in operation.path else {}
        assert_agree(reference, compiled, RawRequest(operation, params, query))


@pytest.mark.parametrize(("body", "content_type"), EDGE_BODIES, ids=lambda v: repr(v)[:40])
def test_edge_bodies_get_the_same_verdict(
    spec: Spec,
    reference: OpenAPI,
    compiled: dict[str, RequestValidator],
    body: bytes,
    content_type: str | None,
) -> None:
    for operation_id, params in (("createWorkflow", {}), ("updateWorkflow", {"id": "wf-uuid-001"})):
        raw = RawRequest(spec.operation(operation_id), params, [], body, content_type)
        assert_agree(reference, compiled, raw)


def test_empty_path_parameter_gets_the_same_verdict(
    spec: Spec, reference: OpenAPI, compiled: dict[str, RequestValidator]
) -> None:
    for operation_id in ("getWorkflow", "listWorkflowLogs", "executeWorkflow"):
        assert_agree(reference, compiled, RawRequest(spec.operation(operation_id), {"id": ""}, []))

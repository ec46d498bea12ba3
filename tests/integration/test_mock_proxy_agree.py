"""The mock and the proxy give every request the same verdict.

Both stand on `spec`: one router (`spec.routing`), one parameter reader and one JSON reader
(`spec.requests`, `spec.jsontext`). This test holds them to it at the level where each decides,
in-process: the mock routes with its runtime's router and judges with
`dispatcher.validate_request` (what its dispatcher calls after the token check); the proxy
routes with `FastChecker.route` and judges with `FastChecker.check_request` (given an `Exchange`
built as `proxy.forward` builds it). A verdict is "accepted", "refused" with the set of located
paths, a 405 (`method`) or not in the spec (a 404).

Requests are raw targets (percent-encoded path, raw query bytes, body bytes); the path is decoded
as an ASGI server decodes it before either side sees it. An explicit list of odd requests comes
first, then hypothesis generates more (derandomized: the same requests on every run).

Not compared here: the paths of body *schema* errors, which the two locate differently on
purpose (the mock names the object missing a key, the proxy the key itself; the proxy's
agreement with openapi-core is `tests/proxy/test_validation.py`'s). Bodies here are valid, or
broken where both name the same path.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lenz_contract.mock.dispatcher import validate_request
from lenz_contract.mock.runtime import SpecRuntime
from lenz_contract.proxy.checks import FastChecker
from lenz_contract.proxy.exchange import Exchange
from lenz_contract.spec import Spec

from ..conftest import load_fixture

TOKEN = "lenz-mock-token"
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
GENERATED = 500


@dataclass(frozen=True)
class Target:
    """One request as it arrives: method, percent-encoded path, raw query, body."""

    method: str
    raw_path: str
    query: bytes = b""
    body: bytes = b""
    content_type: str | None = None

    @property
    def path(self) -> str:
        """What an ASGI server puts in `scope["path"]` (uvicorn: `unquote`, UTF-8)."""
        return unquote(self.raw_path)


Verdict = tuple[str, frozenset[str]]
ACCEPTED: Verdict = ("accepted", frozenset())
NOT_IN_SPEC: Verdict = ("not in the spec", frozenset())


@pytest.fixture(scope="module")
def runtime(spec: Spec) -> SpecRuntime:
    return SpecRuntime(spec)


@pytest.fixture(scope="module")
def checker(spec: Spec) -> FastChecker:
    return FastChecker(spec)


def mock_verdict(runtime: SpecRuntime, target: Target) -> Verdict:
    found = runtime.router.match(target.method, target.path)
    if found.operation is None:
        return ("method not allowed", frozenset({"method"})) if found.allowed else NOT_IN_SPEC
    plan = runtime.plans[found.operation.operation_id]
    body = target.body if plan.requests.takes_body else None
    verdict = validate_request(plan, found.params, target.query, target.content_type, body)
    return ACCEPTED if verdict.ok else ("refused", frozenset(e.path for e in verdict.errors))


def proxy_verdict(checker: FastChecker, target: Target) -> Verdict:
    query_string = target.query.decode("latin-1")  # as proxy.forward keeps it
    headers = [("authorization", f"Bearer {TOKEN}")]
    if target.content_type is not None:
        headers.append(("content-type", target.content_type))
    exchange = Exchange(
        id=1,
        time=0.0,
        method=target.method,
        path=target.path,
        query_string=query_string,
        query=parse_qsl(query_string, keep_blank_values=True),
        request_headers=headers,
        request_body=target.body,
        status=200,
        response_headers=[],
        response_body=None,
    )
    route = checker.route(target.method, target.path)
    findings = checker.check_request(exchange, route)
    if route.operation is None:
        return ("method not allowed", frozenset({"method"})) if route.template else NOT_IN_SPEC
    return ACCEPTED if not findings else ("refused", frozenset(f.path for f in findings))


def assert_agree(spec: Spec, runtime: SpecRuntime, checker: FastChecker, target: Target) -> Verdict:
    mine, theirs = mock_verdict(runtime, target), proxy_verdict(checker, target)
    assert mine == theirs, f"mock {mine} but proxy {theirs}: {target}"
    # ... and both routed it as `Spec.match` (the conformance suite's router) does.
    op, params, allowed = spec.match(target.method, target.path)
    route = checker.route(target.method, target.path)
    assert (op, params, tuple(allowed)) == (route.operation, route.path_params, route.allowed)
    return mine


# --- the odd requests -------------------------------------------------------------------------

CREATE: dict[str, Any] = load_fixture("docs/createWorkflow.request.json")


def create_body(**changes: Any) -> bytes:
    body = copy.deepcopy(CREATE)
    body.update(changes)
    return json.dumps(body).encode()


def with_numbers() -> bytes:
    body = copy.deepcopy(CREATE)
    body["nodes"].append({"id": "n", "type": "custom", "name": "c", "config": "@"})
    config = '{"n": 1180591620717411303424, "x": 0.1000000000000000055511151231257827}'
    return json.dumps(body).replace('"@"', config).encode()


ODD_QUERIES = [
    b"",
    b"limit=1&limit=2",
    b"page=1&page=2",
    b"search=a&search=b",
    b"search=",
    b"limit=",
    b"page=",
    b"limit",  # no `=`: an empty value
    b"limit=1_0",
    b"limit=%2B1",  # +1
    b"limit=+1",  # form encoding: ` 1`
    b"limit=%2010",
    b"limit=10%20",
    b"limit=%20",
    b"limit=%EF%BC%91%EF%BC%90",  # full-width 10
    b"limit=%D9%A1%D9%A0",  # Arabic-Indic 10
    b"limit=%E0%A5%A7",  # Devanagari 1
    b"limit=" + b"9" * 40,
    b"page=" + b"9" * 5000,
    b"limit=-0",
    b"limit=007",
    b"limit=0",
    b"limit=101",
    b"limit=1.0",
    b"limit=1e1",
    b"limit=0x10",
    b"limit=%00",
    b"limit=5;page=2",
    b"limit=10&unknown=x",
    b"&&limit=5&",
    b"=5",
    b"search=%FF",  # not UTF-8
    b"search=\xff",
    b"search=%C3%A9&limit=2",
    b"search=a%26b&page=2",
]
ODD_PATHS = [
    "/api/workflows",
    "/api/workflows/",  # trailing slash: the item path with an empty id
    "/api/workflows//logs",
    "/api/workflows//execute",
    "/api/workflows/wf-uuid-001",
    "/api/workflows/wf-uuid-001/",
    "/api/workflows/wf-uuid-001/logs/",
    "/api/workflows/a%2Fb",  # `%2F` is decoded before routing: a separator
    "/api/workflows/a%2Fb/logs",
    "/api/workflows/%2F/logs",
    "/api/workflows/%20",
    "/api/workflows/%E2%9C%93/logs",
    "/api/workflows/%FF",
    "/api/workflows/x/y/z",
    "/API/workflows",
    "/api/nothing",
]
ODD_BODIES: list[tuple[bytes, str | None]] = [
    (create_body(), "application/json"),
    (with_numbers(), "application/json"),
    (create_body(), "application/json; charset=utf-8"),
    (create_body(), "text/plain"),
    (create_body(), None),
    (b"", "application/json"),
    (b"{", "application/json"),
    (b'{"name": NaN}', "application/json"),
    (b'{"name": "\\ud800"}', "application/json"),
    (b'{"name": "\xff"}', "application/json"),
    (b"[" * 1025 + b"]" * 1025, "application/json"),
    (b'{"n": 1e400}', "application/json"),
    (create_body(is_active="yes"), "application/json"),
    (
        create_body(trigger_node={"type": "schedule", "config": {"cron": "daily"}}),
        "application/json",
    ),
]

ODD: list[Target] = [
    *(Target(m, p, q) for p in ODD_PATHS for m in METHODS for q in (b"", b"limit=1_0")),
    *(
        Target("GET", p, q)
        for q in ODD_QUERIES
        for p in ("/api/workflows", "/api/workflows/x/logs")
    ),
    *(Target("POST", "/api/workflows", b"", body, ct) for body, ct in ODD_BODIES),
    *(Target("PUT", "/api/workflows/wf-1", b"page=1", body, ct) for body, ct in ODD_BODIES),
]


def test_odd_requests_get_the_same_verdict(
    spec: Spec, runtime: SpecRuntime, checker: FastChecker
) -> None:
    kinds = Counter(assert_agree(spec, runtime, checker, target)[0] for target in ODD)
    assert len(ODD) >= 250
    assert set(kinds) == {"accepted", "refused", "method not allowed", "not in the spec"}, kinds


@pytest.mark.parametrize(
    ("target", "paths"),
    [
        (Target("GET", "/api/workflows//logs"), {"path.id"}),
        (Target("GET", "/api/workflows/"), {"path.id"}),
        (Target("GET", "/api/workflows", b"limit=1_0"), {"query.limit"}),
        (
            Target("GET", "/api/workflows", b"limit=%2010&page=%D9%A1"),
            {"query.limit", "query.page"},
        ),
        (Target("GET", "/api/workflows", b"limit=1&limit=2"), {"query.limit"}),
        (Target("GET", "/api/workflows", b"search=%FF"), {"query"}),
    ],
)
def test_the_issue_cases_are_located_400s_on_both_sides(
    runtime: SpecRuntime, checker: FastChecker, target: Target, paths: set[str]
) -> None:
    expected = ("refused", frozenset(paths))
    assert mock_verdict(runtime, target) == proxy_verdict(checker, target) == expected


# --- generated requests -----------------------------------------------------------------------

OPERATIONS = list(Spec.load().operations.values())
SEGMENT = st.text(st.sampled_from("ab-_.~ 1/%é✓٣１"), max_size=6).map(lambda s: quote(s, safe=""))
PATHS = st.one_of(
    st.just("/api/workflows"),
    SEGMENT.map(lambda s: f"/api/workflows/{s}"),
    SEGMENT.map(lambda s: f"/api/workflows/{s}/logs"),
    SEGMENT.map(lambda s: f"/api/workflows/{s}/execute"),
    st.sampled_from(ODD_PATHS),
)
ROUTES = st.one_of(
    # an operation's own method on its path, the parameter one generated (percent-encoded)
    st.sampled_from(OPERATIONS).flatmap(
        lambda op: SEGMENT.map(lambda s: (op.method, re.sub(r"\{[^{}]+\}", s, op.path)))
    ),
    st.tuples(st.sampled_from(METHODS), PATHS),  # any method on any path
)
INTEGER_TEXT = st.one_of(
    st.integers(-5, 150).map(str),
    st.integers(2**63, 2**80).map(str),
    st.sampled_from(["1_0", "+1", " 10", "10 ", "１０", "١٠", "1.0", "", "-0", "0x1", "9" * 5000]),
)
VALUES = st.one_of(INTEGER_TEXT, st.text(max_size=8))
QUERIES = st.one_of(
    st.lists(
        st.tuples(st.sampled_from(["page", "limit", "search", "other"]), VALUES), max_size=4
    ).map(lambda pairs: urlencode(pairs).encode()),
    st.sampled_from(ODD_QUERIES),
)
BODIES = st.sampled_from(ODD_BODIES)


def test_generated_requests_get_the_same_verdict(
    spec: Spec, runtime: SpecRuntime, checker: FastChecker
) -> None:
    kinds: Counter[str] = Counter()

    @settings(
        max_examples=GENERATED,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(route=ROUTES, query=QUERIES, body=BODIES)
    def check(route: tuple[str, str], query: bytes, body: tuple[bytes, str | None]) -> None:
        target = Target(*route, query, *body)
        kinds[assert_agree(spec, runtime, checker, target)[0]] += 1

    check()
    assert sum(kinds.values()) >= GENERATED
    assert set(kinds) == {"accepted", "refused", "method not allowed", "not in the spec"}, kinds

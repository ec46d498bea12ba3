"""`spec/routing.py`: the one router of `Spec.match`, the mock and the proxy."""

from __future__ import annotations

from typing import Any

import pytest

from lenz_contract.spec import Spec, View
from lenz_contract.spec.routing import NO_MATCH, Router, template_regex


def operation_id(spec: Spec, method: str, path: str) -> str | None:
    op = spec.router.match(method, path).operation
    return op.operation_id if op is not None else None


@pytest.mark.parametrize(
    ("method", "path", "expected", "params"),
    [
        ("GET", "/api/workflows", "listWorkflows", {}),
        ("POST", "/api/workflows", "createWorkflow", {}),
        ("GET", "/api/workflows/wf-1", "getWorkflow", {"id": "wf-1"}),
        ("PUT", "/api/workflows/wf-1", "updateWorkflow", {"id": "wf-1"}),
        ("DELETE", "/api/workflows/wf-1", "deleteWorkflow", {"id": "wf-1"}),
        ("POST", "/api/workflows/wf-1/execute", "executeWorkflow", {"id": "wf-1"}),
        ("GET", "/api/workflows/wf-1/logs", "listWorkflowLogs", {"id": "wf-1"}),
        ("get", "/api/workflows/wf 1 ü", "getWorkflow", {"id": "wf 1 ü"}),  # decoded path
        # An empty segment is a parameter, for its schema to refuse (a located 400, not a 404).
        ("GET", "/api/workflows//logs", "listWorkflowLogs", {"id": ""}),
        ("POST", "/api/workflows//execute", "executeWorkflow", {"id": ""}),
        ("GET", "/api/workflows/", "getWorkflow", {"id": ""}),
    ],
)
def test_every_operation_is_found_with_its_raw_parameters(
    spec: Spec, method: str, path: str, expected: str, params: dict[str, str]
) -> None:
    found = spec.router.match(method, path)
    assert found.operation is not None and found.operation.operation_id == expected
    assert dict(found.params) == params
    assert found.template == found.operation.path


@pytest.mark.parametrize(
    "path",
    [
        "/api/nothing",
        "/api/workflows/a/b",  # `%2F` in an id arrives decoded: a separator, not part of the id
        "/api/workflows/a/b/logs",
        "/api/workflows/wf-1/logs/",
        "/api/workflows/wf-1/execute/x",
        "api/workflows",
        "/api/workflows?limit=1",  # the router is given a path, never a query
        "",
    ],
)
def test_paths_outside_the_spec_match_nothing(spec: Spec, path: str) -> None:
    assert spec.router.match("GET", path) == NO_MATCH
    assert spec.match("GET", path) == (None, {}, [])


def test_a_known_path_with_another_method_names_the_allowed_ones(spec: Spec) -> None:
    found = spec.router.match("PATCH", "/api/workflows/wf-1")
    assert found.operation is None and found.template == "/api/workflows/{id}"
    assert found.allowed == ("GET", "PUT", "DELETE")
    # A trailing slash is the item path with an empty id: POST there is a 405, not a create.
    assert spec.router.match("POST", "/api/workflows/").allowed == ("GET", "PUT", "DELETE")
    assert spec.router.match("DELETE", "/api/workflows").allowed == ("GET", "POST")


def test_spec_match_returns_what_its_docstring_says(spec: Spec) -> None:
    """The operation, its path parameters, and every method the path allows (not only the
    methods tried before the one that matched)."""
    op, params, allowed = spec.match("GET", "/api/workflows/wf-1")
    assert op is not None and op.operation_id == "getWorkflow"
    assert params == {"id": "wf-1"} and allowed == ["GET", "PUT", "DELETE"]
    op, params, allowed = spec.match("PATCH", "/api/workflows/wf-1")
    assert op is None and params == {} and allowed == ["GET", "PUT", "DELETE"]
    params["id"] = "changed"  # a fresh dict: the router's own state is not shared
    assert spec.match("GET", "/api/workflows")[1] == {}


def test_every_view_routes_the_same(spec: Spec) -> None:
    for view in (View.DOCS, View.STRICT):
        derived = spec.as_view(view)
        assert derived.router is not spec.router
        assert operation_id(derived, "GET", "/api/workflows//logs") == "listWorkflowLogs"


def document(paths: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            path: {
                method: {
                    "operationId": f"{method} {path}",
                    "responses": {"200": {"description": ""}},
                }
                for method in methods
            }
            for path, methods in paths.items()
        },
    }


def test_a_static_path_wins_over_a_template_whatever_the_order() -> None:
    spec = Spec(document({"/a/{x}": ["get"], "/a/b": ["get"], "/a/{x}/c": ["post"]}))
    assert operation_id(spec, "GET", "/a/b") == "get /a/b"
    assert operation_id(spec, "GET", "/a/z") == "get /a/{x}"
    assert dict(spec.router.match("POST", "/a/b/c").params) == {"x": "b"}


def test_templates_with_any_parameter_names_and_regex_characters() -> None:
    regex, names = template_regex("/v1.0/{workflow-id}/runs/{run.id}+(x)")
    assert names == ("workflow-id", "run.id")
    found = regex.match("/v1.0/w 1/runs/r-2+(x)")
    assert found is not None and found.groups() == ("w 1", "r-2")
    assert regex.match("/v1x0/w/runs/r+(x)") is None  # `.` is literal
    assert regex.match("/v1.0/w/runs/r+(x)\n") is None  # no `$`-before-newline
    router = Router(Spec(document({"/v1.0/{workflow-id}": ["get"]})).operations.values())
    assert dict(router.match("GET", "/v1.0/").params) == {"workflow-id": ""}

"""The shipped contract: complete, valid, documented, and honest about provenance."""

from __future__ import annotations

import pytest

from lenz_contract.spec import SHIPPED_SPEC_PATH, Spec, View
from lenz_contract.spec.checks import check_document

from ..conftest import REPO

DOCUMENTED_OPERATIONS = {
    "listWorkflows": ("GET", "/api/workflows"),
    "createWorkflow": ("POST", "/api/workflows"),
    "getWorkflow": ("GET", "/api/workflows/{id}"),
    "updateWorkflow": ("PUT", "/api/workflows/{id}"),
    "deleteWorkflow": ("DELETE", "/api/workflows/{id}"),
    "executeWorkflow": ("POST", "/api/workflows/{id}/execute"),
    "listWorkflowLogs": ("GET", "/api/workflows/{id}/logs"),
}


def test_shipped_spec_is_the_repository_spec() -> None:
    assert SHIPPED_SPEC_PATH.read_bytes() == (REPO / "openapi" / "lenz-workflows.yaml").read_bytes()


def test_shipped_spec_has_no_problems(spec: Spec) -> None:
    assert check_document(spec.document, spec) == []


def test_spec_is_openapi_3_1(spec: Spec) -> None:
    assert spec.document["openapi"] == "3.1.0"


def test_every_documented_operation_is_there(spec: Spec) -> None:
    found = {op_id: (op.method, op.path) for op_id, op in spec.operations.items()}
    assert found == DOCUMENTED_OPERATIONS


@pytest.mark.parametrize("operation_id", sorted(DOCUMENTED_OPERATIONS))
def test_every_operation_needs_the_bearer_token(spec: Spec, operation_id: str) -> None:
    op = spec.operation(operation_id)
    assert op.security_schemes == ("bearerAuth",)
    scheme = spec.document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


@pytest.mark.parametrize(
    ("operation_id", "name", "default"),
    [
        ("listWorkflows", "page", 1),
        ("listWorkflows", "limit", 10),
        ("listWorkflowLogs", "page", 1),
        ("listWorkflowLogs", "limit", 10),
    ],
)
def test_paging_parameters_have_documented_defaults(
    spec: Spec, operation_id: str, name: str, default: int
) -> None:
    param = spec.operation(operation_id).parameter(name)
    assert param is not None and param.default == default and param.schema["type"] == "integer"


def test_search_is_an_optional_string_that_may_be_empty(spec: Spec) -> None:
    param = spec.operation("listWorkflows").parameter("search")
    assert param is not None and not param.required and param.allow_empty
    assert param.schema["type"] == "string"


@pytest.mark.parametrize(
    "operation_id",
    ["getWorkflow", "updateWorkflow", "deleteWorkflow", "executeWorkflow", "listWorkflowLogs"],
)
def test_id_is_an_opaque_string_path_parameter(spec: Spec, operation_id: str) -> None:
    param = spec.operation(operation_id).parameter("id", "path")
    assert param is not None and param.required and param.schema["type"] == "string"
    assert "format" not in param.schema  # the docs say UUID but show wf-uuid-001


def test_create_admits_200_and_201_with_links_to_every_follow_up(spec: Spec) -> None:
    op = spec.operation("createWorkflow")
    assert op.success_statuses() == [200, 201]
    for status in ("200", "201"):
        links = op.responses[status].links
        targets = {link["operationId"] for link in links.values()}
        assert targets == {
            "getWorkflow",
            "updateWorkflow",
            "deleteWorkflow",
            "executeWorkflow",
            "listWorkflowLogs",
        }
        assert all(
            link["parameters"] == {"id": "$response.body#/data/id"} for link in links.values()
        )


@pytest.mark.parametrize("operation_id", sorted(DOCUMENTED_OPERATIONS))
def test_errors_use_the_error_envelope(spec: Spec, operation_id: str) -> None:
    op = spec.operation(operation_id)
    for status, response in op.responses.items():
        if not status.startswith("2"):
            assert response.schema_pointer is not None
            assert spec.validator(response.schema_pointer).is_valid(
                {"ok": False, "message": "invalid request"}
            )
            assert not spec.validator(response.schema_pointer).is_valid(
                {"ok": True, "message": "x"}
            )
    # Explicit statuses only (no `4XX` range: orval 7 cannot compile one); the docs view adds it.
    assert "401" in op.responses and not [s for s in op.responses if not s.isdigit()]
    assert "4XX" in spec.as_view(View.DOCS).operation(operation_id).responses


@pytest.mark.parametrize("operation_id", sorted(DOCUMENTED_OPERATIONS))
def test_provenance_is_marked_on_operations_and_responses(spec: Spec, operation_id: str) -> None:
    op = spec.operation(operation_id)
    assert op.source == "documented"
    for response in op.responses.values():
        assert response.source in ("documented", "inferred")
        if response.source == "inferred":
            assert response.reason


def test_success_messages_are_the_documented_ones(spec: Spec) -> None:
    messages = {
        op_id: spec.operation(op_id).responses["200"].message for op_id in DOCUMENTED_OPERATIONS
    }
    assert messages == {
        "listWorkflows": "success",
        "createWorkflow": "workflow created successfully",
        "getWorkflow": "success",
        "updateWorkflow": "workflow updated successfully",
        "deleteWorkflow": "workflow deleted successfully",
        "executeWorkflow": "workflow executed successfully",
        "listWorkflowLogs": "success",
    }


def test_responses_admit_extra_fields(
    spec: Spec,
) -> None:
    from ..conftest import load_fixture

    answer = load_fixture("docs/getWorkflow.response.json")
    answer["request_id"] = "r-1"
    answer["data"]["owner"] = "someone"
    answer["data"]["nodes"][0]["retries"] = 3
    pointer = spec.operation("getWorkflow").responses["200"].schema_pointer
    assert pointer and spec.validator(pointer).errors(answer, "response") == []


def test_strict_overlay_narrows_only_the_strict_profile(spec: Spec) -> None:
    answer = {
        "ok": True,
        "message": "workflow executed successfully",
        "data": {
            "id": "e",
            "workflow_id": "w",
            "trigger_type": "webhook",
            "status": "running",
            "started_at": "2025-04-30T07:00:00Z",
            "finished_at": None,
            "node_results": [],
            "error": None,
            "triggered_by": "u",
        },
    }
    pointer = spec.operation("executeWorkflow").responses["200"].schema_pointer
    assert pointer
    assert spec.validator(pointer).errors(answer) == []
    strict_paths = {
        e.path for e in spec.validator(pointer, view=View.STRICT).errors(answer, "response")
    }
    assert strict_paths == {"response.data.trigger_type", "response.data.status"}


def test_operation_matching_by_method_and_path(spec: Spec) -> None:
    op, params, _ = spec.match("POST", "/api/workflows/wf-1/execute")
    assert op is not None and op.operation_id == "executeWorkflow" and params == {"id": "wf-1"}
    op, _, allowed = spec.match("PATCH", "/api/workflows/wf-1")
    assert op is None and sorted(allowed) == ["DELETE", "GET", "PUT"]
    assert spec.match("GET", "/api/nothing")[0] is None

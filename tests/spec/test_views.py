"""The three views: the docs view keeps no inferred constraint, the strict view adds the overlays.

The docs view is what the docs profile asserts, so "invalid" there must mean invalid by what
the docs state: malformed bodies and documented fields of another JSON type, nothing else.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lenz_contract.spec import Spec, View
from lenz_contract.spec.document import resolve_pointer
from lenz_contract.spec.provenance import ADMITS, INFERRED_KEYS, statements

from ..conftest import load_fixture

BODY = "#/paths/~1api~1workflows/post/requestBody/content/application~1json/schema"
ERROR = "#/components/schemas/ErrorEnvelope"
WORKFLOW_PAGE = "#/components/schemas/WorkflowPage"
EXECUTION = "#/components/schemas/Execution"


def create_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = load_fixture("docs/createWorkflow.request.json")
    body.update(changes)
    return body


def test_the_docs_view_keeps_no_inferred_key(spec: Spec) -> None:
    docs = spec.as_view(View.DOCS).document
    left = []
    for statement in statements(spec.document):
        if statement.key is None:
            continue
        parent_pointer = statement.pointer.rsplit("/", 1)[0]
        try:
            parent = resolve_pointer(docs, parent_pointer)
        except KeyError:
            continue  # the whole object went (an inferred response body)
        named_by = parent.get(INFERRED_KEYS) or {}
        if statement.key in named_by and statement.key in parent:
            left.append(statement.pointer)
    assert left == []


def test_the_docs_view_keeps_what_only_admits_more(spec: Spec) -> None:
    docs = spec.as_view(View.DOCS)
    admitted = [s for s in statements(spec.document) if s.key is not None]
    kept = [
        s.pointer
        for s in admitted
        if s.key in (resolve_pointer(spec.document, s.pointer.rsplit("/", 1)[0]).get(ADMITS) or {})
    ]
    assert len(kept) >= 6
    assert all(resolve_pointer(docs.document, p) is not None for p in kept)


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        (create_body(), True),
        (create_body(name=5), False),
        (create_body(nodes="x"), False),
        (create_body(is_active="no"), False),
        (create_body(trigger_node=7), False),
        ([create_body()], False),
        ("a workflow", False),
        (create_body(name=None), True),  # null: strict only
        (create_body(name=""), True),  # empty strings: strict only
        ({k: v for k, v in create_body().items() if k != "name"}, True),  # missing: strict only
        (create_body(colour="red"), True),  # extra properties: strict only
        (create_body(trigger_node={"type": "schedule", "config": {"cron": "7am"}}), True),
        (create_body(nodes=[{"id": "a", "type": "new_kind", "name": "x", "config": {}}] * 2), True),
        (create_body(nodes=[{"id": "a", "type": "event_history_export", "config": {}}]), True),
        (None, True),  # Go's encoding/json reads a null body as "nothing sent"
    ],
)
def test_the_docs_view_refuses_only_what_the_docs_make_wrong(
    spec: Spec, body: Any, valid: bool
) -> None:
    assert spec.validator(BODY, view=View.DOCS).is_valid(body) is valid


def test_the_contract_still_refuses_what_the_mock_refuses(spec: Spec) -> None:
    for body in (create_body(name=None), create_body(name=""), create_body(colour="red")):
        assert not spec.validator(BODY).is_valid(body)


def test_the_docs_view_asks_nothing_of_the_mocks_error_detail(spec: Spec) -> None:
    shapes: list[Any] = ["name is wrong", {"name": "bad"}, [1, 2], None]
    for errors in shapes:
        body = {"ok": False, "message": "invalid request", "errors": errors}
        assert spec.validator(ERROR, view=View.DOCS).is_valid(body)
        assert spec.validator(ERROR).is_valid(body) is False


def test_the_docs_view_lets_a_token_refusal_carry_any_body(spec: Spec) -> None:
    for op in spec.as_view(View.DOCS).operations.values():
        unauthorized, forbidden, bad = (op.response_for(s) for s in (401, 403, 400))
        assert unauthorized is not None and unauthorized.schema_pointer is None
        assert forbidden is not None and forbidden.schema_pointer is None
        assert bad is not None and bad.schema_pointer
        assert op.response_for(202) is not None  # any 2xx with the documented body


def test_the_docs_view_admits_null_for_optional_answer_fields(spec: Spec) -> None:
    page = load_fixture("docs/listWorkflows.response.json")
    page["data"][0]["description"] = None
    page["data"][0]["trigger_node"]["config"] = None
    assert spec.validator(WORKFLOW_PAGE, view=View.DOCS).is_valid(page)
    page["data"][0]["name"] = None  # required: stays a string
    assert not spec.validator(WORKFLOW_PAGE, view=View.DOCS).is_valid(page)


def test_the_strict_view_adds_the_overlays(spec: Spec) -> None:
    run = copy.deepcopy(load_fixture("docs/executeWorkflow.response.json")["data"])
    assert spec.validator(EXECUTION, view=View.STRICT).is_valid(run)
    offset = {**run, "started_at": "2025-04-30T14:00:00.250+07:00"}
    running = {**run, "status": "running", "finished_at": None}
    for variant in (offset, running):
        assert spec.validator(EXECUTION).is_valid(variant)
        assert spec.validator(EXECUTION, view=View.DOCS).is_valid(variant)
        assert not spec.validator(EXECUTION, view=View.STRICT).is_valid(variant)


def test_deriving_a_view_leaves_the_contract_as_written(spec: Spec) -> None:
    before = copy.deepcopy(spec.document)
    spec.as_view(View.DOCS)
    spec.as_view(View.STRICT)
    assert spec.document == before
    assert spec.as_view(View.DOCS).as_view(View.CONTRACT) is spec

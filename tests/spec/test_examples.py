"""Every documented example and fixture validates; wrong payloads are refused with a located reason."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st

from lenz_contract.spec import FIXTURES_DIR, Spec, View
from lenz_contract.spec.examples import check_examples

from ..conftest import FIXTURES, load_fixture

DOCS_PAYLOADS = sorted(p.name for p in (FIXTURES / "docs").glob("*.json"))


def test_shipped_fixtures_are_the_repository_fixtures() -> None:
    shipped = sorted(p.relative_to(FIXTURES_DIR).as_posix() for p in FIXTURES_DIR.glob("*/*.json"))
    repo = sorted(p.relative_to(FIXTURES).as_posix() for p in FIXTURES.glob("*/*.json"))
    assert shipped == repo and len(repo) >= 13


def test_every_example_and_fixture_validates(spec: Spec) -> None:
    results = check_examples(spec)
    assert [r.name for r in results if not r.ok] == []
    names = {r.name for r in results}
    assert {
        "createWorkflow request example 'docs'",
        "updateWorkflow request example 'docs'",
    } <= names
    assert len([n for n in names if n.startswith("docs/")]) == len(DOCS_PAYLOADS)


def test_every_docs_payload_is_a_named_example_of_its_operation(spec: Spec) -> None:
    """Nine payloads in the docs are requests or success answers; each sits on its operation."""
    for name in DOCS_PAYLOADS:
        op_id, _, kind = name.removesuffix(".json").partition(".")
        payload = load_fixture(f"docs/{name}")
        if op_id == "error":
            op = spec.operation("listWorkflows")
            assert payload in op.responses["400"].examples.values()
            continue
        op = spec.operation(op_id)
        if kind == "request":
            assert payload in op.request_examples.values()
        else:
            status = str(op.success_statuses()[-1])
            assert payload in op.responses[status].examples.values()


@pytest.mark.parametrize("name", [n for n in DOCS_PAYLOADS if n.endswith(".request.json")])
def test_docs_request_bodies_are_accepted(spec: Spec, name: str) -> None:
    op = spec.operation(name.split(".")[0])
    assert op.request_body_pointer
    assert spec.validator(op.request_body_pointer).errors(load_fixture(f"docs/{name}")) == []


def _create_body() -> dict[str, Any]:
    body: dict[str, Any] = load_fixture("docs/createWorkflow.request.json")
    return body


@pytest.mark.parametrize(
    ("mutate", "path", "reason_part"),
    [
        (
            lambda b: b["trigger_node"]["config"].update(cron="0 7 * * *"),
            "body.trigger_node.config.cron",
            "CronExpression",
        ),
        (lambda b: b.pop("name"), "body", '"name" is a required property'),
        (lambda b: b.update(is_active="yes"), "body.is_active", 'not of type "boolean"'),
        (
            lambda b: b["nodes"][1]["config"].pop("credential_id"),
            "body.nodes[1].config",
            '"credential_id" is a required property',
        ),
        (
            lambda b: b["nodes"][0]["config"].update(date_range=7),
            "body.nodes[0].config.date_range",
            'not of type "string"',
        ),
        (lambda b: b.update(colour="red"), "body", "'colour' was unexpected"),
        (
            lambda b: b["trigger_node"].pop("config"),
            "body.trigger_node",
            '"config" is a required property',
        ),
        (lambda b: b["nodes"].append("node"), "body.nodes[2]", 'not of type "object"'),
    ],
)
def test_wrong_payloads_are_refused_with_their_place(
    spec: Spec, mutate: Any, path: str, reason_part: str
) -> None:
    body = _create_body()
    mutate(body)
    pointer = spec.operation("createWorkflow").request_body_pointer
    assert pointer
    errors = spec.validator(pointer).errors(body)
    assert any(e.path == path and reason_part in e.reason for e in errors), errors


def test_unknown_node_and_trigger_types_are_refused_by_the_contract_admitted_by_the_docs(
    spec: Spec,
) -> None:
    """The contract closes node and trigger types (typed configs for generated clients); the
    docs do not close the list, so the docs view admits any type with an object config."""
    body = _create_body()
    body["trigger_node"] = {"type": "webhook", "config": {"secret": "s"}}
    body["nodes"].append(
        {"id": "n3", "type": "http_request", "name": "Call", "config": {"url": "u", "x": [1]}}
    )
    pointer = spec.operation("createWorkflow").request_body_pointer
    assert pointer
    assert [str(e) for e in spec.validator(pointer).errors(body)] == [
        'body.trigger_node.type: "webhook" is not one of "schedule"',
        'body.nodes[2].type: "http_request" is not one of "event_history_export" or '
        '"telegram_send_attachment"',
    ]
    assert spec.validator(pointer, view=View.DOCS).errors(body) == []
    body["nodes"][2]["config"] = "url=u"  # the docs show every config as an object
    assert [e.path for e in spec.validator(pointer, view=View.DOCS).errors(body)] == [
        "body.nodes[2].config"
    ]


def test_documented_answers_that_drop_fields_are_accepted(spec: Spec) -> None:
    """The docs' update answer has `nodes: []` and no description: a response schema must allow it."""
    answer = load_fixture("docs/updateWorkflow.response.json")
    assert "description" not in answer["data"] and answer["data"]["nodes"] == []
    pointer = spec.operation("updateWorkflow").responses["200"].schema_pointer
    assert pointer and spec.validator(pointer).errors(answer) == []


def test_a_wrong_answer_is_refused_with_its_place(spec: Spec) -> None:
    answer = copy.deepcopy(load_fixture("docs/listWorkflows.response.json"))
    answer["data"][0]["created_at"] = "yesterday"
    del answer["total_page"]
    pointer = spec.operation("listWorkflows").responses["200"].schema_pointer
    assert pointer
    paths = {e.path for e in spec.validator(pointer).errors(answer, "response")}
    assert paths == {"response.data[0].created_at", "response"}


def test_a_broken_fixture_folder_is_reported(spec: Spec, tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "seed").mkdir()
    body = _create_body()
    body["nodes"][0]["config"]["date_range"] = 1
    (tmp_path / "docs" / "createWorkflow.request.json").write_text(__import__("json").dumps(body))
    (tmp_path / "seed" / "workflows.json").write_text("{not json")
    failed = {r.name: r.errors for r in check_examples(spec, tmp_path) if not r.ok}
    assert failed["docs/createWorkflow.request.json"][0].path == "body.nodes[0].config.date_range"
    assert "not valid JSON" in failed["seed/workflows.json"][0].reason


def _cron_pattern(spec: Spec) -> str:
    pattern: str = spec.document["components"]["schemas"]["CronExpression"]["pattern"]
    return pattern


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_every_cron_the_spec_admits_is_a_valid_six_field_cron(
    spec: Spec, data: st.DataObject
) -> None:
    expression = data.draw(st.from_regex(_cron_pattern(spec)))
    assert croniter.is_valid(expression, second_at_beginning=True), expression


@pytest.mark.parametrize(
    "expression",
    [
        "0 0 7 * * *",
        "*/15 * * * * *",
        "0 30 8 ? * MON-FRI",
        "0 0 0 1,15 JAN-JUN *",
        "59 59 23 31 12 7",
    ],
)
def test_common_crons_are_admitted(spec: Spec, expression: str) -> None:
    validator = spec.validator("#/components/schemas/CronExpression")
    assert validator.is_valid(expression)


@pytest.mark.parametrize(
    "expression",
    [
        "0 7 * * *",
        "0 0 7 * * * *",
        "60 0 7 * * *",
        "0 0 24 * * *",
        "0 0 7 0 * *",
        "0 0 7 * 13 *",
        "a b c d e f",
        "0 0 7 * * *\n",
        "0  0 7 * * *",
        "*/0 * * * * *",
    ],
)
def test_wrong_crons_are_refused(spec: Spec, expression: str) -> None:
    assert not spec.validator("#/components/schemas/CronExpression").is_valid(expression)

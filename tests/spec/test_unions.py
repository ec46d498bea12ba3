"""Node and trigger types as discriminated unions: precise errors, and what each view admits.

The contract closes node and trigger types (`oneOf` with a `discriminator` on `type`, marked
inferred); the compiled validators report the errors of the branch `type` names, never
jsonschema's "not valid under any of the schemas"; the docs view drops the unions (any type with
an object config) and admits any 4xx with the documented error body.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lenz_contract.spec import Spec, View
from lenz_contract.spec.schemas import compile_validator, discriminated_union

from ..conftest import load_fixture

BODY = "#/paths/~1api~1workflows/post/requestBody/content/application~1json/schema"
NODE = "#/components/schemas/ActionNodeInput"
TRIGGER = "#/components/schemas/TriggerNodeInput"


def create_body() -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(load_fixture("docs/createWorkflow.request.json"))
    return body


def errors_of(spec: Spec, body: Any, view: View | None = None) -> list[str]:
    return [str(e) for e in spec.validator(BODY, view=view).errors(body)]


def test_the_unions_are_read_from_the_spec(spec: Spec) -> None:
    node = discriminated_union(spec.document, spec.schema_at(NODE), "oneOf")
    trigger = discriminated_union(spec.document, spec.schema_at(TRIGGER), "oneOf")
    assert node is not None and trigger is not None
    assert (node.property, dict(node.branches)) == (
        "type",
        {"event_history_export": 0, "telegram_send_attachment": 1},
    )
    assert (trigger.property, dict(trigger.branches)) == ("type", {"schedule": 0})


def test_the_unions_are_an_inferred_decision(spec: Spec) -> None:
    for pointer in (NODE, TRIGGER):
        inferred = spec.schema_at(pointer)["x-lenz-inferred"]
        assert {"oneOf", "discriminator"} <= set(inferred)
        assert "docs view" in inferred["oneOf"]


def _drop(path: list[Any]) -> Any:
    def mutate(body: dict[str, Any]) -> None:
        node: Any = body
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return mutate


def _set(path: list[Any], value: Any) -> Any:
    def mutate(body: dict[str, Any]) -> None:
        node: Any = body
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            _drop(["nodes", 0, "config", "date_range"]),
            ['body.nodes[0].config: "date_range" is a required property'],
        ),
        (
            _set(["nodes", 0, "config", "analytic_typo"], "FR"),
            [
                "body.nodes[0].config: Additional properties are not allowed ('analytic_typo' was unexpected)"
            ],
        ),
        (
            _drop(["nodes", 1, "config", "credential_id"]),
            ['body.nodes[1].config: "credential_id" is a required property'],
        ),
        (
            _set(["nodes", 1, "type"], "webhook_post"),
            [
                'body.nodes[1].type: "webhook_post" is not one of "event_history_export" or '
                '"telegram_send_attachment"'
            ],
        ),
        (_drop(["nodes", 1, "type"]), ['body.nodes[1]: "type" is a required property']),
        (_set(["nodes", 1], "node"), ['body.nodes[1]: "node" is not of type "object"']),
        (_set(["nodes", 0, "id"], ""), ['body.nodes[0].id: "" is shorter than 1 character']),
        (
            _set(["trigger_node", "type"], "webhook"),
            ['body.trigger_node.type: "webhook" is not one of "schedule"'],
        ),
        (
            _set(["trigger_node", "config", "crom"], "0 0 7 * * *"),
            [
                "body.trigger_node.config: Additional properties are not allowed ('crom' was unexpected)"
            ],
        ),
        (_drop(["trigger_node", "config"]), ['body.trigger_node: "config" is a required property']),
        (
            _set(["trigger_node", "config", "cron"], "0 7 * * *"),
            [
                "body.trigger_node.config.cron: '0 7 * * *' does not match the CronExpression "
                "format (for example '0 0 7 * * *')"
            ],
        ),
    ],
)
def test_a_wrong_node_or_trigger_is_reported_by_its_branch(
    spec: Spec, mutate: Any, expected: list[str]
) -> None:
    body = create_body()
    mutate(body)
    assert errors_of(spec, body) == expected


def test_an_export_node_with_a_telegram_config_names_every_wrong_key(spec: Spec) -> None:
    body = create_body()
    body["nodes"][0]["config"] = {"credential_id": "cred-tg-001", "file": "x"}
    assert errors_of(spec, body) == [
        'body.nodes[0].config: "analytic_type" is a required property',
        'body.nodes[0].config: "date_range" is a required property',
        "body.nodes[0].config: Additional properties are not allowed "
        "('credential_id', 'file' were unexpected)",
    ]


def test_the_compiled_validator_gives_the_branch_errors_too(spec: Spec) -> None:
    """What the proxy reads (jsonschema-rs errors with their schema paths) is as precise."""
    body = create_body()
    del body["nodes"][0]["config"]["date_range"]
    found = list(spec.validator(BODY).compiled.iter_errors(body))
    assert [(list(e.instance_path), list(e.schema_path)[-3:]) for e in found] == [
        (["nodes", 0, "config"], ["schemas", "EventHistoryExportConfig", "required"])
    ]


def test_any_union_told_apart_by_const_or_by_json_type() -> None:
    document: dict[str, Any] = {
        "components": {
            "schemas": {
                "Cat": {
                    "type": "object",
                    "properties": {"kind": {"const": "cat"}},
                    "required": ["kind", "lives"],
                },
                "Dog": {
                    "type": "object",
                    "properties": {"kind": {"const": "dog"}},
                    "required": ["kind", "bark"],
                },
                "Pet": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/Cat"},
                        {"$ref": "#/components/schemas/Dog"},
                    ]
                },
                "When": {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
            }
        }
    }
    pet = compile_validator(document, "#/components/schemas/Pet")
    assert [str(e) for e in pet.errors({"kind": "dog"})] == ['body: "bark" is a required property']
    assert [str(e) for e in pet.errors({"kind": "cow"})] == [
        'body.kind: "cow" is not one of "cat" or "dog"'
    ]
    when = compile_validator(document, "#/components/schemas/When")
    assert [str(e) for e in when.errors("yesterday")] == ['body: "yesterday" is not a "date-time"']


def test_the_docs_view_admits_any_node_type_with_an_object_config(spec: Spec) -> None:
    body = create_body()
    body["trigger_node"] = {"type": "webhook", "config": {"secret": "s"}}
    body["nodes"].append({"id": "n", "type": "webhook_post", "name": "Call", "config": {"n": 1}})
    assert errors_of(spec, body, View.DOCS) == []
    assert errors_of(spec, body, View.STRICT) == errors_of(spec, body) != []
    body["nodes"][2]["config"] = "url=x"
    body["trigger_node"]["config"] = ["x"]
    assert [e.split(":")[0] for e in errors_of(spec, body, View.DOCS)] == [
        "body.trigger_node.config",
        "body.nodes[2].config",
    ]
    docs = spec.as_view(View.DOCS)
    assert docs.schema_at(NODE)["properties"]["config"]["type"] == ["object", "null"]
    assert docs.schema_at(TRIGGER)["properties"]["config"]["type"] == ["object", "null"]
    assert "oneOf" not in docs.schema_at(NODE) and "discriminator" not in docs.schema_at(NODE)


def test_each_operation_lists_its_error_statuses_and_the_docs_view_any_4xx(spec: Spec) -> None:
    expected = {
        "listWorkflows": ["400", "401"],
        "createWorkflow": ["400", "401", "413", "415"],
        "getWorkflow": ["400", "401", "404"],
        "updateWorkflow": ["400", "401", "404", "413", "415"],
        "deleteWorkflow": ["400", "401", "404"],
        "executeWorkflow": ["400", "401", "404"],
        "listWorkflowLogs": ["400", "401", "404"],
    }
    found = {
        op_id: sorted(s for s in op.responses if s.startswith("4"))
        for op_id, op in spec.operations.items()
    }
    assert found == expected
    error = {"ok": False, "message": "invalid request"}
    for op_id in expected:
        docs = spec.as_view(View.DOCS).operation(op_id)
        refusal = docs.response_for(422)
        assert refusal is not None and refusal.status == "4XX" and refusal.schema_pointer
        assert spec.as_view(View.DOCS).validator(refusal.schema_pointer).is_valid(error)
        assert spec.operation(op_id).response_for(422) is None

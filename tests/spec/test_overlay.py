"""OpenAPI Overlay 1.0: reading, JSONPath targets, applying, and every refusal naming its place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lenz_contract.cli import main
from lenz_contract.spec import Spec, SpecError
from lenz_contract.spec.overlay import (
    OverlayError,
    TargetError,
    apply_overlay,
    parse_overlay,
    parse_target,
    read_overlay,
    select,
    to_jsonpath,
)

DOC: dict[str, Any] = {
    "paths": {"/api/x": {"get": {"responses": {"200": {"description": "ok"}}}}},
    "components": {
        "schemas": {
            "A": {"type": "object", "required": ["id", "name"], "properties": {"id": {}}},
            "B": {"enum": ["x", "y"], "x-lenz-strict": {"pattern": "Z$"}},
        }
    },
    "tags": [{"name": "one"}, {"name": "two"}],
}


def overlay(*actions: dict[str, Any]) -> dict[str, Any]:
    return {"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": list(actions)}


def apply(*actions: dict[str, Any]) -> dict[str, Any]:
    return apply_overlay(DOC, parse_overlay(overlay(*actions)))


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("$.components.schemas.A", [("components", "schemas", "A")]),
        ("$['paths']['/api/x'].get", [("paths", "/api/x", "get")]),
        ('$["paths"]["/api/x"]["get"]', [("paths", "/api/x", "get")]),
        (
            "$.components.schemas.*",
            [("components", "schemas", "A"), ("components", "schemas", "B")],
        ),
        ("$.tags[*].name", [("tags", 0, "name"), ("tags", 1, "name")]),
        ("$.tags[-1]", [("tags", 1)]),
        (
            "$.components.schemas.B['x-lenz-strict'].pattern",
            [("components", "schemas", "B", "x-lenz-strict", "pattern")],
        ),
        ("$.nothing.here", []),
    ],
)
def test_targets_select_places(target: str, expected: list[tuple[Any, ...]]) -> None:
    found = select(DOC, parse_target(target))
    assert len(found) == len(expected)
    for (parent, key), path in zip(found, expected, strict=True):
        node: Any = DOC
        for part in path[:-1]:
            node = node[part]
        assert parent is node and key == path[-1]


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("$..properties", "descendant"),
        ("$.tags[?(@.name == 'one')]", "filter"),
        ("$.tags[0:1]", "slices"),
        ("$['a','b']", "unions"),
        ("components.schemas", "starting with `$`"),
        ("$.", "member name"),
        ("$.a[", "unclosed"),
    ],
)
def test_unsupported_targets_are_refused_with_the_reason(target: str, words: str) -> None:
    with pytest.raises(TargetError, match=words.replace("$", r"\$")):
        parse_target(target)


def test_pointers_become_targets_that_select_the_same_place(spec: Spec) -> None:
    document = spec.document
    for pointer in (
        "#/paths/~1api~1workflows~1{id}/get/responses/200",
        "#/components/schemas/WorkflowPage/allOf/2/properties",
        "#/components/schemas/Timestamp/x-lenz-strict",
    ):
        target = to_jsonpath(pointer, document)
        [(parent, key)] = select(document, parse_target(target))
        assert parent[key] is spec.schema_at(pointer), target
    assert to_jsonpath("#/paths/~1api~1workflows/get/responses/200", document) == (
        "$.paths['/api/workflows'].get.responses['200']"
    )


def test_update_merges_objects_and_appends_to_arrays() -> None:
    out = apply(
        {"target": "$.components.schemas.A.properties", "update": {"name": {"type": "string"}}},
        {"target": "$.components.schemas.B.enum", "update": "z"},
        {"target": "$.components.schemas.A", "update": {"required": ["id"], "x-new": {"a": 1}}},
        {"target": "$.components.schemas.B", "update": {"x-lenz-strict": {"pattern": "Z$|X$"}}},
    )
    a, b = out["components"]["schemas"]["A"], out["components"]["schemas"]["B"]
    assert a["properties"] == {"id": {}, "name": {"type": "string"}}
    assert a["required"] == ["id"]  # arrays inside an update replace
    assert b["enum"] == ["x", "y", "z"]
    assert b["x-lenz-strict"] == {"pattern": "Z$|X$"}
    assert DOC["components"]["schemas"]["A"]["required"] == ["id", "name"]  # the input is kept


def test_remove_takes_nodes_out_array_items_last_first() -> None:
    out = apply(
        {"target": "$.components.schemas.A.required", "remove": True},
        {"target": "$.tags[*]", "remove": True},
    )
    assert "required" not in out["components"]["schemas"]["A"]
    assert out["tags"] == []


def test_actions_that_cannot_apply_name_the_action() -> None:
    with pytest.raises(OverlayError) as stale:
        apply({"target": "$.components.schemas.Gone", "update": {"a": 1}})
    assert "actions[0] (target $.components.schemas.Gone)" in str(stale.value)
    assert "selects nothing" in str(stale.value)
    with pytest.raises(OverlayError, match=r"actions\[1\].*selects a str"):
        apply(
            {"target": "$.tags", "update": {"name": "three"}},
            {"target": "$.tags[0].name", "update": {"a": 1}},
        )
    with pytest.raises(OverlayError, match="update must be an object"):
        apply({"target": "$.components", "update": ["x"]})


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ([], "an overlay is a mapping"),
        ({**overlay({"target": "$", "update": {}}), "overlay": "2.0.0"}, "overlay: expected"),
        ({**overlay({"target": "$", "update": {}}), "info": {"title": "t"}}, "info.version"),
        ({**overlay(), "actions": []}, "actions: required"),
        (overlay({"update": {}}), "actions[0].target"),
        (overlay({"target": "$.a"}), "actions[0]: has neither"),
        (overlay({"target": "$.a", "remove": "yes"}), "actions[0].remove"),
        (overlay({"target": "$..a", "remove": True}), "descendant"),
        (overlay({"target": "$", "remove": True}), "whole document"),
        (overlay({"target": "$.a", "update": {}, "bogus": 1}), "unknown field(s) bogus"),
    ],
)
def test_malformed_overlays_are_refused_with_their_place(document: Any, where: str) -> None:
    with pytest.raises(OverlayError) as refused:
        parse_overlay(document, "my.yaml")
    assert where in str(refused.value)
    assert str(refused.value).startswith("my.yaml")


def test_reading_a_file_says_which_and_where(tmp_path: Path) -> None:
    with pytest.raises(OverlayError, match="no such overlay file"):
        read_overlay(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("overlay: 1.0.0\nactions: [\n")
    with pytest.raises(OverlayError, match=r"broken.yaml:\d+:\d+: not valid YAML"):
        read_overlay(broken)


def test_spec_load_applies_an_overlay(tmp_path: Path) -> None:
    path = tmp_path / "o.yaml"
    path.write_text(
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n"
        "  - target: $.components.schemas.Workflow.properties\n"
        "    update: {owner: {type: string}}\n"
    )
    spec = Spec.load(overlay=path)
    assert spec.overlay == path
    assert "owner" in spec.document["components"]["schemas"]["Workflow"]["properties"]
    assert "owner" not in Spec.load().document["components"]["schemas"]["Workflow"]["properties"]
    with pytest.raises(SpecError):
        Spec.load(overlay=tmp_path / "nope.yaml")


def test_spec_validate_and_apply_with_an_overlay(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n"
        "  - target: $.paths['/api/workflows'].post.responses\n"
        "    update:\n"
        "      '202':\n"
        "        description: Accepted.\n"
        "        x-lenz-source: inferred\n"
        "        x-lenz-reason: A deployment answers 202.\n"
    )
    runner = CliRunner()
    valid = runner.invoke(main, ["spec", "validate", "--overlay", str(good)])
    assert valid.exit_code == 0, valid.output
    assert f"+ overlay {good}: valid (7 operations)" in valid.output
    applied = runner.invoke(main, ["spec", "apply", "--overlay", str(good)])
    assert applied.exit_code == 0 and "'202':" in applied.output
    unmarked = tmp_path / "unmarked.yaml"
    unmarked.write_text(good.read_text().replace("        x-lenz-source: inferred\n", ""))
    invalid = runner.invoke(main, ["spec", "validate", "--overlay", str(unmarked)])
    assert invalid.exit_code == 1 and "x-lenz-source must be one of" in invalid.output
    stale = tmp_path / "stale.yaml"
    stale.write_text(good.read_text().replace("/api/workflows", "/api/gone"))
    refused = runner.invoke(main, ["spec", "validate", "--overlay", str(stale)])
    assert refused.exit_code == 1
    assert "actions[0]" in refused.output and "selects nothing" in refused.output
    assert "Traceback" not in refused.output
    missing = runner.invoke(main, ["spec", "validate", "--overlay", str(tmp_path / "no.yaml")])
    assert missing.exit_code == 2

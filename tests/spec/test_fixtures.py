"""`spec/fixtures.py`: the fixtures folder contract shared by the proxy (writes) and the mock (loads)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from lenz_contract.spec import Spec
from lenz_contract.spec.fixtures import (
    FixtureError,
    FixtureSet,
    RecordedExample,
    example_name,
    load_fixtures,
    save_fixtures,
    slugify,
)

from ..conftest import FIXTURES, load_fixture


def _folder(tmp_path: Path, spec: Spec) -> Path:
    root = tmp_path / "fx"
    shipped = load_fixtures(FIXTURES, spec)
    shipped.examples = {
        "getWorkflow": {
            "200-wf-uuid-001": RecordedExample(
                200,
                load_fixture("docs/getWorkflow.response.json"),
                "recorded",
                "2025-05-01T00:00:00Z",
            )
        }
    }
    save_fixtures(root, shipped)
    return root


def _problems(root: Path, spec: Spec) -> list[str]:
    with pytest.raises(FixtureError) as caught:
        load_fixtures(root, spec)
    return [str(p) for p in caught.value.problems]


def test_the_shipped_folder_loads(spec: Spec) -> None:
    fixtures = load_fixtures(FIXTURES, spec)
    assert [w["id"] for w in fixtures.workflows] == ["wf-uuid-001"]
    assert [e["id"] for e in fixtures.executions] == ["exec-uuid-001"]
    assert [c["id"] for c in fixtures.credentials] == ["cred-tg-001"]
    assert fixtures.examples == {}


def test_save_then_load_round_trips(tmp_path: Path, spec: Spec) -> None:
    root = _folder(tmp_path, spec)
    loaded = load_fixtures(root, spec)
    assert loaded == FixtureSet(
        load_fixture("seed/workflows.json"),
        load_fixture("seed/executions.json"),
        load_fixture("seed/credentials.json"),
        {
            "getWorkflow": {
                "200-wf-uuid-001": RecordedExample(
                    200,
                    load_fixture("docs/getWorkflow.response.json"),
                    "recorded",
                    "2025-05-01T00:00:00Z",
                )
            }
        },
    )
    assert not [p for p in root.rglob("*") if p.name.endswith(".tmp")]


def test_a_missing_folder_and_missing_files(tmp_path: Path, spec: Spec) -> None:
    assert _problems(tmp_path / "nope", spec) == [f"{tmp_path / 'nope'} $: no such folder"]
    (tmp_path / "empty").mkdir()
    assert load_fixtures(tmp_path / "empty", spec) == FixtureSet()


def _write(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")


def test_schema_errors_name_the_file_and_the_json_path(tmp_path: Path, spec: Spec) -> None:
    root = _folder(tmp_path, spec)
    workflows = load_fixture("seed/workflows.json")
    workflows.append(dict(workflows[0]))  # duplicate id
    workflows.append(dict(workflows[0], id="wf-2", created_at="yesterday"))
    _write(root / "seed" / "workflows.json", workflows)
    example = json.loads((root / "examples/getWorkflow/200-wf-uuid-001.json").read_text())
    del example["body"]["data"]["id"]
    _write(root / "examples/getWorkflow/200-wf-uuid-001.json", example)
    problems = _problems(root, spec)
    assert 'seed/workflows.json $[2].created_at: "yesterday" is not a "date-time"' in problems
    assert "seed/workflows.json $[1].id: duplicate id 'wf-uuid-001'" in problems
    assert (
        'examples/getWorkflow/200-wf-uuid-001.json $.body.data: "id" is a required property'
        in problems
    )


@pytest.mark.parametrize(
    ("relative", "content", "expected"),
    [
        (
            "seed/executions.json",
            "[1, 2",
            "seed/executions.json $: is not valid JSON: unexpected end of data (line 1, column 6)",
        ),
        (
            "seed/credentials.json",
            '[{"id": NaN}]',
            "seed/credentials.json $: is not valid JSON: NaN is not JSON",
        ),
        ("seed/credentials.json", '{"id": "x"}', "seed/credentials.json $: must be a JSON array"),
        (
            "seed/credentials.json",
            '[{"name": "x"}]',
            "seed/credentials.json $[0].id: is required (a non-empty string)",
        ),
        (
            "examples/noSuchOperation/200-x.json",
            "{}",
            "examples/noSuchOperation $: is not a folder named after an operationId of the spec",
        ),
        (
            "examples/getWorkflow/ok.json",
            "{}",
            "examples/getWorkflow/ok.json $: unexpected file (examples are <status>-<slug>.json)",
        ),
        (
            "examples/getWorkflow/500-boom.json",
            '{"status": 500, "body": {}}',
            "examples/getWorkflow/500-boom.json $.status: 500 is not a documented status of getWorkflow",
        ),
        (
            "examples/getWorkflow/404-x.json",
            '{"status": 400, "body": {"ok": false, "message": "m"}}',
            "examples/getWorkflow/404-x.json $.status: must be the integer 404 (the file name's status)",
        ),
        (
            "examples/getWorkflow/404-y.json",
            '{"status": 404, "body": {"ok": false, "message": "m"}, "recorded_at": "today"}',
            "examples/getWorkflow/404-y.json $.recorded_at: ",
        ),
    ],
)
def test_bad_files_are_refused_with_file_and_path(
    tmp_path: Path, spec: Spec, relative: str, content: str, expected: str
) -> None:
    root = _folder(tmp_path, spec)
    _write(root / relative, content)
    assert any(p.startswith(expected) for p in _problems(root, spec)), _problems(root, spec)


def test_executions_must_belong_to_a_seed_workflow(tmp_path: Path, spec: Spec) -> None:
    root = _folder(tmp_path, spec)
    _write(root / "seed" / "workflows.json", [])
    assert _problems(root, spec) == [
        "seed/executions.json $[0].workflow_id: no workflow 'wf-uuid-001' in seed/workflows.json"
    ]


def test_symlinks_leaving_the_folder_are_refused(tmp_path: Path, spec: Spec) -> None:
    root = _folder(tmp_path, spec)
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(load_fixture("seed/workflows.json")))
    (root / "seed" / "workflows.json").unlink()
    os.symlink(outside, root / "seed" / "workflows.json")
    assert "seed/workflows.json $: resolves outside the fixtures folder (refused)" in _problems(
        root, spec
    )
    (root / "seed" / "workflows.json").unlink()
    os.symlink(root / "seed" / "credentials.json", root / "seed" / "alias.json")  # inside: fine
    inside = root / "shared.json"
    inside.write_text(outside.read_text())
    os.symlink(inside, root / "seed" / "workflows.json")
    assert len(load_fixtures(root, spec).workflows) == 1
    other = tmp_path / "elsewhere"
    (other / "getWorkflow").mkdir(parents=True)
    os.symlink(other / "getWorkflow", root / "examples" / "listWorkflows")
    assert _problems(root, spec) == [
        "examples/listWorkflows $: resolves outside the fixtures folder (refused)"
    ]


def test_save_is_atomic_and_never_writes_through_a_symlink(tmp_path: Path, spec: Spec) -> None:
    root = _folder(tmp_path, spec)
    victim = tmp_path / "victim.json"
    victim.write_text("untouched")
    (root / "seed" / "executions.json").unlink()
    os.symlink(victim, root / "seed" / "executions.json")
    save_fixtures(root, load_fixtures(FIXTURES, spec))
    assert victim.read_text() == "untouched"
    assert not (root / "seed" / "executions.json").is_symlink()
    assert load_fixtures(root, spec).executions == load_fixture("seed/executions.json")


@pytest.mark.parametrize(
    ("op", "name"),
    [("../escape", "200-x"), ("getWorkflow", "200-../../x"), ("getWorkflow", "404-ok")],
)
def test_save_refuses_unsafe_or_inconsistent_names(tmp_path: Path, op: str, name: str) -> None:
    fixtures = FixtureSet(examples={op: {name: RecordedExample(200, {"ok": True})}})
    with pytest.raises(ValueError):
        save_fixtures(tmp_path / "fx", fixtures)
    assert not (tmp_path / "escape").exists() and not (tmp_path / "x.json").exists()


def test_slugs_and_names() -> None:
    assert slugify("Page 1 / Limit 10") == "page-1-limit-10"
    assert slugify("   ") == "default"
    assert slugify("x" * 100) == "x" * 64
    assert example_name(200, "wf-uuid-001") == "200-wf-uuid-001"
    assert example_name(404, "../../etc/passwd") == "404-etc-passwd"

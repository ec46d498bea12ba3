"""`load_fixtures`, the one loader of a fixtures folder: every problem at once with its place,
the caller's view, RFC 8259 JSON only, bounded reads, nothing read outside the folder."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from lenz_contract.spec import FIXTURES_DIR, Spec, View
from lenz_contract.spec.fixtures import (
    MAX_FILE_BYTES,
    FixtureError,
    Limits,
    check_seed,
    load_fixtures,
)

from ..conftest import load_fixture

WORKFLOW = load_fixture("seed/workflows.json")[0]
EXECUTION = load_fixture("seed/executions.json")[0]
ERROR_BODY = {"ok": False, "message": "workflow not found"}


def _folder(tmp_path: Path) -> Path:
    """A private copy of the shipped seed (valid in every view)."""
    root = tmp_path / "fx"
    shutil.copytree(FIXTURES_DIR / "seed", root / "seed")
    return root


def _write(path: Path, value: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(value, bytes):
        path.write_bytes(value)
    else:
        path.write_text(json.dumps(value), encoding="utf-8")
    return path


def _refused(root: Path, spec: Spec, **options: Any) -> FixtureError:
    with pytest.raises(FixtureError) as caught:
        load_fixtures(root, spec, **options)
    return caught.value


def _places(error: FixtureError) -> set[tuple[str, str]]:
    return {(p.file, p.path) for p in error.problems}


# --- every problem, with its place -----------------------------------------------------------


def test_every_problem_of_every_file_is_reported_at_once(tmp_path: Path, spec: Spec) -> None:
    root = _folder(tmp_path)
    bad_workflow = {**WORKFLOW, "id": "wf-bad", "name": 5}
    _write(root / "seed/workflows.json", [WORKFLOW, dict(WORKFLOW), bad_workflow])
    _write(
        root / "seed/executions.json",
        [
            EXECUTION,
            {**EXECUTION, "id": "exec-orphan", "workflow_id": "ghost"},
            dict(EXECUTION),
            {**EXECUTION, "id": "exec-of-bad", "workflow_id": "wf-bad"},  # not an orphan
        ],
    )
    _write(root / "seed/credentials.json", [{"id": "c"}, {"id": ""}, "x", {"id": "c"}])
    body = load_fixture("docs/getWorkflow.response.json")
    del body["data"]["id"]
    _write(root / "examples/getWorkflow/200-a.json", {"status": 200, "body": body})
    _write(root / "examples/getWorkflow/404-b.json", b'{"status": 404, "body": NaN}')
    _write(root / "examples/getWorkflow/notes.txt", "x")
    error = _refused(root, spec)
    assert _places(error) == {
        ("seed/workflows.json", "$[1].id"),
        ("seed/workflows.json", "$[2].name"),
        ("seed/executions.json", "$[1].workflow_id"),
        ("seed/executions.json", "$[2].id"),
        ("seed/credentials.json", "$[1].id"),
        ("seed/credentials.json", "$[2]"),
        ("seed/credentials.json", "$[3].id"),
        ("examples/getWorkflow/200-a.json", "$.body.data"),
        ("examples/getWorkflow/404-b.json", "$"),
        ("examples/getWorkflow/notes.txt", "$"),
    }
    reasons = {str(p) for p in error.problems}
    assert "seed/workflows.json $[1].id: duplicate id 'wf-uuid-001'" in reasons
    assert (
        "seed/executions.json $[1].workflow_id: no workflow 'ghost' in seed/workflows.json"
        in reasons
    )
    assert set(error.files) >= {"seed/workflows.json", "examples/getWorkflow/404-b.json"}


def test_an_unreadable_workflows_file_does_not_make_every_execution_an_orphan(
    tmp_path: Path, spec: Spec
) -> None:
    root = _folder(tmp_path)
    _write(root / "seed/workflows.json", b"[{")
    assert _places(_refused(root, spec)) == {("seed/workflows.json", "$")}
    _write(root / "seed/workflows.json", {"not": "a list"})
    assert [str(p) for p in _refused(root, spec).problems] == [
        "seed/workflows.json $: must be a JSON array"
    ]


# --- the caller's view -----------------------------------------------------------------------


def _real_world_folder(tmp_path: Path) -> Path:
    """What a deployment answers and the contract admits, but the strict view does not."""
    root = _folder(tmp_path)
    _write(root / "seed/workflows.json", [{**WORKFLOW, "created_at": "2025-06-01T14:00:00+07:00"}])
    running = {**EXECUTION, "status": "running", "finished_at": None, "node_results": []}
    _write(root / "seed/executions.json", [running])
    body = load_fixture("docs/getWorkflow.response.json")
    body["data"]["updated_at"] = "2025-06-01T14:00:00.123456789+07:00"
    _write(root / "examples/getWorkflow/200-x.json", {"status": 200, "body": body})
    return root


def test_the_folder_is_checked_in_the_view_the_caller_asks_for(tmp_path: Path, spec: Spec) -> None:
    root = _real_world_folder(tmp_path)
    strict = _refused(root, spec)  # the default: the view the mock serves
    assert _places(strict) == {
        ("seed/workflows.json", "$[0].created_at"),
        ("seed/executions.json", "$[0].status"),
        ("examples/getWorkflow/200-x.json", "$.body.data.updated_at"),
    }
    assert _places(_refused(root, spec, view=View.STRICT)) == _places(strict)
    for looser in (View.CONTRACT, View.DOCS):
        loaded = load_fixtures(root, spec, view=looser)
        assert loaded.executions[0]["status"] == "running"
        assert set(loaded.examples["getWorkflow"]) == {"200-x"}


# --- RFC 8259 JSON only ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'[{"id": NaN}]', "NaN is not JSON (RFC 8259 has no NaN or Infinity) (line 1, column 9)"),
        (b'[{"id": Infinity}]', "Infinity is not JSON"),
        (b'[{"id": -Infinity}]', "-Infinity is not JSON"),
        (b'[{"id": "x", "n": 1e400}]', "number is infinity when parsed as double"),
        (b'[{"id": "\\ud800"}]', "surrogate"),
        (b'\xef\xbb\xbf[{"id": "x"}]', "byte order mark"),
        (b'[{"id": "\xff"}]', "UTF-8"),
        (b"[" * 1100 + b"]" * 1100, "depth limit exceeded"),
        (b'[{"id": "x"}] [1]', "unexpected content after document"),
        (b"[{'id': 'x'}]", "(line 1, column 3)"),
    ],
)
def test_only_rfc_8259_json_is_read(
    tmp_path: Path, spec: Spec, content: bytes, reason: str
) -> None:
    root = _folder(tmp_path)
    _write(root / "seed/credentials.json", content)
    (problem,) = _refused(root, spec).problems
    assert (problem.file, problem.path) == ("seed/credentials.json", "$")
    assert problem.reason.startswith("is not valid JSON: ") and reason in problem.reason


# --- bounded reads ---------------------------------------------------------------------------


def test_a_file_over_the_limit_is_refused(tmp_path: Path, spec: Spec) -> None:
    root = _folder(tmp_path)
    size = (root / "seed/workflows.json").stat().st_size
    error = _refused(root, spec, limits=Limits(file_bytes=size - 1))
    assert f"seed/workflows.json $: is larger than {size - 1} bytes (refused)" in {
        str(p) for p in error.problems
    }


def test_a_huge_file_is_refused_without_being_read(tmp_path: Path, spec: Spec) -> None:
    root = _folder(tmp_path)
    with (root / "seed/executions.json").open("r+b") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk, but 32 MiB + 1 to read
    started = time.monotonic()
    error = _refused(root, spec)
    assert time.monotonic() - started < 1.0
    assert [str(p) for p in error.problems] == [
        f"seed/executions.json $: is larger than {MAX_FILE_BYTES} bytes (refused)"
    ]


def test_the_folder_as_a_whole_is_bounded(tmp_path: Path, spec: Spec) -> None:
    root = _folder(tmp_path)
    seed = root / "seed"
    budget = sum(p.stat().st_size for p in seed.glob("*.json")) - 1
    error = _refused(root, spec, limits=Limits(folder_bytes=budget))
    assert [str(p) for p in error.problems] == [
        f"seed/credentials.json $: takes the folder over {budget} bytes in all (refused)"
    ]  # the files are read in the seed's order: workflows, executions, credentials


# --- nothing outside the folder, nothing that blocks -----------------------------------------


def _outside(tmp_path: Path) -> Path:
    """Valid fixtures that merely live elsewhere (another project's)."""
    other = tmp_path / "other"
    shutil.copytree(FIXTURES_DIR / "seed", other / "seed")
    body = {"status": 404, "body": ERROR_BODY}
    _write(other / "examples/getWorkflow/404-x.json", body)
    return other


@pytest.mark.parametrize(
    ("place", "layout", "reason"),
    [
        ("seed/workflows.json", "outside", "resolves outside the fixtures folder (refused)"),
        ("seed/workflows.json", "absolute", "resolves outside the fixtures folder (refused)"),
        ("seed", "outside", "resolves outside the fixtures folder (refused)"),
        ("examples", "outside", "resolves outside the fixtures folder (refused)"),
        ("examples/getWorkflow", "outside", "resolves outside the fixtures folder (refused)"),
        ("examples/getWorkflow/404-x.json", "outside", "resolves outside the fixtures folder"),
        ("seed/workflows.json", "fifo", "is not a regular file (refused"),
        ("examples/getWorkflow/404-x.json", "fifo", "is not a regular file (refused"),
        ("seed/workflows.json", "dangling", "is a symlink to nothing (refused)"),
        ("seed/workflows.json", "loop", "is a symlink loop (refused)"),
        ("seed", "file", "is not a folder"),
        ("examples/getWorkflow", "file", "is not a folder"),
    ],
)
@pytest.mark.timeout(10)  # a FIFO opened for a blocking read would hang here
def test_nothing_outside_the_folder_or_not_a_regular_file_is_read(
    tmp_path: Path, spec: Spec, place: str, layout: str, reason: str
) -> None:
    root = _folder(tmp_path)
    _write(root / "examples/getWorkflow/404-x.json", {"status": 404, "body": ERROR_BODY})
    other = _outside(tmp_path)
    target = root / place
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    if layout == "outside":
        target.symlink_to(other / place, target_is_directory=(other / place).is_dir())
    elif layout == "absolute":
        target.symlink_to("/etc/passwd")
    elif layout == "fifo":
        os.mkfifo(target)
    elif layout == "dangling":
        target.symlink_to(root / "seed" / "missing.json")  # inside, but nothing there
    elif layout == "loop":
        target.symlink_to(target)
    else:
        target.write_text("[]")
    error = _refused(root, spec)
    assert [p.file for p in error.problems] == [place]
    assert error.problems[0].reason.startswith(reason)
    assert "root:" not in str(error)  # nothing of a file outside is shown


def test_links_that_stay_inside_the_folder_are_followed(tmp_path: Path, spec: Spec) -> None:
    root = _folder(tmp_path)
    (root / "seed/workflows.json").rename(root / "kept.json")
    (root / "seed/workflows.json").symlink_to(Path("..", "kept.json"))
    linked = tmp_path / "linked-root"
    linked.symlink_to(root, target_is_directory=True)  # the shipped folder is a link too
    assert [w["id"] for w in load_fixtures(linked, spec).workflows] == ["wf-uuid-001"]


# --- the same checks for a state import ------------------------------------------------------


def test_a_state_is_checked_as_the_seed_files_are(tmp_path: Path, spec: Spec) -> None:
    """`check_seed` (the mock's `/__mock/state` import) and the loader share their checks."""
    state = {
        "workflows": [WORKFLOW, {**WORKFLOW, "name": 5}, dict(WORKFLOW)],
        "executions": [
            {**EXECUTION, "status": "running"},
            {**EXECUTION, "id": "exec-2", "workflow_id": "ghost"},
        ],
        "credentials": [{"id": 1}],
    }
    root = _folder(tmp_path)
    for key, value in state.items():
        _write(root / "seed" / f"{key}.json", value)
    from_files = {  # the same problems; a file's name where the state has its key
        (_key(p.file), p.path, p.reason.replace("seed/workflows.json", "workflows"))
        for p in _refused(root, spec).problems
    }
    with pytest.raises(FixtureError) as caught:
        check_seed(state, spec)
    from_state = {(p.file, p.path, p.reason) for p in caught.value.problems}
    assert from_state == from_files
    assert {(f, p) for f, p, _ in from_state} == {
        ("workflows", "$[1].name"),
        ("workflows", "$[2].id"),
        ("executions", "$[0].status"),
        ("executions", "$[1].workflow_id"),
        ("credentials", "$[0].id"),
    }


def _key(file: str) -> str:
    return file.removeprefix("seed/").removesuffix(".json")

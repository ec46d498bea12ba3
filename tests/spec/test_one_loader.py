"""One loader for a fixtures folder: the mock, the proxy's recorder and `spec examples` all read
it through `spec.fixtures.load_fixtures`, in the view the mock serves, and refuse alike."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import lenz_contract.mock.snapshot
import lenz_contract.mock.state
import lenz_contract.proxy.recorder
import lenz_contract.spec.examples
from lenz_contract.mock import create_app
from lenz_contract.mock.runtime import ERROR_ENVELOPE
from lenz_contract.mock.snapshot import SnapshotError, snapshot_from_json
from lenz_contract.proxy.recorder import Recorder
from lenz_contract.proxy.redact import Redactor
from lenz_contract.spec import FIXTURES_DIR, Spec, View
from lenz_contract.spec import fixtures as fixtures_module
from lenz_contract.spec.examples import check_examples
from lenz_contract.spec.fixtures import SERVED_VIEW, FixtureError, load_fixtures

from ..conftest import load_fixture

CALLERS = (lenz_contract.mock.state, lenz_contract.proxy.recorder, lenz_contract.spec.examples)


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "fx"
    shutil.copytree(FIXTURES_DIR / "seed", root / "seed")
    return root


def test_the_three_callers_use_the_one_loader() -> None:
    for module in CALLERS:
        assert module.load_fixtures is fixtures_module.load_fixtures, module.__name__
    assert not hasattr(lenz_contract.mock.snapshot, "read_seed")  # the second loader is gone


def test_each_caller_loads_in_the_view_the_mock_serves(
    tmp_path: Path, spec: Spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _folder(tmp_path)
    calls: list[tuple[str, Path, View]] = []
    for module in CALLERS:

        def spy(directory: Any, *args: Any, _name: str = module.__name__, **kwargs: Any) -> Any:
            calls.append((_name, Path(directory), kwargs["view"]))
            return load_fixtures(directory, *args, **kwargs)

        monkeypatch.setattr(module, "load_fixtures", spy)
    create_app(fixtures_dir=root, scheduler=False)
    Recorder(root, spec, Redactor())
    check_examples(spec, root)
    assert calls == [(module.__name__, root, SERVED_VIEW) for module in CALLERS]
    assert SERVED_VIEW is View.STRICT


def test_the_mock_loads_the_view_its_self_check_asserts(tmp_path: Path) -> None:
    """Why the strict view: every answer is checked against it, seed items are served as is."""
    state = create_app(fixtures_dir=_folder(tmp_path), scheduler=False).state.mock
    spec = state.runtime.spec
    assert state.runtime.error_check is spec.validator(ERROR_ENVELOPE, view=SERVED_VIEW)
    plan = state.runtime.plans["getWorkflow"]
    pointer = plan.operation.responses["200"].schema_pointer
    assert pointer and plan.response_checks["200"] is spec.validator(pointer, view=SERVED_VIEW)


def test_a_broken_folder_is_refused_alike_by_every_caller(tmp_path: Path, spec: Spec) -> None:
    root = _folder(tmp_path)
    running = {**load_fixture("seed/executions.json")[0], "status": "running"}
    (root / "seed/executions.json").write_text(json.dumps([running]))
    (root / "seed/credentials.json").write_text('[{"id": NaN}]')
    with pytest.raises(FixtureError) as by_mock:
        create_app(fixtures_dir=root, scheduler=False)
    with pytest.raises(FixtureError) as by_recorder:
        Recorder(root, spec, Redactor())
    reported = {
        (result.name, error.path, error.reason)
        for result in check_examples(spec, root)
        for error in result.errors
    }
    expected = {(p.file, p.path, p.reason) for p in by_mock.value.problems}
    assert {(p.file, p.path) for p in by_mock.value.problems} == {
        ("seed/executions.json", "$[0].status"),
        ("seed/credentials.json", "$"),
    }
    assert {(p.file, p.path, p.reason) for p in by_recorder.value.problems} == expected
    assert reported == expected


def test_spec_examples_lists_every_file_the_loader_read(spec: Spec) -> None:
    results = {r.name: r for r in check_examples(spec) if r.target.startswith("fixtures folder")}
    assert set(results) == {
        "seed/workflows.json",
        "seed/executions.json",
        "seed/credentials.json",
    }
    assert all(r.ok and r.target == "fixtures folder (strict view)" for r in results.values())


def test_the_state_import_refuses_what_the_loader_refuses(spec: Spec) -> None:
    """`/__mock/state` takes a state only if the same lists would load as seed files."""
    running = {**load_fixture("seed/executions.json")[0], "status": "running"}
    state = {"workflows": load_fixture("seed/workflows.json"), "executions": [running]}
    with pytest.raises(SnapshotError) as caught:
        snapshot_from_json(spec, state)
    assert [(e.path, e.reason) for e in caught.value.errors] == [
        ("executions[0].status", '"running" is not one of "success" or "failed"')
    ]
    with pytest.raises(FixtureError):
        fixtures_module.check_seed(state, spec)

"""The mock's whole state as JSON: the seed files, `/__mock/state` export and import.

An import is checked completely before anything is written (every workflow and execution
against the spec's own schemas, ids unique, every execution's workflow present), so a bad
import answers every reason at once and never leaves a half-replaced state.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..spec import FieldError, Spec, View
from .store import Snapshot

WORKFLOW_SCHEMA = "#/components/schemas/Workflow"
EXECUTION_SCHEMA = "#/components/schemas/Execution"
SEED_FILES = {
    "workflows": "workflows.json",
    "executions": "executions.json",
    "credentials": "credentials.json",
}


class SnapshotError(ValueError):
    """The state cannot be loaded; `errors` says where and why."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors[:5]))


def seed_dir(fixtures: Path) -> Path:
    """`fixtures/seed` when given the fixtures folder, else the folder itself."""
    return fixtures / "seed" if (fixtures / "seed").is_dir() else fixtures


def read_seed(spec: Spec, fixtures: Path) -> Snapshot:
    """The seed state in `fixtures` (missing files are empty lists); raises `SnapshotError`.

    Nothing outside the folder is read: a seed file (or `seed/`) that is a symlink resolving
    outside it, or that is not a regular file (a FIFO would block startup), is refused.
    """
    folder = seed_dir(fixtures)
    root = fixtures.resolve()
    data: dict[str, Any] = {}
    for key, name in SEED_FILES.items():
        path = folder / name
        if not path.exists() and not path.is_symlink():
            data[key] = []
            continue
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):  # a symlink loop
            resolved = root
        if not resolved.is_relative_to(root) or not resolved.is_file():
            reason = "resolves outside the fixtures folder or is not a regular file (refused)"
            raise SnapshotError([FieldError(str(path), reason)])
        try:
            data[key] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SnapshotError([FieldError(str(path), f"cannot be read: {exc}")]) from None
    return snapshot_from_json(spec, data)


def snapshot_from_json(spec: Spec, data: Any) -> Snapshot:
    """Validate `{workflows, executions, credentials}`; raises `SnapshotError` with every reason."""
    if not isinstance(data, dict):
        raise SnapshotError([FieldError("state", "must be a JSON object")])
    errors: list[FieldError] = []
    lists: dict[str, list[Any]] = {}
    for key in SEED_FILES:
        value = data.get(key, [])
        if not isinstance(value, list):
            errors.append(FieldError(key, "must be an array"))
            value = []
        lists[key] = value
    workflow_check = spec.validator(WORKFLOW_SCHEMA, view=View.STRICT)
    execution_check = spec.validator(EXECUTION_SCHEMA, view=View.STRICT)
    workflow_ids: set[str] = set()
    for index, workflow in enumerate(lists["workflows"]):
        where = f"workflows[{index}]"
        found = workflow_check.errors(workflow, where)
        errors += found
        if not found:
            if workflow["id"] in workflow_ids:
                errors.append(FieldError(f"{where}.id", f"duplicate id {workflow['id']!r}"))
            workflow_ids.add(workflow["id"])
    execution_ids: set[str] = set()
    for index, execution in enumerate(lists["executions"]):
        where = f"executions[{index}]"
        found = execution_check.errors(execution, where)
        errors += found
        if found:
            continue
        if execution["id"] in execution_ids:
            errors.append(FieldError(f"{where}.id", f"duplicate id {execution['id']!r}"))
        execution_ids.add(execution["id"])
        if execution["workflow_id"] not in workflow_ids:
            errors.append(
                FieldError(f"{where}.workflow_id", f"no workflow {execution['workflow_id']!r}")
            )
    credential_ids: set[str] = set()
    for index, credential in enumerate(lists["credentials"]):
        where = f"credentials[{index}]"
        if not isinstance(credential, dict) or not isinstance(credential.get("id"), str):
            errors.append(FieldError(where, "must be an object with a string id"))
        elif credential["id"] in credential_ids:
            errors.append(FieldError(f"{where}.id", f"duplicate id {credential['id']!r}"))
        else:
            credential_ids.add(credential["id"])
    if errors:
        raise SnapshotError(errors)
    return Snapshot(lists["workflows"], lists["executions"], lists["credentials"])


def snapshot_to_json(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "workflows": snapshot.workflows,
        "executions": snapshot.executions,
        "credentials": snapshot.credentials,
    }

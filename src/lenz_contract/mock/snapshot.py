"""`PUT /__mock/state`: a whole state imported, checked as a fixtures folder's seed is.

The checks are `spec.fixtures.check_seed`'s (one implementation with the loader the mock
starts from): every workflow and execution against the view the mock serves, ids unique,
every execution's workflow present. An import is checked completely before anything is
written, so a bad one answers every reason at once and never leaves a half-replaced state.
"""

from __future__ import annotations

from typing import Any

from ..spec import FieldError, Spec
from ..spec.fixtures import SERVED_VIEW, FixtureError, FixtureProblem, check_seed
from .store import Snapshot


class SnapshotError(ValueError):
    """The state cannot be loaded; `errors` says where and why."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors[:5]))


def snapshot_from_json(spec: Spec, data: Any) -> Snapshot:
    """Validate `{workflows, executions, credentials}`; raises `SnapshotError` with every reason
    located in the body (`workflows[0].name`)."""
    if not isinstance(data, dict):
        raise SnapshotError([FieldError("state", "must be a JSON object")])
    try:
        checked = check_seed(data, spec, view=SERVED_VIEW)
    except FixtureError as exc:
        raise SnapshotError([_located(p) for p in exc.problems]) from None
    return Snapshot(checked.workflows, checked.executions, checked.credentials)


def _located(problem: FixtureProblem) -> FieldError:
    """`workflows $[0].name` → `workflows[0].name` (the list's key is the problem's file)."""
    return FieldError(problem.file + problem.path.removeprefix("$"), problem.reason)

"""The contract of a fixtures folder: what the proxy records and the mock loads.

One layout for both sides (the shipped `fixtures/` is an instance of it):

    seed/workflows.json      array of Workflow (the latest state of each workflow)
    seed/executions.json     array of Execution (each one's workflow is in workflows.json)
    seed/credentials.json    array of objects with a string `id` (the spec has no schema for them)
    examples/<operationId>/<status>-<slug>.json
                             {"status": int, "body": <json>, "source": "recorded", "recorded_at": iso}

Anything else (the shipped `docs/` folder, hidden files) is ignored. A missing seed file is an
empty list, so a recording that never saw an execution is still a valid folder.

`load_fixtures` checks everything before returning, against the spec's own schemas, and reports
every problem at once with the file and the JSON path. It reads nothing outside the folder: a
symlink that resolves outside it, a special file or a file over `MAX_FILE_BYTES` is refused.
`save_fixtures` writes each file atomically (a temporary file in the same folder, then a rename),
so a mock started while the proxy records never reads half a file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import FieldError
from .model import Spec

WORKFLOW_SCHEMA = "#/components/schemas/Workflow"
EXECUTION_SCHEMA = "#/components/schemas/Execution"
TIMESTAMP_SCHEMA = "#/components/schemas/Timestamp"
SEED_DIR = "seed"
EXAMPLES_DIR = "examples"
WORKFLOWS_FILE = "workflows.json"
EXECUTIONS_FILE = "executions.json"
CREDENTIALS_FILE = "credentials.json"
RECORDED = "recorded"
MAX_FILE_BYTES = 32 * 1024 * 1024

OPERATION_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
EXAMPLE_NAME = re.compile(r"^([1-5][0-9]{2})-([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)$")
"""`<status>-<slug>`: a status, then a lower-case slug of letters, digits and dashes."""


@dataclass(frozen=True)
class RecordedExample:
    """One answer a deployment gave: the mock can serve it by name for its operation."""

    status: int
    body: Any
    source: str = RECORDED
    recorded_at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "body": self.body,
            "source": self.source,
            "recorded_at": self.recorded_at,
        }


@dataclass
class FixtureSet:
    """The content of a fixtures folder: seed data and named examples per operationId."""

    workflows: list[dict[str, Any]] = field(default_factory=list)
    executions: list[dict[str, Any]] = field(default_factory=list)
    credentials: list[dict[str, Any]] = field(default_factory=list)
    examples: dict[str, dict[str, RecordedExample]] = field(default_factory=dict)


@dataclass(frozen=True)
class FixtureProblem:
    """Why a fixtures folder cannot be loaded: which file, where in it (JSON path), and why."""

    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file} {self.path}: {self.reason}"


class FixtureError(ValueError):
    """The folder is not a loadable fixtures folder; `problems` lists every reason."""

    def __init__(self, problems: list[FixtureProblem]) -> None:
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(shown + more)


def slugify(text: str, *, fallback: str = "default") -> str:
    """`"Page 1 / Limit 10"` → `page-1-limit-10`: safe in a file name, at most 64 characters."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:64].strip("-")
    return slug or fallback


def example_name(status: int, slug: str) -> str:
    """The file stem of an example: `200-wf-uuid-001`."""
    name = f"{status}-{slugify(slug)}"
    if not EXAMPLE_NAME.match(name):
        raise ValueError(f"not a valid example name: {name!r}")
    return name


# --- loading ---------------------------------------------------------------------------------


class _Reader:
    """Reads JSON files under one root, refusing anything that leaves it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.real_root = root.resolve(strict=True)
        self.problems: list[FixtureProblem] = []

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def inside(self, path: Path) -> bool:
        """Does `path` (after following every symlink) stay inside the folder?"""
        try:
            return path.resolve(strict=True).is_relative_to(self.real_root)
        except (OSError, RuntimeError):  # a dangling link or a symlink loop
            return False

    def problem(self, path: Path, where: str, reason: str) -> None:
        self.problems.append(FixtureProblem(self.rel(path), where, reason))

    def read(self, path: Path) -> tuple[bool, Any]:
        """`(True, value)`, or `(False, None)` after recording why the file cannot be used."""
        if not self.inside(path):
            self.problem(path, "$", "resolves outside the fixtures folder (refused)")
            return False, None
        if not path.is_file():
            self.problem(path, "$", "is not a regular file")
            return False, None
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                self.problem(path, "$", f"is larger than {MAX_FILE_BYTES} bytes")
                return False, None
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.problem(path, "$", "is not UTF-8 text (not JSON)")
            return False, None
        except OSError as exc:
            self.problem(path, "$", f"cannot be read: {exc.strerror or exc}")
            return False, None
        try:
            return True, json.loads(text, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            self.problem(
                path, "$", f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            )
        except ValueError as exc:
            self.problem(path, "$", f"is not valid JSON: {exc}")
        return False, None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_fixtures(directory: Path | str, spec: Spec | None = None) -> FixtureSet:
    """Read and check a fixtures folder; raises `FixtureError` naming each file and JSON path."""
    spec = spec or Spec.load()
    root = Path(directory)
    if not root.is_dir():
        raise FixtureError([FixtureProblem(str(root), "$", "no such folder")])
    reader = _Reader(root)
    out = FixtureSet()
    seed = root / SEED_DIR
    if seed.exists() and not reader.inside(seed):
        reader.problem(seed, "$", "resolves outside the fixtures folder (refused)")
    elif seed.is_dir():
        out.workflows = _read_seed_list(reader, spec, seed / WORKFLOWS_FILE, WORKFLOW_SCHEMA)
        out.executions = _read_seed_list(reader, spec, seed / EXECUTIONS_FILE, EXECUTION_SCHEMA)
        out.credentials = _read_seed_list(reader, spec, seed / CREDENTIALS_FILE, None)
        _check_references(reader, seed, out)
    examples = root / EXAMPLES_DIR
    if examples.exists() and not reader.inside(examples):
        reader.problem(examples, "$", "resolves outside the fixtures folder (refused)")
    elif examples.is_dir():
        out.examples = _read_examples(reader, spec, examples)
    if reader.problems:
        raise FixtureError(reader.problems)
    return out


def _read_seed_list(
    reader: _Reader, spec: Spec, path: Path, schema: str | None
) -> list[dict[str, Any]]:
    if not path.exists() and not path.is_symlink():
        return []
    ok, value = reader.read(path)
    if not ok:
        return []
    if not isinstance(value, list):
        reader.problem(path, "$", "must be a JSON array")
        return []
    validator = spec.validator(schema) if schema else None
    seen: set[str] = set()
    items: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        where = f"$[{index}]"
        errors = validator.errors(item, where) if validator else _credential_errors(item, where)
        for error in errors:
            reader.problem(path, error.path, error.reason)
        if errors:
            continue
        if item["id"] in seen:
            reader.problem(path, f"{where}.id", f"duplicate id {item['id']!r}")
            continue
        seen.add(item["id"])
        items.append(item)
    return items


def _credential_errors(item: Any, where: str) -> list[FieldError]:
    if not isinstance(item, dict):
        return [FieldError(where, "must be an object")]
    if not isinstance(item.get("id"), str) or not item["id"]:
        return [FieldError(f"{where}.id", "is required (a non-empty string)")]
    return []


def _check_references(reader: _Reader, seed: Path, out: FixtureSet) -> None:
    """Every execution belongs to a workflow of the seed (the mock could not list it otherwise)."""
    workflow_ids = {w["id"] for w in out.workflows}
    path = seed / EXECUTIONS_FILE
    for index, execution in enumerate(out.executions):
        if execution["workflow_id"] not in workflow_ids:
            reader.problem(
                path,
                f"$[{index}].workflow_id",
                f"no workflow {execution['workflow_id']!r} in {SEED_DIR}/{WORKFLOWS_FILE}",
            )


def _read_examples(
    reader: _Reader, spec: Spec, folder: Path
) -> dict[str, dict[str, RecordedExample]]:
    out: dict[str, dict[str, RecordedExample]] = {}
    for op_dir in sorted(folder.iterdir()):
        if op_dir.name.startswith("."):
            continue
        if not reader.inside(op_dir):
            reader.problem(op_dir, "$", "resolves outside the fixtures folder (refused)")
            continue
        op = spec.operations.get(op_dir.name)
        if op is None or not op_dir.is_dir():
            reader.problem(op_dir, "$", "is not a folder named after an operationId of the spec")
            continue
        for path in sorted(op_dir.iterdir()):
            if path.name.startswith("."):
                continue
            found = EXAMPLE_NAME.match(path.stem) if path.suffix == ".json" else None
            if found is None:
                reader.problem(path, "$", "unexpected file (examples are <status>-<slug>.json)")
                continue
            ok, value = reader.read(path)
            if not ok:
                continue
            example = _example(reader, spec, path, int(found.group(1)), value)
            if example is not None:
                out.setdefault(op.operation_id, {})[path.stem] = example
    return out


def _example(
    reader: _Reader, spec: Spec, path: Path, status: int, value: Any
) -> RecordedExample | None:
    if not isinstance(value, dict):
        reader.problem(path, "$", "must be a JSON object {status, body, source, recorded_at}")
        return None
    before = len(reader.problems)
    if value.get("status") != status or isinstance(value.get("status"), bool):
        reader.problem(path, "$.status", f"must be the integer {status} (the file name's status)")
    if "body" not in value:
        reader.problem(path, "$.body", "is required")
    if not isinstance(value.get("source", RECORDED), str):
        reader.problem(path, "$.source", "must be a string")
    recorded_at = value.get("recorded_at", "")
    if recorded_at != "":
        for error in spec.validator(TIMESTAMP_SCHEMA).errors(recorded_at, "$.recorded_at"):
            reader.problem(path, error.path, error.reason)
    op = spec.operations[path.parent.name]
    response = op.response_for(status)
    if response is None:
        reader.problem(
            path, "$.status", f"{status} is not a documented status of {op.operation_id}"
        )
    elif response.schema_pointer is not None and "body" in value:
        for error in spec.validator(response.schema_pointer).errors(value["body"], "$.body"):
            reader.problem(path, error.path, error.reason)
    if len(reader.problems) > before:
        return None
    return RecordedExample(
        status=status,
        body=value["body"],
        source=value.get("source", RECORDED),
        recorded_at=recorded_at,
    )


# --- saving ----------------------------------------------------------------------------------


def save_fixtures(
    directory: Path | str,
    fixture_set: FixtureSet,
    *,
    only_examples: Iterable[tuple[str, str]] | None = None,
) -> None:
    """Write the set into `directory` (created if needed), every file atomically.

    Seed files are always rewritten; examples are all written, or only the `(operationId,
    name)` pairs in `only_examples` (a recorder writes what changed). Nothing is deleted.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    seed = root / SEED_DIR
    seed.mkdir(exist_ok=True)
    _atomic_write_json(seed / WORKFLOWS_FILE, fixture_set.workflows)
    _atomic_write_json(seed / EXECUTIONS_FILE, fixture_set.executions)
    _atomic_write_json(seed / CREDENTIALS_FILE, fixture_set.credentials)
    wanted = None if only_examples is None else set(only_examples)
    for op_id, examples in fixture_set.examples.items():
        if not OPERATION_ID.match(op_id):
            raise ValueError(f"not a safe operationId for a folder name: {op_id!r}")
        for name, example in examples.items():
            if wanted is not None and (op_id, name) not in wanted:
                continue
            if not EXAMPLE_NAME.match(name) or int(name[:3]) != example.status:
                raise ValueError(f"example name {name!r} must be <status>-<slug> for its status")
            folder = root / EXAMPLES_DIR / op_id
            folder.mkdir(parents=True, exist_ok=True)
            _atomic_write_json(folder / f"{name}.json", example.to_json())


def _atomic_write_json(path: Path, value: Any) -> None:
    data = (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)  # replaces a symlink itself, never writes through it
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

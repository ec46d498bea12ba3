"""The contract of a fixtures folder: what the proxy records and the mock loads.

One layout for both sides (the shipped `fixtures/` is an instance of it):

    seed/workflows.json      array of Workflow (the latest state of each workflow)
    seed/executions.json     array of Execution (each one's workflow is in workflows.json)
    seed/credentials.json    array of objects with a string `id` (the spec has no schema for them)
    examples/<operationId>/<status>-<slug>.json
                             {"status": int, "body": <json>, "source": "recorded", "recorded_at": iso}

Anything else (the shipped `docs/` folder, hidden files) is ignored. A missing seed file is an
empty list, so a recording that never saw an execution is still a valid folder.

`load_fixtures` is the one loader: the mock (its seed and its recorded examples), the proxy's
recorder (the folder it adds to) and `lenz-contract spec examples` all read a folder through it.
It checks everything before returning, in the view of the spec the caller names, and reports
every problem at once with the file and the JSON path. It reads nothing outside the folder (a
symlink that resolves outside it is refused, a FIFO or a device is refused without a blocking
read), nothing over its `Limits`, and only RFC 8259 JSON. `FixtureChecks` holds the per-item
checks, shared with the mock's `/__mock/state` import (`check_seed`) and the recorder.
`save_fixtures` writes each file atomically (a temporary file in the same folder, then a rename),
so a mock started while the proxy records never reads half a file.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from .errors import FieldError
from .model import Spec
from .views import View

WORKFLOW_SCHEMA = "#/components/schemas/Workflow"
EXECUTION_SCHEMA = "#/components/schemas/Execution"
TIMESTAMP_SCHEMA = "#/components/schemas/Timestamp"
SEED_DIR = "seed"
EXAMPLES_DIR = "examples"
WORKFLOWS_FILE = "workflows.json"
EXECUTIONS_FILE = "executions.json"
CREDENTIALS_FILE = "credentials.json"
SEED_FILES = {
    "workflows": WORKFLOWS_FILE,
    "executions": EXECUTIONS_FILE,
    "credentials": CREDENTIALS_FILE,
}
"""The seed's lists, by the key they have in a state (`/__mock/state`) and their file name."""
RECORDED = "recorded"
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_FOLDER_BYTES = 256 * 1024 * 1024
"""A folder is seed data and examples for one mock; its files together stay far below this."""

SERVED_VIEW = View.STRICT
"""The view a folder is loaded in unless the caller says otherwise: the mock's (see
`mock/state.py`: it serves what it loads as is, and its self-check asserts the strict view)."""

OPERATION_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
EXAMPLE_NAME = re.compile(r"^([1-5][0-9]{2})-([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)$")
"""`<status>-<slug>`: a status, then a lower-case slug of letters, digits and dashes."""


@dataclass(frozen=True)
class Limits:
    """How much a folder may make the loader read: one file, and all its files together."""

    file_bytes: int = MAX_FILE_BYTES
    folder_bytes: int = MAX_FOLDER_BYTES


DEFAULT_LIMITS = Limits()


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
    files: tuple[str, ...] = field(default=(), compare=False, repr=False)
    """The files it was read from, relative to the folder (what a report lists as checked)."""


@dataclass(frozen=True)
class FixtureProblem:
    """Why a fixtures folder cannot be loaded: which file, where in it (JSON path), and why."""

    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file} {self.path}: {self.reason}"


class FixtureError(ValueError):
    """The folder is not a loadable fixtures folder; `problems` lists every reason, `files`
    every file that was read (with or without a problem)."""

    def __init__(self, problems: list[FixtureProblem], files: tuple[str, ...] = ()) -> None:
        self.problems = problems
        self.files = files
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


# --- JSON ------------------------------------------------------------------------------------


def parse_json(data: bytes) -> tuple[Any, str | None]:
    """`(value, None)`, or `(None, why)` for anything but RFC 8259 JSON in UTF-8.

    orjson refuses what Python's `json` lets through and no encoder could write back: NaN and
    Infinity, numbers no double holds (`1e400`), lone surrogates, a byte order mark, invalid
    UTF-8 and nesting deeper than 1024; so whatever loads here can be served again.
    """
    try:
        return orjson.loads(data), None
    except orjson.JSONDecodeError as exc:
        where = f"(line {exc.lineno}, column {exc.colno})"
        return None, f"is not valid JSON: {_non_json_name(exc.doc, exc.pos) or exc.msg} {where}"
    except (ValueError, RecursionError, MemoryError) as exc:  # defensive: orjson raises the above
        return None, f"is not valid JSON: {type(exc).__name__}"


def _non_json_name(doc: str, pos: int) -> str | None:
    """A clearer reason than orjson's "unexpected character" for JavaScript's number names."""
    for name in ("NaN", "Infinity"):
        if doc.startswith(name, pos):
            sign = "-" if pos > 0 and doc[pos - 1] == "-" else ""
            return f"{sign}{name} is not JSON (RFC 8259 has no NaN or Infinity)"
    return None


# --- the per-item checks ---------------------------------------------------------------------


class FixtureChecks:
    """What every item of a folder must satisfy, in one view of the spec.

    One implementation for the loader, the mock's state import (`check_seed`) and the recorder
    (which keeps only what these accept, so that its folder loads).
    """

    def __init__(self, spec: Spec, view: View = SERVED_VIEW) -> None:
        self.view = view
        self.spec = spec.as_view(view)
        self._workflow = self.spec.validator(WORKFLOW_SCHEMA)
        self._execution = self.spec.validator(EXECUTION_SCHEMA)
        self._timestamp = self.spec.validator(TIMESTAMP_SCHEMA)

    def seed_item(self, kind: str, item: Any, where: str = "$") -> list[FieldError]:
        """The problems of one item of the seed list `kind` (a key of `SEED_FILES`)."""
        if kind == "workflows":
            return self._workflow.errors(item, where)
        if kind == "executions":
            return self._execution.errors(item, where)
        return _credential_errors(item, where)

    def example(self, operation_id: str, status: int, value: Any) -> list[FieldError]:
        """The problems of an example file's content for `operation_id` and `status`."""
        if not isinstance(value, dict):
            return [FieldError("$", "must be a JSON object {status, body, source, recorded_at}")]
        op = self.spec.operations.get(operation_id)
        if op is None:
            return [FieldError("$", f"the spec has no operation {operation_id!r}")]
        errors = self._example_fields(status, value)
        response = op.response_for(status)
        if response is None:
            errors.append(
                FieldError("$.status", f"{status} is not a documented status of {operation_id}")
            )
        elif response.schema_pointer is not None and "body" in value:
            errors += self.spec.validator(response.schema_pointer).errors(value["body"], "$.body")
        return errors

    def _example_fields(self, status: int, value: dict[str, Any]) -> list[FieldError]:
        errors: list[FieldError] = []
        if value.get("status") != status or isinstance(value.get("status"), bool):
            errors.append(
                FieldError("$.status", f"must be the integer {status} (the file name's status)")
            )
        if "body" not in value:
            errors.append(FieldError("$.body", "is required"))
        if not isinstance(value.get("source", RECORDED), str):
            errors.append(FieldError("$.source", "must be a string"))
        recorded_at = value.get("recorded_at", "")
        if recorded_at != "":
            errors += self._timestamp.errors(recorded_at, "$.recorded_at")
        return errors


def _credential_errors(item: Any, where: str) -> list[FieldError]:
    if not isinstance(item, dict):
        return [FieldError(where, "must be an object")]
    if not isinstance(item.get("id"), str) or not item["id"]:
        return [FieldError(f"{where}.id", "is required (a non-empty string)")]
    return []


# --- the seed: lists of items, ids unique, executions of known workflows --------------------

_UNREADABLE: Any = object()
"""A seed file that could not be read (its problem is recorded): its items are not checked."""


def check_seed(state: Mapping[str, Any], spec: Spec, *, view: View = SERVED_VIEW) -> FixtureSet:
    """The seed lists of a state `{workflows, executions, credentials}` (a missing key is an
    empty list), checked as `load_fixtures` checks the seed files; raises `FixtureError` whose
    problems name the key as their file (`workflows $[0].name: ...`)."""
    problems: list[FixtureProblem] = []
    lists = {kind: state.get(kind, []) for kind in SEED_FILES}
    found = _check_seed(lists, FixtureChecks(spec, view), {k: k for k in SEED_FILES}, problems)
    if problems:
        raise FixtureError(problems)
    return found


def _check_seed(
    lists: Mapping[str, Any],
    checks: FixtureChecks,
    sources: Mapping[str, str],
    problems: list[FixtureProblem],
) -> FixtureSet:
    """Every item checked, each id once per list, each execution's workflow in the seed."""
    kept = {
        kind: _seed_items(kind, lists[kind], checks, sources[kind], problems) for kind in SEED_FILES
    }
    if isinstance(lists["workflows"], list):  # else its own problem says why
        known = _ids(lists["workflows"])
        kept["executions"] = [
            (index, execution)
            for index, execution in kept["executions"]
            if _has_workflow(index, execution, known, sources, problems)
        ]
    return FixtureSet(
        workflows=[item for _, item in kept["workflows"]],
        executions=[item for _, item in kept["executions"]],
        credentials=[item for _, item in kept["credentials"]],
    )


def _seed_items(
    kind: str, value: Any, checks: FixtureChecks, source: str, problems: list[FixtureProblem]
) -> list[tuple[int, dict[str, Any]]]:
    """The valid items of one list with their index; the problems of the others."""
    if value is _UNREADABLE:
        return []
    if not isinstance(value, list):
        problems.append(FixtureProblem(source, "$", "must be a JSON array"))
        return []
    seen: set[str] = set()
    kept: list[tuple[int, dict[str, Any]]] = []
    for index, item in enumerate(value):
        where = f"$[{index}]"
        errors = checks.seed_item(kind, item, where)
        if not errors and item["id"] in seen:
            errors = [FieldError(f"{where}.id", f"duplicate id {item['id']!r}")]
        problems.extend(FixtureProblem(source, e.path, e.reason) for e in errors)
        if not errors:
            seen.add(item["id"])
            kept.append((index, item))
    return kept


def _ids(items: list[Any]) -> set[str]:
    """The ids a list names, valid items or not (an invalid workflow is reported for itself,
    its executions are not orphans)."""
    return {i["id"] for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)}


def _has_workflow(
    index: int,
    execution: dict[str, Any],
    known: set[str],
    sources: Mapping[str, str],
    problems: list[FixtureProblem],
) -> bool:
    """Does the execution's workflow exist (the mock could not list its runs otherwise)?"""
    if execution["workflow_id"] in known:
        return True
    reason = f"no workflow {execution['workflow_id']!r} in {sources['workflows']}"
    problems.append(FixtureProblem(sources["executions"], f"$[{index}].workflow_id", reason))
    return False


# --- reading files, confined to the folder ---------------------------------------------------


class _Reader:
    """Reads JSON files under one root, refusing anything that leaves it or could block."""

    def __init__(self, root: Path, limits: Limits) -> None:
        self.root = root
        self.real_root = root.resolve(strict=True)
        self.limits = limits
        self.problems: list[FixtureProblem] = []
        self.files: list[str] = []
        self.total_bytes = 0

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def problem(self, path: Path, where: str, reason: str) -> None:
        self.problems.append(FixtureProblem(self.rel(path), where, reason))

    def confined(self, path: Path) -> Path | None:
        """The real path of `path` if it stays inside the folder and exists; else None, with
        the reason recorded."""
        try:
            real = path.resolve()
        except (OSError, RuntimeError):  # a symlink loop
            self.problem(path, "$", "is a symlink loop (refused)")
            return None
        if not real.is_relative_to(self.real_root):
            self.problem(path, "$", "resolves outside the fixtures folder (refused)")
            return None
        if not real.exists():
            self.problem(path, "$", "is a symlink to nothing (refused)")
            return None
        return real

    def folder(self, path: Path) -> bool:
        """Is `path` a folder to read? A missing one is simply empty."""
        if not path.exists() and not path.is_symlink():
            return False
        real = self.confined(path)
        if real is not None and not real.is_dir():
            self.problem(path, "$", "is not a folder")
            return False
        return real is not None

    def read(self, path: Path) -> Any:
        """The JSON in `path`, or `_UNREADABLE` after recording why it cannot be used."""
        self.files.append(self.rel(path))
        data = self._bytes(path)
        if data is None:
            return _UNREADABLE
        value, reason = parse_json(data)
        if reason is not None:
            self.problem(path, "$", reason)
            return _UNREADABLE
        return value

    def _bytes(self, path: Path) -> bytes | None:
        real = self.confined(path)
        if real is None:
            return None
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            # Non-blocking: opening a FIFO must not wait for a writer. No follow: `real` has no
            # symlink left, so one that appeared since `resolve` is refused, not followed.
            handle = os.fdopen(os.open(real, flags | getattr(os, "O_CLOEXEC", 0)), "rb")
        except OSError as exc:
            self.problem(path, "$", f"cannot be read: {exc.strerror or exc}")
            return None
        with handle:
            return self._bounded(path, handle)

    def _bounded(self, path: Path, handle: IO[bytes]) -> bytes | None:
        """The content of a regular file within the limits; never more is read."""
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            self.problem(path, "$", "is not a regular file (refused: it could block or not end)")
            return None
        limits = self.limits
        budget = min(limits.file_bytes, limits.folder_bytes - self.total_bytes)
        data = b"" if info.st_size > budget else handle.read(budget + 1)
        if info.st_size > limits.file_bytes or len(data) > limits.file_bytes:
            self.problem(path, "$", f"is larger than {limits.file_bytes} bytes (refused)")
            return None
        if info.st_size > budget or len(data) > budget:
            self.problem(
                path, "$", f"takes the folder over {limits.folder_bytes} bytes in all (refused)"
            )
            return None
        self.total_bytes += len(data)
        return data


# --- loading ---------------------------------------------------------------------------------


def load_fixtures(
    directory: Path | str,
    spec: Spec | None = None,
    *,
    view: View = SERVED_VIEW,
    limits: Limits = DEFAULT_LIMITS,
) -> FixtureSet:
    """Read and check a fixtures folder in `view` of `spec`; raises `FixtureError` naming each
    file and JSON path of every problem (nothing is returned unless everything loads)."""
    root = Path(directory)
    if not root.is_dir():
        reason = "is not a folder" if root.exists() else "no such folder"
        raise FixtureError([FixtureProblem(str(root), "$", reason)])
    checks = FixtureChecks(spec or Spec.load(), view)
    reader = _Reader(root, limits)
    found = _read_seed(reader, checks, root / SEED_DIR)
    found.examples = _read_examples(reader, checks, root / EXAMPLES_DIR)
    found.files = tuple(reader.files)
    if reader.problems:
        raise FixtureError(reader.problems, found.files)
    return found


def _read_seed(reader: _Reader, checks: FixtureChecks, seed: Path) -> FixtureSet:
    if not reader.folder(seed):
        return FixtureSet()
    lists = {kind: _read_list(reader, seed / name) for kind, name in SEED_FILES.items()}
    sources = {kind: reader.rel(seed / name) for kind, name in SEED_FILES.items()}
    return _check_seed(lists, checks, sources, reader.problems)


def _read_list(reader: _Reader, path: Path) -> Any:
    if not path.exists() and not path.is_symlink():
        return []
    return reader.read(path)


def _read_examples(
    reader: _Reader, checks: FixtureChecks, folder: Path
) -> dict[str, dict[str, RecordedExample]]:
    out: dict[str, dict[str, RecordedExample]] = {}
    if not reader.folder(folder):
        return out
    for op_dir in _visible(folder):
        if op_dir.name not in checks.spec.operations:
            if reader.confined(op_dir) is not None:
                reader.problem(
                    op_dir, "$", "is not a folder named after an operationId of the spec"
                )
            continue
        if reader.folder(op_dir):
            for name, example in _read_operation(reader, checks, op_dir):
                out.setdefault(op_dir.name, {})[name] = example
    return out


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def _read_operation(
    reader: _Reader, checks: FixtureChecks, op_dir: Path
) -> Iterable[tuple[str, RecordedExample]]:
    """The examples of one operation's folder, as `(name, example)`."""
    for path in _visible(op_dir):
        found = EXAMPLE_NAME.match(path.stem) if path.suffix == ".json" else None
        if found is None:
            reader.problem(path, "$", "unexpected file (examples are <status>-<slug>.json)")
            continue
        value = reader.read(path)
        if value is _UNREADABLE:
            continue
        status = int(found.group(1))
        errors = checks.example(op_dir.name, status, value)
        for error in errors:
            reader.problem(path, error.path, error.reason)
        if not errors:
            yield path.stem, _example(status, value)


def _example(status: int, value: dict[str, Any]) -> RecordedExample:
    return RecordedExample(
        status=status,
        body=value["body"],
        source=value.get("source", RECORDED),
        recorded_at=value.get("recorded_at", ""),
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

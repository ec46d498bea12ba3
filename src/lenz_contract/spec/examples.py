"""Every documented example and fixture must satisfy the schema it illustrates.

The docs' payloads are named after what they hold: `docs/<operationId>.request.json`,
`docs/<operationId>.response.json` (the operation's success answer) and `docs/error.response.json`
(the error envelope). A spec example with `x-lenz-fixture` must equal that file. The rest of a
fixtures folder (`seed/`, `examples/`) is what the mock loads, so it is checked by the mock's
own loader (`fixtures.load_fixtures`), in the view the mock loads it in unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .document import deref
from .errors import FieldError
from .fixtures import SERVED_VIEW, FixtureError, FixtureProblem, load_fixtures, parse_json
from .model import Spec
from .resources import FIXTURES_DIR
from .views import View

DOCS_DIR = "docs"


@dataclass(frozen=True)
class ExampleResult:
    """The verdict on one example or fixture."""

    name: str
    target: str
    errors: tuple[FieldError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def check_examples(
    spec: Spec, fixtures_dir: Path | None = None, *, view: View = SERVED_VIEW
) -> list[ExampleResult]:
    """Validate every spec example, the docs' payloads, then the folder's seed and examples
    (in `view`: by default the one the mock loads them in, so "ok" means the mock starts)."""
    root = fixtures_dir or FIXTURES_DIR
    results = list(_spec_examples(spec))
    results += list(_docs_payloads(spec, root))
    results += list(_loaded_fixtures(spec, root, view))
    return results


def _spec_examples(spec: Spec) -> Iterator[ExampleResult]:
    for op in spec.operations.values():
        if op.request_body_pointer:
            validator = spec.validator(op.request_body_pointer)
            for name, value in op.request_examples.items():
                yield ExampleResult(
                    f"{op.operation_id} request example {name!r}",
                    "request body",
                    tuple(validator.errors(value, "body")),
                )
        for status, response in op.responses.items():
            if response.schema_pointer is None:
                continue
            validator = spec.validator(response.schema_pointer)
            for name, value in response.examples.items():
                yield ExampleResult(
                    f"{op.operation_id} {status} example {name!r}",
                    f"{status} response body",
                    tuple(validator.errors(value, "response")),
                )
    yield from _fixture_links(spec)


def _fixture_links(spec: Spec) -> Iterator[ExampleResult]:
    """Spec examples marked `x-lenz-fixture` equal their fixture file (one payload, two homes)."""
    for name, example in (spec.document.get("components", {}).get("examples") or {}).items():
        example = deref(spec.document, example)
        fixture = example.get("x-lenz-fixture")
        if not fixture:
            continue
        label = f"components.examples.{name}"
        try:
            on_disk = _read_json(FIXTURES_DIR / fixture)
        except ValueError as exc:
            yield ExampleResult(label, f"fixture {fixture}", (FieldError(fixture, str(exc)),))
            continue
        errors = (
            ()
            if on_disk == example.get("value")
            else (FieldError(label, f"differs from fixture {fixture}"),)
        )
        yield ExampleResult(label, f"fixture {fixture}", errors)


def _docs_payloads(spec: Spec, root: Path) -> Iterator[ExampleResult]:
    for path in sorted((root / DOCS_DIR).glob("*.json")):
        rel = path.relative_to(root).as_posix()
        try:
            value = _read_json(path)
        except ValueError as exc:
            yield ExampleResult(rel, "JSON", (FieldError(rel, str(exc)),))
            continue
        pointer, prefix = _target_of(spec, path)
        if pointer is not None:
            yield ExampleResult(rel, pointer, tuple(spec.validator(pointer).errors(value, prefix)))


def _loaded_fixtures(spec: Spec, root: Path, view: View) -> Iterator[ExampleResult]:
    """One result per file the loader read (or refused), its problems located by JSON path."""
    try:
        files, problems = load_fixtures(root, spec, view=view).files, []
    except FixtureError as exc:
        files, problems = exc.files, exc.problems
    by_file: dict[str, list[FixtureProblem]] = {}
    for problem in problems:
        by_file.setdefault(problem.file, []).append(problem)
    target = f"fixtures folder ({view} view)"
    for name in sorted({*files, *by_file}):
        errors = tuple(FieldError(p.path, p.reason) for p in by_file.get(name, []))
        yield ExampleResult(name, target, errors)


def _target_of(spec: Spec, path: Path) -> tuple[str | None, str]:
    """Which schema a docs payload illustrates, by its name."""
    stem, _, kind = path.stem.partition(".")
    if stem == "error":
        return "#/components/schemas/ErrorEnvelope", "response"
    op = spec.operations.get(stem)
    if op is None:
        return None, ""
    if kind == "request":
        return op.request_body_pointer, "body"
    status = op.success_statuses()[0] if op.success_statuses() else None
    response = op.responses.get(str(status)) if status else None
    return (response.schema_pointer if response else None), "response"


def _read_json(path: Path) -> Any:
    """The JSON in `path`, read as strictly as the fixtures loader reads (RFC 8259 only)."""
    if not path.is_file():  # missing, or a FIFO that would block the read
        raise ValueError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    value, reason = parse_json(path.read_bytes())
    if reason is not None:
        raise ValueError(f"{path}: {reason}")
    return value

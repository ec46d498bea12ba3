"""Every documented example and fixture must satisfy the schema it illustrates.

Fixture files are named after what they hold: `docs/<operationId>.request.json`,
`docs/<operationId>.response.json` (the operation's success answer), `docs/error.response.json`
(the error envelope) and the seed files `seed/workflows.json` / `seed/executions.json` (arrays of
`Workflow` / `Execution`). A spec example with `x-lenz-fixture` must equal that file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .document import deref
from .errors import FieldError
from .model import Spec
from .resources import FIXTURES_DIR

SEED_SCHEMAS = {"workflows.json": "Workflow", "executions.json": "Execution"}


@dataclass(frozen=True)
class ExampleResult:
    """The verdict on one example or fixture."""

    name: str
    target: str
    errors: tuple[FieldError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def check_examples(spec: Spec, fixtures_dir: Path | None = None) -> list[ExampleResult]:
    """Validate every spec example, then every fixture file."""
    results = list(_spec_examples(spec))
    results += list(_fixtures(spec, fixtures_dir or FIXTURES_DIR))
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


def _fixtures(spec: Spec, root: Path) -> Iterator[ExampleResult]:
    for path in sorted(root.glob("*/*.json")):
        rel = path.relative_to(root).as_posix()
        try:
            value = _read_json(path)
        except ValueError as exc:
            yield ExampleResult(rel, "JSON", (FieldError(rel, str(exc)),))
            continue
        pointer, prefix = _target_of(spec, path)
        if pointer is None:
            continue  # a fixture with no schema to check (credentials and the like)
        errors: list[FieldError] = []
        validator = spec.validator(pointer)
        items = value if path.parent.name == "seed" and isinstance(value, list) else [value]
        for index, item in enumerate(items):
            item_prefix = f"{rel}[{index}]" if path.parent.name == "seed" else prefix
            errors += validator.errors(item, item_prefix)
        if path.parent.name == "seed" and not isinstance(value, list):
            errors.append(FieldError(rel, "a seed file holds a JSON array"))
        yield ExampleResult(rel, pointer, tuple(errors))


def _target_of(spec: Spec, path: Path) -> tuple[str | None, str]:
    """Which schema a fixture file illustrates, by its name."""
    if path.parent.name == "seed":
        name = SEED_SCHEMAS.get(path.name)
        return (f"#/components/schemas/{name}" if name else None), path.name
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
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None

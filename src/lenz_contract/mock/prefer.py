"""`Prefer: code=NNN` / `Prefer: example=NAME`: force a documented answer, as Prism does.

Frontend developers use it to see their error and empty states without arranging them: the
answer is the spec's example for that status (the first one, or the named one), or a minimal
valid envelope when the status has none. `example=NAME` also finds the answers a deployment gave,
recorded by `lenz-contract proxy --record DIR` under `DIR/examples/<operationId>/NAME.json`
(served when the mock runs with `--fixtures DIR`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..spec import Operation
from ..spec.fixtures import RecordedExample
from .errors import error_body, one_error


def parse_prefer(header: str) -> dict[str, str]:
    """`code=404, example=docs` → `{"code": "404", "example": "docs"}` (other preferences kept)."""
    out: dict[str, str] = {}
    for part in header.replace(";", ",").split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            out[key.strip().lower()] = value.strip().strip('"')
    return out


def preferred_answer(
    op: Operation, header: str, recorded: Mapping[str, RecordedExample] | None = None
) -> tuple[int, dict[str, Any]] | None:
    """The forced `(status, body)`, a 400 explaining a bad preference, or None (no preference).

    `recorded` holds the operation's recorded answers by name (from a fixtures folder).
    """
    wanted = parse_prefer(header)
    code, example = wanted.get("code"), wanted.get("example")
    if code is None and example is None:
        return None
    if code is not None:
        if not (code.isdigit() and len(code) == 3):
            return 400, one_error("header.Prefer", f"code must be a 3-digit status, got {code!r}")
        status = int(code)
        response = op.response_for(status)
        if response is None:
            return 400, one_error(
                "header.Prefer", f"{op.operation_id} documents no response with status {status}"
            )
        return status, _example_or_minimal(status, response.examples, response.message, example, op)
    assert example is not None
    if recorded and example in recorded:
        return recorded[example].status, recorded[example].body
    for key, response in op.responses.items():
        if example in response.examples and key.isdigit():
            return int(key), response.examples[example]
    return 400, one_error(
        "header.Prefer", f"{op.operation_id} has no response example named {example!r}"
    )


def _example_or_minimal(
    status: int,
    examples: dict[str, Any],
    message: str | None,
    name: str | None,
    op: Operation,
) -> Any:
    if name is not None and name in examples:
        return examples[name]
    if name is None and examples:
        return next(iter(examples.values()))
    if status >= 400:
        return error_body()
    return {"ok": True, "message": message or "success"}

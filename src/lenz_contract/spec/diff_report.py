"""The diff as a gate: acknowledgements, the exit code, and the Markdown and JSON reports.

A breaking change passes the gate once it is *acknowledged*: its id (or a glob pattern of ids,
`response-*:Workflow.*`) is listed in an acknowledgement file (one per line, `#` starts a
comment) or given with `--allow`. The file lives next to the contract and is changed in the same
pull request as the contract, so the review that accepts the break sees it named. A pattern
that matches no change is reported as stale (left over from an earlier change), never an error.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .diff import Change
from .errors import SpecError, SpecProblem

AUDIENCES = ("clients", "deployments")


@dataclass
class Gate:
    """The changes, what is acknowledged, and what fails the gate."""

    changes: list[Change]
    audiences: tuple[str, ...] = AUDIENCES
    patterns: list[str] = field(default_factory=list)

    def acknowledged(self, change: Change) -> bool:
        return any(fnmatch.fnmatchcase(change.id, p) for p in self.patterns)

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking_for(self.audiences)]

    @property
    def failing(self) -> list[Change]:
        return [c for c in self.breaking if not self.acknowledged(c)]

    @property
    def stale(self) -> list[str]:
        return [
            p for p in self.patterns if not any(fnmatch.fnmatchcase(c.id, p) for c in self.changes)
        ]

    @property
    def exit_code(self) -> int:
        return 1 if self.failing else 0


def read_acknowledgements(path: Path) -> list[str]:
    """The ids (or patterns) of an acknowledgement file; raises `SpecError` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(
            [SpecProblem(str(path), f"cannot be read: {exc.strerror or exc}")]
        ) from None
    except UnicodeDecodeError:
        raise SpecError([SpecProblem(str(path), "not UTF-8 text")]) from None
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        if " " in entry or ":" not in entry:
            raise SpecError(
                [
                    SpecProblem(
                        f"{path}:{number}",
                        f"{entry!r} is not a change id (`<kind>:<place>`, as the diff prints it)",
                    )
                ]
            )
        out.append(entry)
    return out


def to_json(gate: Gate, *, old: str, new: str) -> dict[str, Any]:
    return {
        "report": "lenz-contract diff",
        "old": old,
        "new": new,
        "audiences": list(gate.audiences),
        "summary": summary(gate),
        "exit_code": gate.exit_code,
        "stale_acknowledgements": gate.stale,
        "changes": [{**c.to_json(), "acknowledged": gate.acknowledged(c)} for c in gate.changes],
    }


def summary(gate: Gate) -> dict[str, Any]:
    counts: dict[str, dict[str, int]] = {}
    for audience in AUDIENCES:
        verdicts = [getattr(c, audience).verdict for c in gate.changes]
        counts[audience] = {v: verdicts.count(v) for v in ("breaking", "warning", "compatible")}
    return {
        "changes": len(gate.changes),
        **counts,
        "acknowledged": sum(1 for c in gate.breaking if gate.acknowledged(c)),
        "failing": len(gate.failing),
    }


def _verdict(change: Change, audience: str, gate: Gate) -> str:
    judgement = getattr(change, audience)
    mark = {"breaking": "**breaking**", "warning": "warning", "compatible": "compatible"}
    shown = mark[judgement.verdict]
    if judgement.verdict == "breaking" and gate.acknowledged(change):
        shown += " (acknowledged)"
    return f"{shown}: {judgement.why}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(gate: Gate, *, old: str, new: str) -> str:
    counts = summary(gate)
    lines = [
        "# Contract change",
        "",
        f"`{old}` → `{new}`: {counts['changes']} change(s); breaking for clients: "
        f"{counts['clients']['breaking']}, for deployments: {counts['deployments']['breaking']}; "
        f"acknowledged: {counts['acknowledged']}; failing the gate: {counts['failing']}.",
        "",
    ]
    if not gate.changes:
        lines += ["No changes.", ""]
        return "\n".join(lines)
    if gate.failing:
        lines += ["## Unacknowledged breaking changes", ""]
        lines += [f"- `{c.id}`" for c in gate.failing]
        lines += [
            "",
            "Acknowledge one by adding its id to the acknowledgement file (or `--allow ID`) "
            "in the same change as the contract.",
            "",
        ]
    lines += [
        "## Changes",
        "",
        "| change | detail | clients | deployments | pointers (old → new) | operations |",
        "|---|---|---|---|---|---|",
    ]
    for change in gate.changes:
        pointers = f"`{change.old or '-'}` → `{change.new or '-'}`"
        lines.append(
            "| "
            + " | ".join(
                _cell(text)
                for text in (
                    f"`{change.id}`",
                    change.detail,
                    _verdict(change, "clients", gate),
                    _verdict(change, "deployments", gate),
                    pointers,
                    ", ".join(change.operations) or "-",
                )
            )
            + " |"
        )
    if gate.stale:
        lines += ["", "Acknowledgements that match no change (stale): " + _ids(gate.stale)]
    lines.append("")
    return "\n".join(lines)


def _ids(ids: Iterable[str]) -> str:
    return ", ".join(f"`{i}`" for i in ids)

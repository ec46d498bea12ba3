"""The live summary (`/__proxy/report`) and the summary of a saved JSONL log (`proxy report`).

Violations are grouped by what is wrong, not by when: the same missing field seen on 40
requests is one line with a count, its first and last time, and the latest example's curl.
"""

from __future__ import annotations

import json
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ..spec import Spec
from .violations import Violation

RECENT = 100
MAX_UNMATCHED = 200
GroupKey = tuple[str, str, str, str, str]


@dataclass
class Issue:
    """One distinct violation (operation, direction, path, rule, expected) and how often."""

    sample: Violation
    count: int = 0
    first_seen: str = ""
    last_seen: str = ""

    def to_json(self) -> dict[str, Any]:
        v = self.sample
        return {
            "direction": v.direction,
            "path": v.path,
            "rule": v.rule,
            "expected": v.expected,
            "actual": v.actual,
            "source": v.source,
            "engine": v.engine,
            "message": v.message,
            "count": self.count,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "last_status": v.status,
            "last_url": f"{v.method} {v.url}",
            "curl": v.curl,
            "rests_on": list(v.rests_on),
            "basis": v.basis,
        }


@dataclass
class OperationStats:
    operation: str
    method: str = ""
    path: str = ""
    exchanges: int = 0
    request_violations: int = 0
    response_violations: int = 0
    issues: dict[GroupKey, Issue] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        issues = sorted(self.issues.values(), key=lambda i: (-i.count, i.sample.path))
        return {
            "operation": self.operation,
            "method": self.method,
            "path": self.path,
            "exchanges": self.exchanges,
            "violations": {
                "request": self.request_violations,
                "response": self.response_violations,
            },
            "issues": [i.to_json() for i in issues],
        }


class ReportState:
    """Everything `/__proxy/report` shows; mutated on the event loop only."""

    def __init__(
        self, spec: Spec, *, upstream: str, started_at: str, settings: dict[str, Any]
    ) -> None:
        self.upstream = upstream
        self.started_at = started_at
        self.settings = settings
        self.exchanges = 0
        self.upstream_errors = 0
        self.last_upstream_error: str | None = None
        self.unmatched: Counter[tuple[str, str]] = Counter()
        self.recent: deque[Violation] = deque(maxlen=RECENT)
        self.operations: dict[str, OperationStats] = {
            op.operation_id: OperationStats(op.operation_id, op.method, op.path)
            for op in spec.operations.values()
        }

    def count_exchange(self, operation: str | None, method: str, path: str) -> None:
        self.exchanges += 1
        if operation is None:
            key = (method, path)
            if key in self.unmatched or len(self.unmatched) < MAX_UNMATCHED:
                self.unmatched[key] += 1
            return
        self._stats(operation).exchanges += 1

    def count_upstream_error(self, message: str) -> None:
        self.upstream_errors += 1
        self.last_upstream_error = message

    def add(self, violation: Violation) -> None:
        stats = self._stats(violation.operation)
        if violation.direction == "request":
            stats.request_violations += 1
        else:
            stats.response_violations += 1
        key = (
            violation.operation,
            violation.direction,
            violation.path,
            violation.rule,
            violation.expected,
        )
        issue = stats.issues.get(key)
        if issue is None:
            issue = stats.issues[key] = Issue(violation, first_seen=violation.time)
        issue.sample = violation
        issue.count += 1
        issue.last_seen = violation.time
        self.recent.append(violation)

    def _stats(self, operation: str) -> OperationStats:
        found = self.operations.get(operation)
        if found is None:
            method, _, path = operation.partition(" ")
            found = self.operations[operation] = OperationStats(operation, method, path)
        return found

    def to_json(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        request = sum(s.request_violations for s in self.operations.values())
        response = sum(s.response_violations for s in self.operations.values())
        return {
            "proxy": {"upstream": self.upstream, "started_at": self.started_at, **self.settings},
            "totals": {
                "exchanges": self.exchanges,
                "violations": request + response,
                "request_violations": request,
                "response_violations": response,
                "unmatched": sum(self.unmatched.values()),
                "upstream_errors": self.upstream_errors,
            },
            "last_upstream_error": self.last_upstream_error,
            **(extra or {}),
            "operations": [s.to_json() for s in self.operations.values()],
            "unmatched": [
                {"method": m, "path": p, "count": n} for (m, p), n in self.unmatched.most_common(50)
            ],
            "recent": [v.to_json() for v in reversed(self.recent)],
        }


# --- the summary of a saved log ----------------------------------------------------------------


def read_log(path: Path) -> tuple[list[Violation], int]:
    """The violations of a JSONL log, and how many lines could not be read."""
    out: list[Violation] = []
    bad = 0
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError:
                bad += 1
                continue
            if isinstance(data, dict):
                out.append(Violation.from_json(data))
            else:
                bad += 1
    return out, bad


def _groups(violations: Iterable[Violation]) -> Iterator[tuple[tuple[str, str], list[Violation]]]:
    grouped: dict[tuple[str, str], list[Violation]] = {}
    for v in violations:
        grouped.setdefault((v.operation, v.direction), []).append(v)
    yield from sorted(grouped.items())


def print_log_summary(path: Path, console: Console) -> None:
    """Rich tables: one row per operation and direction, then each distinct violation."""
    violations, bad = read_log(path)
    exchanges = len({v.exchange for v in violations})
    console.print(
        f"[bold]{path}[/bold]: {len(violations)} violation(s) in {exchanges} exchange(s)"
        + (f", {bad} unreadable line(s) skipped" if bad else "")
    )
    if not violations:
        console.print("[green]no violations recorded[/green]")
        return
    summary = Table(title="Violations per operation and direction")
    for column in (
        "operation",
        "direction",
        "violations",
        "exchanges",
        "distinct",
        "documented",
        "inferred",
        "most frequent",
    ):
        summary.add_column(
            column,
            justify="right"
            if column in ("violations", "exchanges", "distinct", "documented", "inferred")
            else "left",
        )
    for (operation, direction), items in _groups(violations):
        paths = Counter(v.path for v in items)
        top, top_count = paths.most_common(1)[0]
        sources = Counter(v.source for v in items)
        summary.add_row(
            operation,
            direction,
            str(len(items)),
            str(len({v.exchange for v in items})),
            str(len({(v.path, v.rule, v.expected) for v in items})),
            str(sources.get("documented", 0)),
            str(sources.get("inferred", 0)),
            f"{top} (x{top_count})",
        )
    console.print(summary)
    detail = Table(title="Distinct violations")
    for column in ("operation", "direction", "path", "expected", "last actual", "source", "count"):
        detail.add_column(column, overflow="fold")
    distinct: dict[tuple[str, str, str, str], list[Violation]] = {}
    for v in violations:
        distinct.setdefault((v.operation, v.direction, v.path, v.expected), []).append(v)
    for (operation, direction, json_path, expected), items in sorted(
        distinct.items(), key=lambda kv: -len(kv[1])
    ):
        detail.add_row(
            operation,
            direction,
            json_path,
            expected,
            items[-1].actual,
            items[-1].source,
            str(len(items)),
        )
    console.print(detail)

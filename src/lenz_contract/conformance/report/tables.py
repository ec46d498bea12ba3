"""What every report shows, once: the header facts of a run and its two tables.

The console, the Markdown and the HTML report lay these out each in their own way; the words
and the counts come from here, so the three always say the same thing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ..results import Outcome, RunResult, Status

COUNTED = (Status.PASSED, Status.FAILED, Status.SKIPPED, Status.ERROR)
COUNT_COLUMNS = tuple({Status.ERROR: "errors"}.get(s, s.value) for s in COUNTED)


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    wide: frozenset[str] = frozenset()  # columns a narrow layout (the console) leaves out


def operation_table(result: RunResult) -> Table:
    counts: dict[str, dict[Status, int]] = defaultdict(lambda: dict.fromkeys(Status, 0))
    for outcome in result.outcomes.values():
        counts[outcome.operation][outcome.status] += 1
    rows = [(op, *(str(c[s]) for s in COUNTED)) for op, c in sorted(counts.items())]
    return Table("Operations", ("operation", *COUNT_COLUMNS), rows)


def check_table(result: RunResult) -> Table:
    counts: dict[str, dict[Status, int]] = defaultdict(lambda: dict.fromkeys(Status, 0))
    sample: dict[str, Outcome] = {}
    for outcome in result.outcomes.values():
        counts[outcome.check][outcome.status] += 1
        sample.setdefault(outcome.check, outcome)
    rows = [
        (
            name,
            sample[name].rule.profile,
            sample[name].rule.source.value,
            sample[name].rule.text,
            *(str(counts[name][s]) for s in COUNTED),
        )
        for name in sorted(counts)
    ]
    columns = ("check", "profile", "rests on", "rule", *COUNT_COLUMNS)
    return Table("Checks", columns, rows, frozenset({"rule"}))


def facts(result: RunResult) -> list[tuple[str, str]]:
    """The header of a report: (label, text) pairs; an empty label marks a plain line."""
    phases = ", ".join(f"{k} {v}" for k, v in sorted(result.requests_by_phase.items()))
    out = [
        ("target", result.target),
        ("profile", result.profile),
        ("run", f"{result.run_id}, seed {result.seed}"),
        ("requests", f"{result.requests} in {result.duration:.1f}s ({phases})"),
        (
            "execution checks",
            ("on" if result.execute_allowed else "off")
            + (" (the target is the mock)" if result.is_mock else ""),
        ),
        ("replay", result.replay),
        (
            "guard",
            f"{result.guard_rewrites} writes sent to an absent id (not this run's), "
            f"{result.guard_refusals} refused, {result.rate_limit_waits} waits on 429, "
            f"{result.token_refreshes} token renewals",
        ),
    ]
    out += [("note", note) for note in result.notes]
    out += [("", line) for line in result.coverage()]
    out += [("SAFETY", line) for line in result.safety]
    if result.target_lost:
        out.append(("the target stopped answering", result.target_lost))
    return out

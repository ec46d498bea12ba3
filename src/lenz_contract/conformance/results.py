"""What a run found: exchanges as they went over the wire, failures, and one outcome per cell.

A cell is one operation × one check; the JUnit report writes one testcase per cell. A failure
carries everything a person needs to act on it: the rule and what it rests on, the expected and
actual answer, a `curl` that replays the request, and the seed that replays the run.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..spec import Source

BODY_EXCERPT = 400
MAX_FAILURES_PER_CELL = 3


@dataclass(frozen=True)
class Exchange:
    """One request as the guard really sent it (after its rewrites) and the answer it got.

    The token is already replaced by `$LENZ_TOKEN` in `request_headers`.
    """

    index: int
    phase: str  # "preflight", "semantic", "generation", "cleanup"
    method: str
    url: str
    path: str  # relative to the target's base path, for matching operations
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes
    status: int | None
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes
    elapsed: float
    note: str = ""  # what the guard did, e.g. "id rewritten: not created by this run"

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.response_headers if k.lower() == lowered), None)

    def sent_token(self) -> bool:
        """Whether the request carried the run's own token (redacted here as `$LENZ_TOKEN`)."""
        return any(
            k.lower() == "authorization" and v == "Bearer $LENZ_TOKEN"
            for k, v in self.request_headers
        )

    def json(self) -> Any:
        try:
            return json.loads(self.response_body)
        except ValueError:
            return None

    def curl(self) -> str:
        """A command that replays this request; the token comes from `$LENZ_TOKEN`."""
        parts = ["curl", "-X", self.method, shlex.quote(self.url)]
        for name, value in self.request_headers:
            lowered = name.lower()
            if lowered == "authorization":
                # double quotes, so the shell fills in $LENZ_TOKEN
                parts += ["-H", f'"Authorization: {_double_quoted(value)}"']
            elif lowered == "content-type":
                parts += ["-H", shlex.quote(f"Content-Type: {value}")]
            elif lowered not in CLIENT_HEADERS and not lowered.startswith("x-schemathesis"):
                parts += ["-H", shlex.quote(f"{name}: {value}")]  # a --header (secrets: ***)
        if self.request_body:
            parts += ["--data-raw", shlex.quote(self.request_body.decode("utf-8", "replace"))]
        return " ".join(parts)

    def body_excerpt(self, limit: int = BODY_EXCERPT) -> str:
        text = self.response_body.decode("utf-8", "replace")
        return text if len(text) <= limit else text[: limit - 3] + "..."


CLIENT_HEADERS = frozenset({"user-agent", "accept"})
"""Headers the HTTP client adds by itself: curl sends its own."""


def _double_quoted(value: str) -> str:
    """Escape for a double-quoted shell word, keeping `$LENZ_TOKEN` live."""
    marker = "\0"
    escaped = value.replace("$LENZ_TOKEN", marker)
    for char in ("\\", '"', "`", "$"):
        escaped = escaped.replace(char, "\\" + char)
    return escaped.replace(marker, "$LENZ_TOKEN")


@dataclass(frozen=True)
class Rule:
    """The rule a check enforces, which profile asserts it, and what it rests on."""

    check: str
    family: str
    profile: str  # "docs" or "strict"
    source: Source
    text: str
    reason: str | None = None
    pointer: str | None = None  # where the rule lives in the spec

    def describe(self) -> str:
        where = f" ({self.pointer})" if self.pointer else ""
        why = f"; {self.reason}" if self.reason else ""
        return f"[{self.profile} profile, {self.source.value}{where}{why}] {self.text}"


@dataclass
class Failure:
    """One broken rule, with the exchange that shows it."""

    check: str
    operation: str
    rule: Rule
    message: str
    expected: str = ""
    actual: str = ""
    exchange: Exchange | None = None
    phase: str = "semantic"
    seed: int | None = None
    steps: list[Exchange] = field(default_factory=list)  # earlier requests the reproduction needs

    @property
    def curl(self) -> str | None:
        return self.exchange.curl() if self.exchange is not None else None

    @property
    def status(self) -> int | None:
        return self.exchange.status if self.exchange is not None else None

    def summary(self) -> str:
        return f"{self.check} on {self.operation}: {self.message.splitlines()[0] if self.message else ''}"


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"


@dataclass
class Outcome:
    """The verdict of one check on one operation."""

    operation: str
    check: str
    rule: Rule
    status: Status = Status.PASSED
    failures: list[Failure] = field(default_factory=list)
    dropped: int = 0  # failures beyond MAX_FAILURES_PER_CELL (same cell, counted only)
    runs: int = 0  # how many times the check ran on this operation
    detail: str = ""  # why skipped, or the error

    def add_failure(self, failure: Failure) -> None:
        self.status = Status.FAILED
        if len(self.failures) < MAX_FAILURES_PER_CELL and not any(
            _same(failure, known) for known in self.failures
        ):
            self.failures.append(failure)
        else:
            self.dropped += 1


def _same(a: Failure, b: Failure) -> bool:
    return (a.message, a.status) == (b.message, b.status)


@dataclass
class RunResult:
    """Everything a run found, for the console, the reports and the exit code."""

    run_id: str
    target: str
    profile: str
    seed: int
    outcomes: dict[tuple[str, str], Outcome] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # problems of the run itself, not the target
    requests: int = 0
    requests_by_phase: dict[str, int] = field(default_factory=dict)
    duration: float = 0.0
    interrupted: bool = False
    created: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)  # created and still there after cleanup
    guard_rewrites: int = 0
    guard_refusals: int = 0
    rate_limit_waits: int = 0
    token_refreshes: int = 0  # new tokens from --token-command after a 401
    is_mock: bool = False
    execute_allowed: bool = False
    notes: list[str] = field(default_factory=list)
    safety: list[str] = field(default_factory=list)  # workflows answered active, and what was done
    target_lost: str = ""  # why the run stopped: the target stopped answering mid-run
    fail_on_skip: bool = False  # a skipped check fails the run (it proved less than asked)
    operations_asked: list[str] = field(default_factory=list)
    operations_exercised: set[str] = field(default_factory=set)
    replay: str = ""  # the command line that replays this run (add `--only <operation>`)

    def replay_for(self, failure: Failure) -> str:
        """How to replay the run that found `failure`, narrowed to its operation and check."""
        return f"{self.replay} --only {failure.operation}" if self.replay else ""

    def outcome(self, operation: str, check: str, rule: Rule) -> Outcome:
        key = (operation, check)
        if key not in self.outcomes:
            self.outcomes[key] = Outcome(operation, check, rule)
        return self.outcomes[key]

    @property
    def failures(self) -> list[Failure]:
        return [f for o in self.outcomes.values() for f in o.failures]

    @property
    def failed_checks(self) -> list[str]:
        return sorted({o.check for o in self.outcomes.values() if o.status is Status.FAILED})

    @property
    def ok(self) -> bool:
        """Nothing failed, nothing broke, and the run went to its end."""
        return (
            not self.failed_checks
            and not self.errors
            and not self.interrupted
            and not self.target_lost
            and not any(o.status is Status.ERROR for o in self.outcomes.values())
            and not (self.fail_on_skip and self.counts()[Status.SKIPPED])
        )

    @property
    def exit_code(self) -> int:
        """0 conforms; 1 a check failed or errored (or was skipped, with --fail-on-skip);
        2 the target stopped answering; 130 interrupted."""
        if self.interrupted:
            return 130
        if self.target_lost:
            return 2
        return 0 if self.ok else 1

    def counts(self) -> dict[Status, int]:
        """Cells per status; run errors (not tied to a cell) count as errors too, so that the
        summary line and the tables add up."""
        out = dict.fromkeys(Status, 0)
        for outcome in self.outcomes.values():
            out[outcome.status] += 1
        out[Status.ERROR] += len(self.errors)
        return out

    def summary_counts(self) -> str:
        counts = self.counts()
        return (
            f"{counts[Status.FAILED]} failed, {counts[Status.ERROR]} errors, "
            f"{counts[Status.SKIPPED]} skipped, {counts[Status.PASSED]} passed"
        )

    def exercised(self) -> list[str]:
        """The operations some request of the checks or the generated phases reached."""
        return sorted(self.operations_exercised)

    def coverage(self) -> list[str]:
        """What the run proved, and what it did not (and why), in a few lines."""
        asked = self.operations_asked
        lines = [f"{len(set(asked) & self.operations_exercised)}/{len(asked)} operations exercised"]
        missing = [op for op in asked if op not in self.operations_exercised]
        if missing:
            lines[0] += f" (not: {', '.join(missing)})"
        by_reason: dict[str, set[str]] = {}
        for outcome in self.outcomes.values():
            if outcome.status is Status.SKIPPED:
                by_reason.setdefault(outcome.detail or "not exercised", set()).add(outcome.check)
        for reason, checks in sorted(by_reason.items(), key=lambda item: -len(item[1])):
            names = sorted(checks)
            shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
            lines.append(f"skipped: {shown}: {reason}")
        return lines

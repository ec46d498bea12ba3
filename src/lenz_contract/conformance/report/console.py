"""The console: live progress while the run goes, then the summary and every failure.

On a terminal the progress is a live panel (phase, requests, cells passed/failed, the latest
failures); elsewhere (CI logs) it is one line per phase and per failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..results import Failure, Outcome, RunResult, Status
from .tables import check_table, operation_table
from .text import leftovers_line, summary_line


class ConsoleReporter:
    """Implements `runner.Reporter` on a rich console."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.requests: Callable[[], int] | None = None  # the requests sent so far
        self.current = "starting"
        self.failures: list[str] = []
        self.started = time.monotonic()
        self.live: Live | None = None
        self._last_phase = ""
        self.result: RunResult | None = None

    def __enter__(self) -> ConsoleReporter:
        if self.console.is_terminal:
            self.live = Live(
                self._render(), console=self.console, refresh_per_second=4, transient=True
            )
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)
            self.live = None

    # -- Reporter ------------------------------------------------------------------------------

    def watch(self, requests: Callable[[], int]) -> None:
        self.requests = requests

    def phase(self, name: str) -> None:
        self.current = name
        key = name if name.startswith("generation") else name.split(":")[0]
        if self.live is None and key != self._last_phase:
            self.console.print(name, markup=False)
            self._last_phase = key
        self._refresh()

    def outcome(self, outcome: Outcome, result: RunResult) -> None:
        self.result = result
        if outcome.status is Status.FAILED:
            self._show(outcome.failures[-1:])
        self._refresh()

    def scenario(self, phase: str, label: str, result: RunResult) -> None:
        self.result = result
        self.current = f"generation: {phase} {label}"
        self._show(
            f for o in result.outcomes.values() if o.status is Status.FAILED for f in o.failures
        )
        self._refresh()

    def _show(self, failures: Iterable[Failure]) -> None:
        """One line per failure, once (on a terminal the live panel shows the latest)."""
        for failure in failures:
            line = f"FAIL {failure.check} on {failure.operation}: {failure.message.splitlines()[0]}"
            if line not in self.failures:
                self.failures.append(line)
                if self.live is None:
                    self.console.print(Text(line, style="red"))

    # -- rendering -----------------------------------------------------------------------------

    def _refresh(self) -> None:
        if self.live is not None:
            self.live.update(self._render())

    def _render(self) -> Panel:
        counts = self.result.counts() if self.result else dict.fromkeys(Status, 0)
        sent = self.requests() if self.requests else 0
        line = Text.assemble(
            (f"{self.current}\n", "bold"),
            f"{sent} requests, {time.monotonic() - self.started:.0f}s   ",
            (f"{counts[Status.PASSED]} passed ", "green"),
            (f"{counts[Status.FAILED]} failed ", "red"),
            (f"{counts[Status.SKIPPED]} skipped", "yellow"),
        )
        recent = [Text(f, style="red") for f in self.failures[-5:]]
        return Panel(Group(line, *recent), title="lenz-contract conform", expand=False)


def print_summary(console: Console, result: RunResult, *, details: bool = True) -> None:
    """Tables per operation and per check, each failure with its curl, the final lines."""
    for table in (operation_table(result), check_table(result)):
        shown = [i for i, c in enumerate(table.columns) if c not in table.wide]
        grid = Table(title=table.title)
        for i in shown:
            grid.add_column(table.columns[i])
        failed = table.columns.index("failed")
        for row in table.rows:
            cells = [
                Text(row[i], style="red" if i == failed and row[i] != "0" else "") for i in shown
            ]
            grid.add_row(*cells)
        console.print(grid)
    if details:
        for number, failure in enumerate(result.failures, start=1):
            rule = failure.rule
            console.rule(f"[red]{number}. {failure.check} on {failure.operation}")
            console.print(
                f"rule ({rule.profile} profile, {rule.source.value}): {rule.text}", markup=False
            )
            if rule.reason:
                console.print(f"why: {rule.reason}", markup=False)
            console.print(failure.message, markup=False, highlight=False)
            if failure.expected:
                console.print(f"expected: {failure.expected}", markup=False)
            if failure.actual:
                console.print(f"actual:   {failure.actual}", markup=False, highlight=False)
            for step in failure.steps:
                console.print(
                    f"before it: {step.curl()}", markup=False, highlight=False, soft_wrap=True
                )
            if failure.curl:
                console.print(
                    f"reproduce: {failure.curl}", markup=False, highlight=False, soft_wrap=True
                )
            console.print(
                f"seed {failure.seed}; replay: {result.replay_for(failure)}", markup=False
            )
    for error in result.errors:
        console.print(Text(f"run error: {error}", style="magenta"))
    for event in result.safety:
        console.print(Text(f"SAFETY: {event}", style="bold red"), soft_wrap=True)
    if result.target_lost:
        console.print(Text(f"the target stopped answering: {result.target_lost}", style="red"))
    for line in result.coverage():
        style = "yellow" if line.startswith("skipped") else ""
        console.print(Text(line, style=style), soft_wrap=True)
    # one line, whatever the width: CI logs and `grep` read it whole
    console.print(Text(summary_line(result), style="green" if result.ok else "red"), soft_wrap=True)
    console.print(
        Text(leftovers_line(result), style="red" if result.leftovers else ""), soft_wrap=True
    )

"""Plain-text pieces shared by the reports: one failure, the verdict line, the leftovers line."""

from __future__ import annotations

from ..results import Failure, RunResult


def failure_text(result: RunResult, failure: Failure) -> str:
    lines = [
        f"{failure.check} on {failure.operation} ({failure.phase})",
        f"rule: {failure.rule.describe()}",
        f"what happened: {failure.message}",
    ]
    if failure.expected:
        lines.append(f"expected: {failure.expected}")
    if failure.actual:
        lines.append(f"actual: {failure.actual}")
    if failure.exchange is not None and failure.exchange.note:
        lines.append(f"guard: {failure.exchange.note}")
    for step in failure.steps:
        lines.append(f"before it: {step.curl()}")
    if failure.curl:
        lines.append(f"reproduce: {failure.curl}")
    lines.append(f"seed: {failure.seed}  replay: {result.replay_for(failure)}")
    return "\n".join(lines)


def verdict(result: RunResult) -> str:
    if result.interrupted:
        return "INTERRUPTED"
    return "CONFORMS" if result.ok else "DOES NOT CONFORM"


def leftovers_line(result: RunResult) -> str:
    if not result.leftovers:
        return f"Cleanup: every workflow this run created ({len(result.created)}) is gone."
    return f"Could not delete {len(result.leftovers)} workflow(s) this run created: " + ", ".join(
        result.leftovers
    )

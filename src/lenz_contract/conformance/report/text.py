"""Plain-text pieces shared by the reports: one failure, the verdict line, the leftovers line."""

from __future__ import annotations

from ..results import Failure, RunResult, Status


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
    """One word for the run: a failure says the target breaks a rule; an error or a skip
    under --fail-on-skip says the run could not prove it (never "conforms")."""
    counts = result.counts()
    if result.interrupted:
        return "INTERRUPTED"
    if result.target_lost:
        return "TARGET STOPPED ANSWERING"
    if counts[Status.FAILED]:
        return "DOES NOT CONFORM"
    if counts[Status.ERROR]:
        return "INCOMPLETE (errors)"
    if result.fail_on_skip and counts[Status.SKIPPED]:
        return "INCOMPLETE (skipped checks, --fail-on-skip)"
    return "CONFORMS"


def summary_line(result: RunResult) -> str:
    """The last line of every report: the verdict and the counts the tables add up to."""
    return (
        f"{verdict(result)}: {result.summary_counts()}; {result.requests} requests in "
        f"{result.duration:.1f}s; profile {result.profile}, run {result.run_id}, "
        f"seed {result.seed}"
    )


def leftovers_line(result: RunResult) -> str:
    if not result.leftovers:
        return f"Cleanup: every workflow this run created ({len(result.created)}) is gone."
    return f"Could not delete {len(result.leftovers)} workflow(s) this run created: " + ", ".join(
        result.leftovers
    )

"""A Markdown report for QA: verdict, a table per operation and per check, then every failure
with its rule, expected and actual answer, a `curl` reproduction and the seed to replay it."""

from __future__ import annotations

from collections import defaultdict

from ..results import Failure, Outcome, RunResult, Status
from .text import leftovers_line, summary_line, verdict


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fence(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return fence


def operation_rows(result: RunResult) -> list[tuple[str, dict[Status, int]]]:
    table: dict[str, dict[Status, int]] = defaultdict(lambda: dict.fromkeys(Status, 0))
    for outcome in result.outcomes.values():
        table[outcome.operation][outcome.status] += 1
    return sorted(table.items())


def check_rows(result: RunResult) -> list[tuple[str, Outcome, dict[Status, int]]]:
    table: dict[str, dict[Status, int]] = defaultdict(lambda: dict.fromkeys(Status, 0))
    sample: dict[str, Outcome] = {}
    for outcome in result.outcomes.values():
        table[outcome.check][outcome.status] += 1
        sample.setdefault(outcome.check, outcome)
    return [(name, sample[name], table[name]) for name in sorted(table)]


def render_markdown(result: RunResult) -> str:
    out = [
        f"# Lenz conformance: {verdict(result)}",
        "",
        f"- target: `{result.target}`",
        f"- profile: **{result.profile}**",
        f"- run id: `{result.run_id}`, seed: `{result.seed}`",
        f"- {result.requests} requests in {result.duration:.1f}s "
        + ", ".join(f"{k} {v}" for k, v in sorted(result.requests_by_phase.items())),
        f"- execution checks: {'on' if result.execute_allowed else 'off'}"
        + (" (the target is the mock)" if result.is_mock else ""),
        f"- replay: `{result.replay}`",
        f"- guard: {result.guard_rewrites} writes sent to an absent id (not this run's), "
        f"{result.guard_refusals} refused, {result.rate_limit_waits} waits on 429, "
        f"{result.token_refreshes} token renewals",
        *(f"- note: {_cell(note)}" for note in result.notes),
        *(f"- {line}" for line in result.coverage()),
        *(f"- **SAFETY**: {line}" for line in result.safety),
        *(
            [f"- **the target stopped answering**: {result.target_lost}"]
            if result.target_lost
            else []
        ),
        "",
        f"**{summary_line(result)}**",
        "",
        "## Operations",
        "",
        "| operation | passed | failed | skipped | errors |",
        "|---|---|---|---|---|",
    ]
    for operation, counts in operation_rows(result):
        out.append(
            f"| {operation} | {counts[Status.PASSED]} | {counts[Status.FAILED]} "
            f"| {counts[Status.SKIPPED]} | {counts[Status.ERROR]} |"
        )
    out += [
        "",
        "## Checks",
        "",
        "| check | profile | rests on | rule | passed | failed | skipped | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, sample, counts in check_rows(result):
        rule = sample.rule
        out.append(
            f"| {name} | {rule.profile} | {rule.source.value} | {_cell(rule.text)} "
            f"| {counts[Status.PASSED]} | {counts[Status.FAILED]} | {counts[Status.SKIPPED]} "
            f"| {counts[Status.ERROR]} |"
        )
    failures = result.failures
    out += ["", f"## Failures ({len(failures)})", ""]
    for number, failure in enumerate(failures, start=1):
        out += _failure(result, number, failure)
    if result.errors:
        out += ["## Errors of the run", ""] + [f"- {_cell(e)}" for e in result.errors] + [""]
    out += ["## Cleanup", "", leftovers_line(result), ""]
    return "\n".join(out)


def _failure(result: RunResult, number: int, failure: Failure) -> list[str]:
    rule = failure.rule
    lines = [
        f"### {number}. `{failure.check}` on `{failure.operation}`",
        "",
        f"- rule ({rule.profile} profile, **{rule.source.value}**): {rule.text}",
    ]
    if rule.reason:
        lines.append(f"- why: {rule.reason}")
    if rule.pointer:
        lines.append(f"- in the spec: `{rule.pointer}`")
    lines += [
        f"- phase: {failure.phase}",
        f"- expected: {failure.expected or '-'}",
        f"- actual: {failure.actual or '-'}",
    ]
    if failure.exchange is not None and failure.exchange.note:
        lines.append(f"- guard: {failure.exchange.note}")
    lines += [f"- seed: `{failure.seed}`; replay: `{result.replay_for(failure)}`", ""]
    message = failure.message.strip()
    if message:
        fence = _fence(message)
        lines += [fence, message, fence, ""]
    if failure.steps:
        lines += ["Requests before it:", ""]
        for step in failure.steps:
            lines += ["```sh", step.curl(), "```"]
        lines.append("")
    if failure.curl:
        fence = _fence(failure.curl)
        lines += ["Reproduce (set `LENZ_TOKEN` first):", "", f"{fence}sh", failure.curl, fence, ""]
    if failure.exchange is not None:
        body = failure.exchange.body_excerpt(1000)
        fence = _fence(body)
        lines += [f"Answer `{failure.exchange.status}`:", "", fence, body, fence, ""]
    return lines

"""A Markdown report for QA: verdict, a table per operation and per check, then every failure
with its rule, expected and actual answer, a `curl` reproduction and the seed to replay it."""

from __future__ import annotations

from ..results import Failure, RunResult
from .tables import check_table, facts, operation_table
from .text import leftovers_line, summary_line, verdict


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fence(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return fence


def render_markdown(result: RunResult) -> str:
    out = [f"# Lenz conformance: {verdict(result)}", ""]
    for label, text in facts(result):
        strong = label in ("SAFETY", "the target stopped answering")
        shown = f"**{label}**" if strong else label
        value = f"`{text}`" if label in ("target", "replay") else _cell(text)
        out.append(f"- {shown}: {value}" if label else f"- {value}")
    out += ["", f"**{summary_line(result)}**", ""]
    for table in (operation_table(result), check_table(result)):
        out += [f"## {table.title}", "", "| " + " | ".join(table.columns) + " |"]
        out.append("|" + "---|" * len(table.columns))
        out += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in table.rows]
        out.append("")
    failures = result.failures
    out += [f"## Failures ({len(failures)})", ""]
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

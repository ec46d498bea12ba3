"""A self-contained HTML report for QA (same content as the Markdown one; no scripts)."""

from __future__ import annotations

from html import escape

from ..results import Failure, RunResult
from .tables import check_table, facts, operation_table
from .text import leftovers_line, summary_line, verdict

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:72rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
th{background:#f3f3f3}.failed{color:#b00020;font-weight:bold}.ok{color:#1b7f3b;font-weight:bold}
pre{background:#f6f6f6;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.failure{border-left:4px solid #b00020;padding-left:1rem;margin:1.5rem 0}
"""


def render_html(result: RunResult) -> str:
    state = "ok" if result.ok else "failed"
    title = escape(verdict(result))
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Lenz conformance: {title}</title><style>{STYLE}</style></head><body>",
        f"<h1>Lenz conformance: <span class='{state}'>{title}</span></h1>",
        "<ul>",
    ]
    for label, text in facts(result):
        strong = " class='failed'" if label in ("SAFETY", "the target stopped answering") else ""
        shown = f"{escape(label)}: " if label else ""
        parts.append(f"<li{strong}>{shown}{escape(text)}</li>")
    parts.append(f"</ul><p><b>{escape(summary_line(result))}</b></p>")
    for table in (operation_table(result), check_table(result)):
        parts.append(f"<h2>{table.title}</h2><table><tr>")
        parts.append("".join(f"<th>{escape(c)}</th>" for c in table.columns) + "</tr>")
        for row in table.rows:
            parts.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
        parts.append("</table>")
    failures = result.failures
    parts.append(f"<h2>Failures ({len(failures)})</h2>")
    for number, failure in enumerate(failures, start=1):
        parts.append(_failure(result, number, failure))
    if result.errors:
        parts.append("<h2>Errors of the run</h2><ul>")
        parts += [f"<li>{escape(e)}</li>" for e in result.errors]
        parts.append("</ul>")
    parts.append(f"<h2>Cleanup</h2><p>{escape(leftovers_line(result))}</p></body></html>")
    return "\n".join(parts)


def _failure(result: RunResult, number: int, failure: Failure) -> str:
    rule = failure.rule
    items = [
        f"rule ({escape(rule.profile)} profile, <b>{escape(rule.source.value)}</b>): {escape(rule.text)}",
        *([f"why: {escape(rule.reason)}"] if rule.reason else []),
        *([f"in the spec: <code>{escape(rule.pointer)}</code>"] if rule.pointer else []),
        f"phase: {escape(failure.phase)}",
        f"expected: {escape(failure.expected or '-')}",
        f"actual: {escape(failure.actual or '-')}",
        f"seed <code>{failure.seed}</code>; replay: <code>{escape(result.replay_for(failure))}</code>",
    ]
    html = [
        f"<div class='failure'><h3>{number}. <code>{escape(failure.check)}</code> on "
        f"<code>{escape(failure.operation)}</code></h3><ul>",
        *[f"<li>{item}</li>" for item in items],
        "</ul>",
        f"<pre>{escape(failure.message)}</pre>",
    ]
    for step in failure.steps:
        html.append(f"<p>Before it:</p><pre class='curl'>{escape(step.curl())}</pre>")
    if failure.curl:
        html.append(
            f"<p>Reproduce (set <code>LENZ_TOKEN</code> first):</p><pre class='curl'>{escape(failure.curl)}</pre>"
        )
    if failure.exchange is not None:
        html.append(
            f"<p>Answer {failure.exchange.status}:</p><pre>{escape(failure.exchange.body_excerpt(1000))}</pre>"
        )
    html.append("</div>")
    return "\n".join(html)

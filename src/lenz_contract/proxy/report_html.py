"""`/__proxy/report` as a small self-contained HTML page (no scripts, no external assets).

It refreshes itself every few seconds, so a developer can keep it open beside the app and see
drift appear while clicking through. Every value is HTML-escaped: bodies come from the network.
"""

from __future__ import annotations

from html import escape
from typing import Any

REFRESH_SECONDS = 3

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1d2330;background:#fafbfc}
h1{font-size:1.3rem;margin:0 0 .3rem} h2{font-size:1.05rem;margin:1.4rem 0 .4rem}
.meta{color:#5b6474;margin-bottom:1rem} code{font:12px ui-monospace,monospace}
table{border-collapse:collapse;width:100%;background:#fff;margin-bottom:.6rem}
th,td{border:1px solid #dde1e7;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f2f5;font-weight:600} .n{text-align:right;white-space:nowrap}
.ok{color:#16794c;font-weight:600} .bad{color:#b3261e;font-weight:600}
.badge{display:inline-block;padding:0 .4rem;border-radius:.6rem;font-size:12px}
.documented{background:#fde7e5;color:#8c1d18} .inferred{background:#fff4d6;color:#7a5a00}
.request{background:#e6effd;color:#1a4c9c} .response{background:#efe6fd;color:#55209c}
details summary{cursor:pointer;color:#1a4c9c} pre{white-space:pre-wrap;word-break:break-all;margin:.3rem 0}
"""


def _badge(kind: str) -> str:
    return f'<span class="badge {escape(kind)}">{escape(kind)}</span>'


def render_html(report: dict[str, Any]) -> str:
    totals = report["totals"]
    proxy = report["proxy"]
    state = (
        f'<span class="bad">{totals["violations"]} violation(s)</span>'
        if totals["violations"]
        else '<span class="ok">no violations</span>'
    )
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">',
        "<title>lenz-contract proxy report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Lenz contract proxy</h1>",
        f'<div class="meta">upstream <code>{escape(str(proxy["upstream"]))}</code> · since '
        f"{escape(str(proxy['started_at']))} · {totals['exchanges']} exchange(s) · {state} · "
        f"{totals['unmatched']} outside the spec · {totals['upstream_errors']} upstream error(s)"
        " · refreshes every few seconds</div>",
    ]
    for op in report["operations"]:
        parts.append(_operation(op))
    if report.get("unmatched"):
        parts.append("<h2>Requests outside the spec (not checked)</h2><table>")
        parts.append('<tr><th>method</th><th>path</th><th class="n">count</th></tr>')
        for item in report["unmatched"]:
            parts.append(
                f"<tr><td>{escape(item['method'])}</td><td><code>{escape(item['path'])}</code></td>"
                f'<td class="n">{item["count"]}</td></tr>'
            )
        parts.append("</table>")
    reference = report.get("reference")
    if reference:
        parts.append(
            '<div class="meta">reference engine: '
            + escape(", ".join(f"{k} {v}" for k, v in reference.items()))
            + "</div>"
        )
    parts.append("</body></html>")
    return "".join(parts)


def _operation(op: dict[str, Any]) -> str:
    counts = op["violations"]
    total = counts["request"] + counts["response"]
    mark = (
        f'<span class="bad">{total} violation(s)</span>' if total else '<span class="ok">ok</span>'
    )
    head = (
        f"<h2>{escape(op['operation'])} <code>{escape(op['method'])} {escape(op['path'])}</code>"
        f" · {op['exchanges']} exchange(s) · {mark}</h2>"
    )
    if not op["issues"]:
        return head
    rows = [
        "<table><tr><th>direction</th><th>path</th><th>expected</th><th>actual (latest)</th>"
        '<th>source</th><th class="n">count</th><th>last seen</th></tr>'
    ]
    for issue in op["issues"]:
        rows.append(
            "<tr>"
            f"<td>{_badge(issue['direction'])}</td>"
            f"<td><code>{escape(issue['path'])}</code></td>"
            f"<td>{escape(issue['expected'])}</td>"
            f"<td><code>{escape(issue['actual'])}</code></td>"
            f"<td>{_badge(issue['source'])}</td>"
            f'<td class="n">{issue["count"]}</td>'
            f"<td>{escape(issue['last_seen'])}<details><summary>reproduce</summary>"
            f"<pre>{escape(issue['curl'])}</pre></details></td>"
            "</tr>"
        )
    rows.append("</table>")
    return head + "".join(rows)

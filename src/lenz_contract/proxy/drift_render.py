"""The drift report (`drift_report.build_report`) for people: Markdown and rich console tables.

Both views print the same sections in the same order, differences first within each, and mark
each row `DIFF` or `info`; the JSON document is the full record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rich.console import Console
from rich.table import Table

Row = list[str]
Section = tuple[str, list[str], list[Row]]


def _mark(entry: dict[str, Any]) -> str:
    return "DIFF" if entry["difference"] else "info"


def _counts(counts: dict[str, int], limit: int = 8) -> str:
    items = list(counts.items())
    shown = ", ".join(f"{k} ×{v}" for k, v in items[:limit])
    return shown + (f", … ({len(items) - limit} more)" if len(items) > limit else "")


def _where(entry: dict[str, Any], limit: int = 3) -> str:
    where = entry.get("where") or []
    shown = "; ".join(f"{w['operation']} {w['status']} {w['path']}" for w in where[:limit])
    return shown + (f"; … ({len(where) - limit} more)" if len(where) > limit else "")


def _exchanges(entry: dict[str, Any]) -> str:
    return ", ".join(f"#{n}" for n in entry.get("exchanges") or []) or "-"


def _ordered(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entries, key=lambda e: not e["difference"])


def sections(report: dict[str, Any]) -> list[Section]:
    """`(title, columns, rows)` of every non-empty section."""
    out: list[Section] = []

    def add(
        title: str,
        columns: list[str],
        entries: list[dict[str, Any]],
        row: Callable[[dict[str, Any]], Row],
    ) -> None:
        if entries:
            out.append((title, ["", *columns], [[_mark(e), *row(e)] for e in _ordered(entries)]))

    add(
        "Fields answers carry that the contract does not describe",
        ["schema", "field", "seen", "JSON types", "examples", "where", "exchanges"],
        report["undocumented_fields"],
        lambda e: [
            e["schema"],
            e["field"],
            f"{e['count']} of {e['of']}",
            _counts(e["types"]),
            ", ".join(e["examples"]),
            _where(e),
            _exchanges(e),
        ],
    )
    add(
        "Documented fields: never seen, missing, null or of another type",
        ["schema", "present", "null", "JSON types", "why", "where"],
        report["documented_fields"],
        lambda e: [
            e["schema"],
            f"{e['present']} of {e['objects']}",
            str(e["null"]),
            _counts(e["types"]) or "-",
            e["why"],
            _where(e),
        ],
    )
    add(
        "Statuses the contract does not list",
        ["operation", "status", "count", "content types", "fits", "example", "exchanges"],
        report["statuses"],
        lambda e: [
            e["operation"],
            str(e["status"]),
            str(e["count"]),
            _counts(e["content_types"]),
            e["fits"] or "-",
            (e["examples"] or ["-"])[0],
            _exchanges(e),
        ],
    )
    add(
        "Content types the contract does not list",
        ["operation", "status", "content type", "count", "documented", "exchanges"],
        report["content_types"],
        lambda e: [
            e["operation"],
            e["status"],
            e["content_type"],
            str(e["count"]),
            ", ".join(e["documented"]),
            _exchanges(e),
        ],
    )
    add(
        "Value sets of fields that look like enumerations",
        ["schema", "values seen", "contract", "strict profile", "outside", "where"],
        report["value_sets"],
        lambda e: [
            e["schema"],
            _counts(e["values"]),
            ", ".join(map(str, e["contract_enum"] or e["documented_examples"] or ["(any)"])),
            ", ".join(map(str, e["strict_enum"] or ["-"])),
            ", ".join([*e["outside_contract"], *e["outside_strict"]]) or "-",
            _where(e),
        ],
    )
    add(
        "Timestamps",
        ["schema", "formats", "offsets", "not admitted", "examples"],
        report["timestamps"]["fields"],
        lambda e: [
            e["schema"],
            _counts(e["shapes"]),
            _counts(e["offsets"]) or "(not kept)",
            _not_admitted(e),
            ", ".join(e["examples"]),
        ],
    )
    add(
        "Requests the contract has no operation for",
        ["method", "path", "count"],
        report["unmatched"],
        lambda e: [e["method"], e["path"], str(e["count"])],
    )
    return out


def _not_admitted(entry: dict[str, Any]) -> str:
    parts = []
    if entry["outside_contract"]:
        parts.append("by the contract: " + _counts(entry["outside_contract"]))
    if entry["outside_strict"]:
        parts.append("by the strict profile: " + _counts(entry["outside_strict"]))
    return "; ".join(parts) or "-"


def headline(report: dict[str, Any]) -> str:
    contract = report["contract"]
    against = contract["spec"] + (
        f" + overlay {contract['overlay']}" if contract["overlay"] else ""
    )
    return (
        f"{report['exchanges']} answer(s) against {against}: {report['differences']} difference(s)"
    )


def to_markdown(report: dict[str, Any]) -> str:
    lines = ["# Contract drift", "", headline(report), ""]
    for note in report["notes"]:
        lines.append(f"> {note}")
    if report["notes"]:
        lines.append("")
    found = sections(report)
    if not found:
        lines += ["Nothing to report: every answer is what the contract describes.", ""]
    for title, columns, rows in found:
        lines += [f"## {title}", "", "| " + " | ".join(columns) + " |"]
        lines.append("|" + "---|" * len(columns))
        for row in rows:
            lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
        lines.append("")
    offsets = report["timestamps"]["offsets"]
    if offsets:
        lines += [f"Timestamp offsets seen: {_counts(offsets)}.", ""]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def print_console(report: dict[str, Any], console: Console) -> None:
    style = "red" if report["differences"] else "green"
    console.print(f"[bold {style}]{headline(report)}[/bold {style}]", highlight=False)
    for note in report["notes"]:
        console.print(f"note: {note}", markup=False, highlight=False)
    found = sections(report)
    if not found:
        console.print("Nothing to report: every answer is what the contract describes.")
    for title, columns, rows in found:
        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)

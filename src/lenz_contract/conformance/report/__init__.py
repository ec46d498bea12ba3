"""Reports of a run: the console (live and summary), JUnit XML for CI, Markdown or HTML for QA."""

from __future__ import annotations

from pathlib import Path

from ..results import RunResult
from .html import render_html
from .junit import render_junit
from .markdown import render_markdown

__all__ = ["render_html", "render_junit", "render_markdown", "write_junit", "write_report"]

REPORT_FORMATS = {
    ".md": render_markdown,
    ".markdown": render_markdown,
    ".html": render_html,
    ".htm": render_html,
}


def write_report(result: RunResult, path: Path) -> None:
    """Markdown or HTML, chosen by the file's extension."""
    render = REPORT_FORMATS.get(path.suffix.lower())
    if render is None:
        raise ValueError(f"{path}: the report is .md or .html")
    path.write_text(render(result), encoding="utf-8")


def write_junit(result: RunResult, path: Path) -> None:
    path.write_bytes(render_junit(result))

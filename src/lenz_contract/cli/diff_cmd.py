"""`lenz-contract diff OLD NEW`: what a contract change breaks, for clients and deployments."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..spec import SpecError
from .options import EXISTING_FILE, FILE_PATH, format_option, output_option, written_file_option

AUDIENCE_CHOICES = ("all", "clients", "deployments")


@click.command("diff")
@click.argument("old", type=EXISTING_FILE)
@click.argument("new", type=EXISTING_FILE)
@format_option(("markdown", "json"))
@output_option("the report")
@written_file_option(
    "--json-report", "json_report", "Also write the JSON report here (CI artifacts)."
)
@written_file_option(
    "--markdown-report",
    "markdown_report",
    "Also write the Markdown report here (a job summary, a PR comment).",
)
@click.option(
    "--audience",
    type=click.Choice(AUDIENCE_CHOICES),
    default="all",
    show_default=True,
    help="Whose breaking changes fail the run.",
)
@click.option(
    "--allow",
    multiple=True,
    metavar="ID",
    help="Acknowledge a breaking change by id (or glob pattern); repeatable.",
)
@click.option(
    "--acknowledged",
    type=FILE_PATH,
    help="A file of acknowledged change ids, one per line (# comments); absent means none.",
)
def diff_command(
    old: Path,
    new: Path,
    format: str,  # the config key is the flag's: [diff] format
    output: Path | None,
    json_report: Path | None,
    markdown_report: Path | None,
    audience: str,
    allow: tuple[str, ...],
    acknowledged: Path | None,
) -> None:
    """Compare two versions of the contract; classify every change for each audience.

    Clients read the contract as written (a field removed from an answer, a new required
    request field, a narrower request enum, a removed operation or status break them);
    deployments are judged by the docs profile, on the DOCS view of both (a new required
    answer field, a narrower answer enum, a removed status, a new documented constraint break
    them). Each change has an id (`<kind>:<place>`) and its JSON pointer in both versions.

    Exit 0 when no unacknowledged change is breaking for the audience, 1 when one is, 2 on
    usage errors (a missing or unreadable file, a document that is not a contract).
    """
    from ..spec.diff import diff_documents
    from ..spec.diff_report import AUDIENCES, Gate, read_acknowledgements, to_json, to_markdown
    from ..spec.document import read_document

    err = sys.stderr
    try:
        changes = diff_documents(read_document(old), read_document(new))
        patterns = list(allow)
        if acknowledged is not None and acknowledged.exists():
            patterns += read_acknowledgements(acknowledged)
    except SpecError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem.location}: {problem.message}", file=err)
        sys.exit(2)
    audiences = AUDIENCES if audience == "all" else (audience,)
    gate = Gate(changes, audiences, patterns)
    data = to_json(gate, old=str(old), new=str(new))
    markdown = to_markdown(gate, old=str(old), new=str(new))
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n" if format == "json" else markdown
    try:
        for path, content in (
            (json_report, json.dumps(data, indent=2, ensure_ascii=False) + "\n"),
            (markdown_report, markdown),
        ):
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content, encoding="utf-8")
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=False)
    except OSError as exc:
        click.echo(f"error: cannot write: {exc}", file=err)
        sys.exit(2)
    for pattern in gate.stale:
        click.echo(f"note: acknowledgement {pattern!r} matches no change (stale)", file=err)
    if gate.failing:
        ids = ", ".join(c.id for c in gate.failing)
        click.echo(f"{len(gate.failing)} unacknowledged breaking change(s): {ids}", file=err)
    sys.exit(gate.exit_code)

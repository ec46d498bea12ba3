"""`lenz-contract drift SOURCE...`: how a deployment's real answers differ from the contract.

SOURCE is what `lenz-contract proxy` wrote: an exchange log (`--log-exchanges FILE`, the one
with the answers' bodies), a violation log (`--log FILE`) or a recording folder (`--record DIR`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..spec import SpecError
from .options import (
    format_option,
    load_contract,
    output_option,
    overlay_option,
    spec_option,
    written_file_option,
)

FORMATS = ("console", "markdown", "json")


@click.command("drift")
@click.argument(
    "sources",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    metavar="SOURCE...",
)
@spec_option("compare against")
@overlay_option(
    "comparing (e.g. the one a previous run wrote)", flag="--spec-overlay", name="spec_overlay"
)
@format_option(FORMATS)
@output_option("the report")
@written_file_option(
    "--overlay",
    "overlay",
    "Write an OpenAPI Overlay 1.0 that makes the contract describe what was seen.",
)
@click.option("--fail-on-drift", is_flag=True, help="Exit 1 when the report has a difference (CI).")
def drift_command(
    sources: tuple[Path, ...],
    spec_path: Path | None,
    spec_overlay: Path | None,
    format: str,  # the config key is the flag's: [drift] format
    output: Path | None,
    overlay: Path | None,
    fail_on_drift: bool,
) -> None:
    """Aggregate what the proxy saw into how the deployment differs from the contract.

    Fields answers carry that the contract does not describe, documented fields never seen or
    null, statuses and content types it does not list, the value sets of enumeration-like
    fields and the timestamp formats and offsets seen, each with counts and example values
    (redacted). Exit 0 (1 with --fail-on-drift when there is a difference), 2 on bad input.
    """
    import json

    from rich.console import Console

    from ..proxy.drift import DriftAnalysis
    from ..proxy.drift_input import DriftInputError, read_sources
    from ..proxy.drift_overlay import build_overlay
    from ..proxy.drift_render import print_console, to_markdown
    from ..proxy.drift_report import build_report
    from ..spec.overlay import dump_overlay

    err = Console(stderr=True, highlight=False)
    try:
        spec = load_contract(spec_path, spec_overlay)
    except SpecError as exc:
        err.print(f"error: cannot load the spec: {exc}", markup=False, soft_wrap=True)
        sys.exit(2)
    try:
        read = read_sources(list(sources))
    except DriftInputError as exc:
        err.print(f"error: {exc}", markup=False, soft_wrap=True)
        sys.exit(2)
    analysis = DriftAnalysis(spec)
    analysis.add_sources(read)
    shown = str(spec_path) if spec_path else "the shipped contract"
    report = build_report(
        analysis, read, spec=shown, overlay=str(spec_overlay) if spec_overlay else None
    )
    if format == "json":
        text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    elif format == "markdown" or output is not None:
        text = to_markdown(report)
    else:
        text = ""
    try:
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
            click.echo(f"report: {output} ({report['differences']} difference(s))")
        elif format == "console":
            # A CI log is no terminal: tables of 80 columns would fold every cell.
            wide = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
            print_console(report, Console(highlight=False, width=wide))
        else:
            click.echo(text, nl=False)
        if overlay is not None:
            title = str(spec.document.get("info", {}).get("title") or "the contract")
            document = build_overlay(analysis, title=title)
            if document is None:
                click.echo("overlay: nothing to amend, none written", err=True)
            else:
                overlay.parent.mkdir(parents=True, exist_ok=True)
                overlay.write_text(dump_overlay(document), encoding="utf-8")
                click.echo(
                    f"overlay: {overlay} ({len(document['actions'])} action(s); try it: "
                    f"lenz-contract spec validate --overlay {overlay})",
                    err=True,
                )
    except OSError as exc:
        err.print(f"error: cannot write: {exc}", markup=False, soft_wrap=True)
        sys.exit(2)
    sys.exit(1 if fail_on_drift and report["differences"] else 0)

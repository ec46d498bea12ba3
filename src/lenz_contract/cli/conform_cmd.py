"""`lenz-contract conform`: property-test a Lenz deployment against the contract, safely."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

import click
from rich.console import Console

from ..spec import SpecError
from .options import load_contract, overlay_option, spec_option, written_file_option

RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|m|min|minute)\s*$")
DEFAULT_MAX_EXAMPLES = 50


def parse_rate(value: str | None) -> float | None:
    """`10/s` → 10.0 requests per second; `30/m` → 0.5."""
    if value is None:
        return None
    found = RATE.match(value)
    if found is None or float(found.group(1)) <= 0:
        raise click.BadParameter("expected N/s or N/m, e.g. 10/s", param_hint="--rate-limit")
    per = 1.0 if found.group(2).startswith("s") else 60.0
    return float(found.group(1)) / per


def parse_headers(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    from ..conformance.headers import HeaderError, parse_header

    try:
        return tuple(parse_header(value) for value in values)
    except HeaderError as exc:
        raise click.BadParameter(str(exc), param_hint="--header") from None


@click.command("conform")
@spec_option("check against")
@overlay_option("checking")
@click.option(
    "--base-url",
    envvar="LENZ_BASE_URL",
    required=True,
    help="The deployment (its VITE_API_URL); env LENZ_BASE_URL.",
)
@click.option("--token", envvar="LENZ_TOKEN", help="A bearer token; env LENZ_TOKEN.")
@click.option(
    "--token-command",
    envvar="LENZ_TOKEN_COMMAND",
    metavar="CMD",
    help="A command that prints a bearer token, run at the start and again after a 401 "
    "(short-lived tokens); env LENZ_TOKEN_COMMAND. The token is never logged or reported.",
)
@click.option(
    "--profile",
    type=click.Choice(["docs", "strict"]),
    default="docs",
    show_default=True,
    help="docs: what the docs promise; strict: also this project's inferred conventions.",
)
@click.option("--read-only", is_flag=True, help="Send GET requests only (nothing is created).")
@click.option(
    "--allow-execute",
    is_flag=True,
    help="Run the execution checks (they execute workflows this run created).",
)
@click.option(
    "--max-examples",
    type=click.IntRange(1),
    default=DEFAULT_MAX_EXAMPLES,
    show_default=True,
    help="Generated cases per operation and phase.",
)
@click.option("--time-budget", type=click.FloatRange(min=1), help="Stop generating after SECONDS.")
@click.option("--seed", type=int, help="Replay a run: the seed a report gave.")
@click.option(
    "--workers",
    type=click.IntRange(1, 16),
    default=1,
    show_default=True,
    help="Parallel generation (1 is safest: multi-request checks race otherwise).",
)
@written_file_option("--junit-xml", "junit_xml", "Write JUnit XML here.")
@written_file_option("--report", "report", "Write a QA report here (.md or .html).")
@click.option(
    "--only", multiple=True, metavar="OPERATION", help="Test only this operationId (repeatable)."
)
@click.option(
    "--exclude-check",
    multiple=True,
    metavar="NAME",
    help="Skip a check or a family of checks (repeatable).",
)
@click.option("--rate-limit", help="At most N requests per second (N/s) or minute (N/m).")
@click.option(
    "--fail-on-skip",
    is_flag=True,
    help="A skipped check fails the run (exit 1): the run proved less than asked.",
)
@click.option(
    "-H",
    "--header",
    "headers",
    multiple=True,
    metavar="'NAME: VALUE'",
    callback=lambda ctx, param, values: parse_headers(values),
    help="Send this header with every request (repeatable): a gateway's key, or "
    "'X-Lenz-Mock-Namespace: NAME' on a shared mock. Secret-looking values (key, token, "
    "cookie, ...) are shown as *** in reports.",
)
@click.option(
    "--execution-timeout",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="How long a run still in progress is polled in the logs before it is judged.",
)
def conform_command(
    spec_path: Path | None,
    overlay: Path | None,
    base_url: str,
    token: str | None,
    token_command: str | None,
    profile: str,
    read_only: bool,
    allow_execute: bool,
    max_examples: int,
    time_budget: float | None,
    seed: int | None,
    workers: int,
    junit_xml: Path | None,
    report: Path | None,
    only: tuple[str, ...],
    exclude_check: tuple[str, ...],
    rate_limit: str | None,
    fail_on_skip: bool,
    headers: tuple[tuple[str, str], ...],
    execution_timeout: float,
) -> None:
    """Check a Lenz deployment against the contract.

    Everything the run creates is named lenz-contract-<run id>-..., inactive, and deleted at the
    end (also on failure and Ctrl-C); it never changes what it did not create.

    Exit 0 when the deployment conforms, 1 when a check fails (or errs, or is skipped with
    --fail-on-skip), 2 on usage errors, an unreachable target, a refused token or a target that
    stops answering mid-run, 130 when interrupted.
    """
    from ..conformance import PreflightError, Profile, RunOptions, Target, run
    from ..conformance.checks import families
    from ..conformance.profiles import all_check_names
    from ..conformance.report import write_junit, write_report
    from ..conformance.report.console import ConsoleReporter, print_summary

    try:
        spec = load_contract(spec_path, overlay)
    except SpecError as exc:
        raise click.BadParameter(
            f"cannot load the spec: {exc}", param_hint="--spec/--overlay"
        ) from None
    operations = list(spec.operations)
    unknown_ops = [op for op in only if op not in operations]
    if unknown_ops:
        raise click.BadParameter(
            f"unknown operation(s) {', '.join(unknown_ops)}; known: {', '.join(operations)}",
            param_hint="--only",
        )
    names = set(all_check_names()) | set(families()) | {"schemathesis"}
    unknown_checks = [c for c in exclude_check if c not in names]
    if unknown_checks:
        raise click.BadParameter(
            f"unknown check(s) {', '.join(unknown_checks)}; known: {', '.join(sorted(names))}",
            param_hint="--exclude-check",
        )
    if report is not None and report.suffix.lower() not in (".md", ".markdown", ".html", ".htm"):
        raise click.BadParameter("the report is .md or .html", param_hint="--report")
    if not base_url.startswith(("http://", "https://")):
        raise click.BadParameter("an http:// or https:// URL", param_hint="--base-url")
    if not token and not token_command:
        raise click.UsageError("a token is needed: --token (or LENZ_TOKEN) or --token-command")

    options = RunOptions(
        profile=Profile(profile),
        read_only=read_only,
        allow_execute=allow_execute,
        max_examples=max_examples,
        time_budget=time_budget,
        seed=seed,
        workers=workers,
        only=only,
        exclude_checks=exclude_check,
        rate_limit=parse_rate(rate_limit),
        fail_on_skip=fail_on_skip,
        execution_timeout=execution_timeout,
        token_command=token_command,
        headers=headers,
    )
    _keep_hypothesis_out_of_cwd()
    console = Console(highlight=False)
    err = Console(stderr=True, highlight=False)
    reporter = ConsoleReporter(console)
    try:
        with reporter:
            result = run(Target.http(base_url), token or "", options, reporter=reporter, spec=spec)
    except PreflightError as exc:
        err.print(f"error: {exc}", markup=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted before the run started", markup=False)
        sys.exit(130)
    print_summary(console, result)
    if junit_xml is not None:
        write_junit(result, junit_xml)
        console.print(f"JUnit XML: {junit_xml}", markup=False)
    if report is not None:
        write_report(result, report)
        console.print(f"report: {report}", markup=False)
    sys.exit(result.exit_code)


def _keep_hypothesis_out_of_cwd() -> None:
    """Hypothesis keeps a `.hypothesis/` folder in the working directory; a QA engineer running
    `conform` in some repository should not find one there (HYPOTHESIS_STORAGE_DIRECTORY wins)."""
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "lenz-contract-hypothesis")

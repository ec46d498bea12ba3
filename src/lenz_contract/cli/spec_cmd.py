"""`lenz-contract spec ...`: check and locate the contract."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..spec import SHIPPED_SPEC_PATH, Spec, SpecError
from .options import EXISTING_FILE, fixtures_option, output_option, overlay_option, spec_option


@click.group("spec")
def spec_group() -> None:
    """Check and locate the OpenAPI contract."""


@spec_group.command("path")
def spec_path() -> None:
    """Print where the shipped spec file is (for Swagger UI, generators, Prism...)."""
    click.echo(str(SHIPPED_SPEC_PATH))


@spec_group.command("validate")
@click.argument("path", required=False, type=EXISTING_FILE)
@overlay_option("validating")
def spec_validate(path: Path | None, overlay: Path | None) -> None:
    """Check that PATH (default: the shipped spec) is a valid OpenAPI 3.1 Lenz contract.

    With --overlay, the overlay is applied first and the amended contract is checked.
    Exit 0 when valid, 1 when not (each problem with its JSON path), 2 on usage errors.
    """
    from ..spec.checks import check_document  # openapi-spec-validator: 0.4 s, only needed here

    target = path or SHIPPED_SPEC_PATH
    shown = f"{target} + overlay {overlay}" if overlay else str(target)
    try:
        spec = Spec.load(target, overlay=overlay)
        problems = check_document(spec.document)
    except SpecError as exc:
        problems = exc.problems
    if problems:
        click.secho(f"{shown}: {len(problems)} problem(s)", fg="red", err=True)
        for problem in problems:
            click.echo(f"  {problem.location}: {problem.message}", err=True)
        sys.exit(1)
    click.secho(f"{shown}: valid ({len(spec.operations)} operations)", fg="green")


@spec_group.command("apply")
@click.argument("path", required=False, type=EXISTING_FILE)
@overlay_option("printing (or writing) it", required=True)
@output_option("the amended spec", short=True)
def spec_apply(path: Path | None, overlay: Path, output: Path | None) -> None:
    """Print (or write) PATH (default: the shipped spec) with an overlay applied, as YAML.

    Exit 0, or 1 when the overlay cannot be applied (which action, and why).
    """
    import yaml

    target = path or SHIPPED_SPEC_PATH
    try:
        spec = Spec.load(target, overlay=overlay)
    except SpecError as exc:
        click.secho(f"cannot apply {overlay} to {target}:", fg="red", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem.location}: {problem.message}", err=True)
        sys.exit(1)
    text = yaml.safe_dump(spec.document, sort_keys=False, allow_unicode=True, width=100)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.BadParameter(f"cannot write {output}: {exc}", param_hint="--output") from None
    click.echo(f"{output}: {target} with {overlay} applied")


@spec_group.command("examples")
@spec_option("read", name="spec")
@fixtures_option("to check", name="fixtures")
def spec_examples(spec: Path | None, fixtures: Path | None) -> None:
    """Validate every example of the spec and every fixture file against its schema."""
    from ..spec.examples import check_examples

    try:
        results = check_examples(Spec.load(spec), fixtures)
    except SpecError as exc:
        for problem in exc.problems:
            click.echo(f"{problem.location}: {problem.message}", err=True)
        sys.exit(1)
    failed = [r for r in results if not r.ok]
    for result in results:
        mark = click.style("ok  ", fg="green") if result.ok else click.style("FAIL", fg="red")
        click.echo(f"{mark} {result.name}")
        for error in result.errors:
            click.echo(f"       {error.path}: {error.reason}")
    summary = f"{len(results) - len(failed)} passed, {len(failed)} failed"
    click.secho(summary, fg="red" if failed else "green")
    sys.exit(1 if failed else 0)

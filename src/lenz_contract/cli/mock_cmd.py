"""`lenz-contract mock`: run the stateful mock server of the Lenz Workflows API."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from ..spec import FIXTURES_DIR, SpecError
from ..spec.fixtures import FixtureError
from .options import (
    cors_origin_option,
    fixtures_option,
    host_option,
    log_level_option,
    overlay_option,
    port_option,
    spec_option,
)
from .stopping import sigterm_as_ctrl_c


@click.command("mock")
@host_option
@port_option(4010)
@click.option(
    "--token",
    "tokens",
    multiple=True,
    metavar="TOKEN[=USER_ID[@NAMESPACE]]",
    help="Accepted bearer token (repeatable); default lenz-mock-token for user-alfin. "
    "@NAMESPACE confines the token to that namespace.",
)
@click.option(
    "--state",
    "state_path",
    metavar="FILE|postgresql://USER@HOST:PORT/DB",
    help="Keep the state in this SQLite file (survives restarts, shared by workers), or in a "
    "PostgreSQL database (shared by replicas on any machine).",
)
@fixtures_option("whose seed/ is the starting state")
@click.option("--seed/--no-seed", default=True, show_default=True, help="Start from the seed data.")
@click.option(
    "--latency", "latency_ms", default=0.0, type=click.FloatRange(0, 60_000), metavar="MS"
)
@cors_origin_option("any origin (*)")
@click.option("--reload-spec", is_flag=True, help="Rebuild when the spec file changes.")
@spec_option("serve")
@overlay_option("serving")
@click.option("--admin", is_flag=True, help="Open /__mock/ even when not listening on loopback.")
@click.option(
    "--self-check", is_flag=True, help="Validate every answer against the spec (500 on a mismatch)."
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="uvicorn worker processes (needs --state).",
)
@click.option(
    "--scheduler/--no-scheduler",
    default=True,
    show_default=True,
    help="Fire schedules in the background (moving the clock fires them in any case).",
)
@log_level_option
def mock_command(
    host: str,
    port: int,
    tokens: tuple[str, ...],
    state_path: str | None,
    fixtures_dir: Path | None,
    seed: bool,
    latency_ms: float,
    cors_origins: tuple[str, ...],
    reload_spec: bool,
    spec_path: Path | None,
    overlay: Path | None,
    admin: bool,
    self_check: bool,
    workers: int,
    scheduler: bool,
    log_level: str,
) -> None:
    """Serve a stateful mock of the Lenz Workflows API, driven by the OpenAPI contract.

    With --overlay, the mock serves the contract amended by the overlay (its /openapi.yaml and
    docs page show the amended one). A request's X-Lenz-Mock-Namespace header (or a token bound
    to a namespace) selects an isolated copy of the whole state, created from the seed.
    """
    from ..mock.auth import parse_token_specs
    from ..mock.config import MockConfig, is_database_url
    from ..mock.server import serve
    from ..mock.snapshot import SnapshotError
    from ..mock.state import describe_state, open_backend
    from ..mock.store import StoreError

    try:
        specs = parse_token_specs(tokens)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--token") from None
    accepted = {spec.token: spec.user for spec in specs}
    if workers > 1 and not state_path:
        raise click.UsageError(
            "--workers > 1 needs --state FILE or --state postgresql://...: "
            "each worker has its own memory"
        )
    database_url = state_path if state_path and is_database_url(state_path) else None
    if state_path and database_url is None and Path(state_path).is_dir():
        raise click.BadParameter(f"{state_path} is a folder, not a file", param_hint="--state")
    if overlay is not None and reload_spec:
        raise click.UsageError(
            "--reload-spec watches one spec file; with --overlay, write the amended spec "
            "(lenz-contract spec apply --overlay FILE -o amended.yaml) and serve that"
        )
    config = MockConfig(
        spec_path=spec_path,
        tokens=accepted,
        token_namespaces={spec.token: spec.namespace for spec in specs if spec.namespace},
        state_path=Path(state_path) if state_path and database_url is None else None,
        database_url=database_url,
        fixtures_dir=fixtures_dir or FIXTURES_DIR,
        seed=seed,
        latency_ms=latency_ms,
        cors_origins=cors_origins or ("*",),
        reload_spec=reload_spec,
        host=host,
        admin=admin,
        self_check=self_check,
        scheduler=scheduler,
    )

    def banner(url: str) -> None:
        click.echo(f"Lenz Workflows API mock listening on {url}")
        for spec in specs:
            bound = f", namespace {spec.namespace} only" if spec.namespace else ""
            click.echo(f"  token: Authorization: Bearer {spec.token}   (user {spec.user}{bound})")
        click.echo(f"  docs:  {url}/docs   (spec: {url}/openapi.yaml, {url}/openapi.json)")
        admin_note = "" if config.admin_allowed else "   (closed: not on loopback; use --admin)"
        click.echo(f"  admin: {url}/__mock/{admin_note}")
        click.echo(f"  state: {describe_state(config)}; seed {'on' if seed else 'off'}")
        click.echo("  namespaces: X-Lenz-Mock-Namespace: NAME (default: default)")
        if overlay is not None:
            click.echo(f"  overlay: {overlay} applied to the contract")
        click.echo("Press Ctrl-C to stop.", nl=True)
        sys.stdout.flush()

    with contextlib.ExitStack() as stack:
        if overlay is not None:
            config.spec_path = _amended(spec_path, overlay, stack)
        try:
            if workers > 1 and (database_url or state_path):  # each worker opens it: check once
                open_backend(config).close()
            with sigterm_as_ctrl_c():  # `serve` ends quietly on Ctrl-C; SIGTERM: the same path
                serve(config, port=port, workers=workers, log_level=log_level, on_started=banner)
        except (SpecError, SnapshotError, FixtureError) as exc:
            click.secho(f"cannot start the mock: {exc}", fg="red", err=True)
            sys.exit(1)
        except StoreError as exc:  # a database that cannot be reached or used: a usage error
            click.secho(f"cannot start the mock: {exc}", fg="red", err=True)
            sys.exit(2)
    click.echo("mock stopped")


def _amended(spec_path: Path | None, overlay: Path, stack: contextlib.ExitStack) -> Path:
    """The spec with the overlay applied, written to a temporary file the mock serves as its
    spec (the mock reads a spec from a path; this way it needs no overlay of its own); the file
    goes when the mock stops."""
    import tempfile

    import yaml

    from .options import load_contract

    try:
        spec = load_contract(spec_path, overlay)
    except SpecError as exc:
        click.secho(f"cannot start the mock: {exc}", fg="red", err=True)
        sys.exit(1)
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lenz-overlay-")))
    amended = folder / "lenz-workflows.amended.yaml"
    amended.write_text(
        yaml.safe_dump(spec.document, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    return amended

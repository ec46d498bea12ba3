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
    metavar="TOKEN[=USER_ID]",
    help="Accepted bearer token (repeatable); default lenz-mock-token for user-alfin.",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the state in this SQLite file (survives restarts, shared by workers).",
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
@log_level_option
def mock_command(
    host: str,
    port: int,
    tokens: tuple[str, ...],
    state_path: Path | None,
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
    log_level: str,
) -> None:
    """Serve a stateful mock of the Lenz Workflows API, driven by the OpenAPI contract.

    With --overlay, the mock serves the contract amended by the overlay (its /openapi.yaml and
    docs page show the amended one).
    """
    from ..mock.auth import parse_tokens
    from ..mock.config import MockConfig
    from ..mock.server import serve
    from ..mock.snapshot import SnapshotError

    try:
        accepted = parse_tokens(tokens)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--token") from None
    if workers > 1 and state_path is None:
        raise click.UsageError("--workers > 1 needs --state FILE: each worker has its own memory")
    if overlay is not None and reload_spec:
        raise click.UsageError(
            "--reload-spec watches one spec file; with --overlay, write the amended spec "
            "(lenz-contract spec apply --overlay FILE -o amended.yaml) and serve that"
        )
    config = MockConfig(
        spec_path=spec_path,
        tokens=accepted,
        state_path=state_path,
        fixtures_dir=fixtures_dir or FIXTURES_DIR,
        seed=seed,
        latency_ms=latency_ms,
        cors_origins=cors_origins or ("*",),
        reload_spec=reload_spec,
        host=host,
        admin=admin,
        self_check=self_check,
    )

    def banner(url: str) -> None:
        click.echo(f"Lenz Workflows API mock listening on {url}")
        for token, user in accepted.items():
            click.echo(f"  token: Authorization: Bearer {token}   (user {user})")
        click.echo(f"  docs:  {url}/docs   (spec: {url}/openapi.yaml, {url}/openapi.json)")
        admin_note = "" if config.admin_allowed else "   (closed: not on loopback; use --admin)"
        click.echo(f"  admin: {url}/__mock/{admin_note}")
        where = str(state_path) if state_path else "memory"
        click.echo(f"  state: {where}; seed {'on' if seed else 'off'}")
        if overlay is not None:
            click.echo(f"  overlay: {overlay} applied to the contract")
        click.echo("Press Ctrl-C to stop.", nl=True)
        sys.stdout.flush()

    with contextlib.ExitStack() as stack:
        if overlay is not None:
            config.spec_path = _amended(spec_path, overlay, stack)
        try:
            with sigterm_as_ctrl_c():  # `serve` ends quietly on Ctrl-C; SIGTERM: the same path
                serve(config, port=port, workers=workers, log_level=log_level, on_started=banner)
        except (SpecError, SnapshotError, FixtureError) as exc:
            click.secho(f"cannot start the mock: {exc}", fg="red", err=True)
            sys.exit(1)
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

"""`lenz-contract proxy --upstream URL ...` and `lenz-contract proxy report FILE.jsonl`.

`proxy` is a group that runs the proxy itself when no subcommand is given, so the short form
of the issue (`proxy --upstream URL`) and `proxy report FILE` both work.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from ..spec import SpecError
from .options import (
    EXISTING_FILE,
    cors_origin_option,
    host_option,
    load_contract,
    log_level_option,
    overlay_option,
    port_option,
    spec_option,
    written_file_option,
)
from .stopping import sigterm_as_ctrl_c


@click.group("proxy", invoke_without_command=True)
@click.option(
    "--upstream", metavar="URL", help="The Lenz deployment to forward to (its VITE_API_URL)."
)
@host_option
@port_option(4011)
@written_file_option("--log", "log_path", "Append every violation to this JSONL file.")
@written_file_option(
    "--log-exchanges",
    "log_exchanges",
    "Append every exchange (redacted bodies) to this JSONL file, for `lenz-contract drift`.",
)
@click.option(
    "--record",
    "record_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Record conforming answers (redacted) as a fixtures folder for `mock --fixtures`.",
)
@click.option(
    "--fail-on-violation",
    is_flag=True,
    help="Answer 502 naming the violation when an upstream answer breaks the contract (CI).",
)
@cors_origin_option("none: the upstream's own CORS answers pass through")
@click.option(
    "--timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0.1, 3600),
    help="Seconds to wait for the upstream (504 after).",
)
@click.option(
    "--reference-engine",
    "reference",
    default="process",
    show_default=True,
    type=click.Choice(["process", "thread", "off"]),
    help="Where openapi-core re-checks exchanges in the background.",
)
@click.option(
    "--transport",
    default="fast",
    show_default=True,
    type=click.Choice(["fast", "httpcore"]),
    help="HTTP client transport to the upstream (httpcore: httpx's stock one, slower).",
)
@click.option(
    "--semantics/--no-semantics",
    default=True,
    show_default=True,
    help="Judge what traffic shows beyond schemas (identity, pagination, search, updates...).",
)
@spec_option("check against")
@overlay_option("checking")
@log_level_option
@click.pass_context
def proxy_group(
    ctx: click.Context,
    upstream: str | None,
    host: str,
    port: int,
    log_path: Path | None,
    log_exchanges: Path | None,
    record_dir: Path | None,
    fail_on_violation: bool,
    cors_origins: tuple[str, ...],
    timeout: float,
    reference: str,
    transport: str,
    semantics: bool,
    spec_path: Path | None,
    overlay: Path | None,
    log_level: str,
) -> None:
    """Forward an app's traffic to a real Lenz and report every exchange that breaks the contract.

    Live summary at http://HOST:PORT/__proxy/report. `proxy report FILE.jsonl` summarises a log.
    """
    if ctx.invoked_subcommand is not None:
        return
    if not upstream:
        raise click.UsageError("--upstream URL is required (the Lenz deployment to forward to)")
    import uvicorn

    from ..proxy import ProxyConfig, create_app
    from ..spec.fixtures import FixtureError

    logs = [("--log", log_path), ("--log-exchanges", log_exchanges)]
    if (
        log_path is not None
        and log_exchanges is not None
        and log_path.resolve() == log_exchanges.resolve()
    ):
        raise click.BadParameter(
            "the violation log and the exchange log must be two files",
            param_hint="--log-exchanges",
        )
    for hint, path in logs:
        if path is None:
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.open("a", encoding="utf-8").close()
        except OSError as exc:
            raise click.BadParameter(f"cannot write {path}: {exc}", param_hint=hint) from None
    config = ProxyConfig(
        upstream=upstream,
        log_path=log_path,
        exchange_log_path=log_exchanges,
        semantics=semantics,
        record_dir=record_dir,
        fail_on_violation=fail_on_violation,
        cors_origins=cors_origins,
        timeout=timeout,
        reference=reference,  # type: ignore[arg-type]  # click.Choice guarantees the literal
        transport=transport,  # type: ignore[arg-type]  # click.Choice guarantees the literal
    )
    try:
        app = create_app(config, load_contract(spec_path, overlay))
    except ValueError as exc:
        if isinstance(exc, FixtureError):
            click.secho(f"cannot record into {record_dir}: {exc}", fg="red", err=True)
            sys.exit(1)
        raise click.BadParameter(str(exc), param_hint="--upstream") from None
    except SpecError as exc:
        click.secho(f"cannot load the spec: {exc}", fg="red", err=True)
        sys.exit(1)
    url = f"http://{host}:{port}"
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.secho(
            f"warning: listening on {host}: anyone who can reach it can use the upstream through "
            "the proxy and read /__proxy/report",
            fg="yellow",
            err=True,
        )
    click.echo(f"Lenz contract proxy on {url} -> {config.upstream}")
    click.echo(f"  report: {url}/__proxy/report   (JSON: ?format=json)")
    if log_path:
        click.echo(f"  log:    {log_path}")
    if log_exchanges:
        click.echo(f"  exchanges: {log_exchanges}   (aggregate: lenz-contract drift FILE)")
    if overlay:
        click.echo(f"  overlay: {overlay} applied to the contract")
    if record_dir:
        click.echo(
            f"  record: {record_dir}   (serve it: lenz-contract mock --fixtures {record_dir})"
        )
    if fail_on_violation:
        click.echo("  a response that breaks the contract is answered 502")
    click.echo("Violations are printed on stderr. Press Ctrl-C to stop.")
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            access_log=False,
            lifespan="on",
            proxy_headers=False,
            server_header=False,  # the upstream's Server and Date headers pass through as they are
            date_header=False,
        )
    )
    # uvicorn re-raises the SIGINT it handled once shut down; Ctrl-C is the normal way to stop.
    with sigterm_as_ctrl_c(), contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(1)
    click.echo("proxy stopped")


@proxy_group.command("report")
@click.argument("log_file", type=EXISTING_FILE)
def proxy_report(log_file: Path) -> None:
    """Summarise a JSONL violation log: one row per operation and direction."""
    from rich.console import Console

    from ..proxy.report import print_log_summary

    print_log_summary(log_file, Console())

"""The `lenz-contract` command: parses arguments and dispatches; no behaviour lives here."""

from __future__ import annotations

import importlib
from typing import Any

import click

from .config import ENV_PREFIX, check_known_options, find_config, load_default_map

COMMANDS = {
    "spec": ("spec_cmd", "spec_group"),
    "mock": ("mock_cmd", "mock_command"),
    "proxy": ("proxy_cmd", "proxy_group"),
    "conform": ("conform_cmd", "conform_command"),
    "drift": ("drift_cmd", "drift_command"),
    "diff": ("diff_cmd", "diff_command"),
}
"""Each command's module and attribute, imported only when that command (or the list of all of
them) is asked for: `lenz-contract mock` starts without importing the conformance runner (rich),
the proxy or the spec checks (about 60 ms of imports it never used)."""


class LazyGroup(click.Group):
    """A click group whose commands come from `COMMANDS` on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            module, attribute = COMMANDS[cmd_name]
            found = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
            self.add_command(found, cmd_name)
        return super().get_command(ctx, cmd_name)


def show_version(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """`--version`, reading the installed version only when asked (importlib.metadata: ~25 ms)."""
    if not value or ctx.resilient_parsing:
        return
    from .. import __version__

    click.echo(f"lenz-contract, version {__version__}")
    ctx.exit()


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": ENV_PREFIX},
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=show_version,
    help="Show the version and exit.",
)
@click.pass_context
def main(ctx: click.Context) -> None:
    """The Lenz Workflows API contract: spec, mock server, conformance suite and proxy.

    Defaults come from `lenz-contract.toml` or `[tool.lenz-contract]` in pyproject.toml, then
    environment variables (LENZ_<COMMAND>_<OPTION>, LENZ_BASE_URL, LENZ_TOKEN), then flags.
    """
    default_map = load_default_map(find_config())
    check_known_options(ctx, default_map)
    ctx.default_map = default_map

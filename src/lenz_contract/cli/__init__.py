"""The `lenz-contract` command: parses arguments and dispatches; no behaviour lives here."""

from __future__ import annotations

import click

from .. import __version__
from .config import ENV_PREFIX, check_known_options, find_config, load_default_map
from .conform_cmd import conform_command
from .mock_cmd import mock_command
from .proxy_cmd import proxy_group
from .spec_cmd import spec_group


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": ENV_PREFIX}
)
@click.version_option(__version__, prog_name="lenz-contract")
@click.pass_context
def main(ctx: click.Context) -> None:
    """The Lenz Workflows API contract: spec, mock server, conformance suite and proxy.

    Defaults come from `lenz-contract.toml` or `[tool.lenz-contract]` in pyproject.toml, then
    environment variables (LENZ_<COMMAND>_<OPTION>, LENZ_BASE_URL, LENZ_TOKEN), then flags.
    """
    default_map = load_default_map(find_config())
    check_known_options(ctx, default_map)
    ctx.default_map = default_map


main.add_command(spec_group)
main.add_command(mock_command)
main.add_command(proxy_group)
main.add_command(conform_command)

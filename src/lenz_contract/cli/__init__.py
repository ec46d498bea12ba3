"""The `lenz-contract` command: parses arguments and dispatches; no behaviour lives here."""

from __future__ import annotations

import click

from .. import __version__
from .spec_cmd import spec_group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lenz-contract")
def main() -> None:
    """The Lenz Workflows API contract: spec, mock server, conformance suite and proxy."""


main.add_command(spec_group)

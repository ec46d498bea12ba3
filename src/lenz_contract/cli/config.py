"""Defaults for every command from a config file, below environment variables and flags.

Precedence, highest first: a flag on the command line, an environment variable
(`LENZ_BASE_URL`, `LENZ_TOKEN`, or `LENZ_<COMMAND>_<OPTION>` such as `LENZ_MOCK_PORT`), the
`lenz-contract.toml` file, `[tool.lenz-contract]` in `pyproject.toml`, the built-in default.
The file is found in the current folder or its parents (the first folder that has either file);
`LENZ_CONTRACT_CONFIG` names one explicitly. Sections are command names:

    [tool.lenz-contract.conform]
    base-url = "https://lenz.staging.example"
    profile = "strict"
    only = ["listWorkflows", "getWorkflow"]
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import click

ENV_PREFIX = "LENZ"
CONFIG_ENV = "LENZ_CONTRACT_CONFIG"


class ConfigError(click.UsageError):
    """A config file that cannot be used: exit 2 with the file and the reason."""


def find_config(start: Path | None = None) -> Path | None:
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{CONFIG_ENV}={explicit}: no such file")
        return path
    folder = (start or Path.cwd()).resolve()
    for candidate_dir in (folder, *folder.parents):
        own = candidate_dir / "lenz-contract.toml"
        if own.is_file():
            return own
        pyproject = candidate_dir / "pyproject.toml"
        if pyproject.is_file() and "lenz-contract" in _read(pyproject).get("tool", {}):
            return pyproject
    return None


def load_default_map(path: Path | None) -> dict[str, Any]:
    """The click `default_map` a config file gives: `{command: {option_name: value}}`."""
    if path is None:
        return {}
    data = _read(path)
    table = data.get("tool", {}).get("lenz-contract", {}) if path.name == "pyproject.toml" else data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.lenz-contract] must be a table")
    return {name: _options(path, name, section) for name, section in table.items()}


def _options(path: Path, command: str, section: Any) -> Any:
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [{command}] must be a table of options, found {section!r}")
    return {
        key.replace("-", "_"): (
            _options(path, f"{command}.{key}", value) if isinstance(value, dict) else value
        )
        for key, value in section.items()
    }


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def check_known_options(ctx: click.Context, default_map: dict[str, Any]) -> None:
    """Refuse config keys that name no command or option (a typo must not be ignored)."""
    group = ctx.command
    assert isinstance(group, click.Group)
    for name, section in default_map.items():
        command = group.get_command(ctx, name)
        if command is None:
            raise ConfigError(f"config: [{name}] is not a lenz-contract command")
        _check_section(ctx, command, section, name)


def _check_section(
    ctx: click.Context, command: click.Command, section: dict[str, Any], where: str
) -> None:
    if isinstance(command, click.Group):
        for sub_name, sub_section in section.items():
            sub = command.get_command(ctx, sub_name)
            if sub is None or not isinstance(sub_section, dict):
                options = {p.name for p in command.params}
                if sub_name not in options:
                    raise ConfigError(f"config: [{where}] has no option or subcommand {sub_name!r}")
                continue
            _check_section(ctx, sub, sub_section, f"{where}.{sub_name}")
        return
    options = {p.name for p in command.params}
    for key in section:
        if key not in options:
            known = ", ".join(sorted(o.replace("_", "-") for o in options if o))
            raise ConfigError(
                f"config: [{where}] has no option {key.replace('_', '-')!r} (known: {known})"
            )

"""The CI recipes under docs/ci/ parse, and every lenz-contract command and flag they use exists."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from lenz_contract.cli import main

RECIPES = sorted((Path(__file__).resolve().parents[2] / "docs" / "ci").glob("*.yml"))


def _scripts(node: Any) -> Iterator[str]:
    """Every shell line of a GitHub Actions (`run:`) or GitLab CI (`script:`) document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "script", "before_script", "after_script"):
                lines = value if isinstance(value, list) else [value]
                for text in lines:
                    yield from str(text).splitlines()
            else:
                yield from _scripts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _scripts(item)


def _lenz_invocations(document: Any) -> list[list[str]]:
    found = []
    for line in _scripts(document):
        line = line.split("#", 1)[0].split(">", 1)[0].split("&", 1)[0].strip()
        if line.startswith("lenz-contract "):
            found.append(shlex.split(line)[1:])
    return found


def _resolve(args: list[str]) -> tuple[click.Command, list[str]]:
    """Walk the click tree down the subcommand words; the rest are options and arguments."""
    command: click.Command = main
    rest = list(args)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        sub = command.get_command(click.Context(command), rest[0])
        assert sub is not None, f"no such command: {rest[0]!r} in {args}"
        command, rest = sub, rest[1:]
    return command, rest


def test_there_are_recipes_for_github_and_gitlab() -> None:
    assert {p.name for p in RECIPES} >= {"github-actions.yml", "gitlab-ci.yml"}


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_recipe_commands_and_flags_exist(recipe: Path) -> None:
    document = yaml.safe_load(recipe.read_text())
    invocations = _lenz_invocations(document)
    assert any(args[:1] == ["conform"] for args in invocations), (
        "the recipe runs no conformance gate"
    )
    assert any("--junit-xml" in args for args in invocations), "the recipe publishes no JUnit XML"
    for args in invocations:
        command, rest = _resolve(args)
        known = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
        for word in rest:
            if word.startswith("--"):
                assert word.split("=", 1)[0] in known, (
                    f"{recipe.name}: {' '.join(args)}: unknown flag {word}"
                )

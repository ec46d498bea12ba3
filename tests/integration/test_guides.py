"""The guides' copy-paste sessions, run for real: every `$` command and the output it shows.

A ```console block holds `$ command` lines, each followed by the output a reader sees. Output
lines must match, where `...` stands for any text and a line of just `...` for any lines. All the
blocks of a guide run in one bash session (variables carry over), with the project's commands
on PATH and LENZ_BASE_URL / LENZ_TOKEN pointing at a mock started for the test.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lenz_contract.mock import create_app

from ..support.live import free_port, serve
from ..support.postgres import require_server_bin

GUIDES = sorted((Path(__file__).resolve().parents[2] / "docs" / "guides").glob("*.md"))
MARK = "__lenz_guide_step__"


def sessions(markdown: str) -> list[tuple[str, list[str]]]:
    """`(command, expected lines)` for every `$` line of every console block, in order."""
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", markdown, re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
    return steps


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line-by-line match; `...` inside a line is any text, a line of `...` any lines."""
    pattern = "".join(
        r"(?:[^\n]*\n)*"
        if line == "..."
        else "[^\n]*".join(map(re.escape, line.split("..."))) + r"\n"
        for line in expected
    )
    return re.fullmatch(pattern, "".join(f"{line}\n" for line in actual)) is not None


@pytest.mark.parametrize(
    ("expected", "actual", "verdict"),
    [
        (["a...c"], ["abbbc"], True),
        (["a...c"], ["abbbd"], False),
        (["x", "...", "z"], ["x", "1", "2", "z"], True),
        (["x", "z"], ["x", "1", "z"], False),
        ([], ["unexpected output"], False),
        (["401"], ["401"], True),
        (["401"], ["200"], False),
    ],
)
def test_output_matching(expected: list[str], actual: list[str], verdict: bool) -> None:
    assert matches(expected, actual) is verdict


def run_guide(
    guide: Path, env: dict[str, str], cwd: Path
) -> list[tuple[str, list[str], list[str]]]:
    steps = sessions(guide.read_text(encoding="utf-8"))
    script = "exec 2>&1\nset -o pipefail\n" + "".join(
        f"echo {MARK}\n{command}\n" for command, _ in steps
    )
    # Its own process group: servers a guide starts in the background end with the session.
    with subprocess.Popen(
        ["bash", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
        start_new_session=True,
    ) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=300)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    outputs = stdout.split(f"{MARK}\n")[1:]
    assert len(outputs) == len(steps), f"the session stopped early:\n{stdout}\n{stderr}"
    return [
        (command, expected, out.splitlines())
        for (command, expected), out in zip(steps, outputs, strict=True)
    ]


def test_there_is_a_guide_per_user() -> None:
    assert {g.stem for g in GUIDES} >= {"frontend-developer", "qa-engineer", "ci-owner"}


@pytest.mark.parametrize("guide", GUIDES, ids=lambda g: g.stem)
def test_guide_sessions_run_as_shown(guide: Path, tmp_path: Path) -> None:
    if "initdb" in guide.read_text(encoding="utf-8"):
        require_server_bin()  # fails (never skips) with an install hint when PostgreSQL is missing
    with serve(create_app(self_check=True)) as base_url:
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "LENZ_BASE_URL": base_url,
            "LENZ_TOKEN": "lenz-mock-token",
            # free ports for the guides that start servers of their own (team-mock.md)
            "PGPORT": str(free_port()),
            "MOCK_A": str(free_port()),
            "MOCK_B": str(free_port()),
        }
        results = run_guide(guide, env, tmp_path)
    assert results, f"{guide.name} has no console session"
    for command, expected, actual in results:
        assert matches(expected, actual), (
            f"$ {command}\nexpected:\n" + "\n".join(expected) + "\nactual:\n" + "\n".join(actual)
        )

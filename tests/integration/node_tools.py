"""Node.js tool folders for the client-generation and lint tests.

Each folder (`tests/typescript`, `tests/clients/<generator>`, `tests/lint/<tool>`) pins its tools
in a `package.json` and a `package-lock.json`; `npm_ci` installs them once (reusing a
`node_modules` that already holds the locked versions), and the TypeScript checks below are the
same for every generator: the journey compiles under `tsc --strict`, and the typo programs do not.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")
NPM = shutil.which("npm")

needs_node = pytest.mark.skipif(not (NODE and NPM), reason="Node.js and npm are not installed")

TSC_STRICT = [
    "--strict",
    "--noEmit",
    "--target",
    "ES2022",
    "--module",
    "NodeNext",
    "--moduleResolution",
    "NodeNext",
]
"""How a typo program is compiled: `tsc --strict`, on its own (the folder's tsconfig aside)."""

TYPO_PROGRAMS = {
    "export-config-typo": "analytic_typo",
    "telegram-missing-credential": "credential_id",
}
"""`typos/<name>.ts` → the property tsc's error must name. `typos/correct.ts` is the same
program without the typos: it must compile, so that a failure is the typo's."""


def run(
    args: list[str],
    cwd: Path,
    *,
    check: bool = True,
    timeout: float = 300,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    if check:
        assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def npm_ci(folder: Path) -> None:
    """`npm ci` in `folder`, unless its `node_modules` already holds every locked version."""
    assert NPM
    lock = json.loads((folder / "package-lock.json").read_text(encoding="utf-8"))
    wanted = {
        name: info.get("version")
        for name, info in lock.get("packages", {}).items()
        if name.startswith("node_modules/") and name.count("node_modules/") == 1
    }
    if all(_installed_version(folder / name) == version for name, version in wanted.items()):
        return
    run([NPM, "ci", "--no-audit", "--no-fund", "--loglevel=error"], folder, timeout=600)


def _installed_version(package: Path) -> str | None:
    try:
        return str(json.loads((package / "package.json").read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def node_bin(folder: Path, name: str) -> list[str]:
    """The command line of `node_modules/.bin/<name>`, run by this machine's node."""
    assert NODE
    return [NODE, str((folder / "node_modules" / ".bin" / name).resolve())]


def fresh(directory: Path) -> Path:
    """`directory`, emptied (generated code from an older spec must not linger)."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


def tsc(folder: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run([*node_bin(folder, "tsc"), *args], folder, check=check)


def compile_alone(folder: Path, program: str) -> tuple[int, str, list[str]]:
    """`tsc --strict` on `typos/<program>.ts` alone: its exit status, output and error lines."""
    done = tsc(folder, *TSC_STRICT, f"typos/{program}.ts", check=False)
    return done.returncode, done.stdout, re.findall(r"^\S.*error TS\d+:.*$", done.stdout, re.M)


def assert_compiled(folder: Path) -> None:
    """`typos/correct.ts`, the typo programs without their typos, compiled with the journey
    (each folder's tsconfig includes it): a typo program's failure is then its typo's."""
    assert (folder / "build" / "typos" / "correct.js").is_file()


def assert_typo_refused(folder: Path, program: str) -> None:
    """`typos/<program>.ts` does not compile, with one error, in it, naming the property."""
    status, output, errors = compile_alone(folder, program)
    named = TYPO_PROGRAMS[program]
    assert status != 0, f"typos/{program}.ts compiled: the typo `{named}` went through"
    assert len(errors) == 1 and errors[0].startswith(f"typos/{program}.ts("), output
    assert f"'{named}'" in output, output

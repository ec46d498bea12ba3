"""Clients that generators nobody here wrote make from the shipped spec, run as a frontend would.

For each generator (pinned in its folder under `tests/clients/`): the client is generated from
the shipped spec, the journey (create, read, list/search, update, execute, logs, delete) compiles
under `tsc --strict` (or `mypy --strict` for Python) and runs against a real mock served by
uvicorn, and for the TypeScript ones a config typo (`typos/`) does not compile. openapi-typescript
with openapi-fetch is `test_typescript_client.py`'s.

- @hey-api/openapi-ts 0.95.0 with its fetch client (`tests/clients/hey-api`);
- orval 7.13.2 with its fetch client and a mutator for the base URL and the token
  (`tests/clients/orval`; orval 7 is the line that runs on Node 20);
- openapi-python-client 0.29.1 (`tests/clients/python`), installed into a virtualenv of its own
  under `build/clients/python` (reused while `requirements.txt` is unchanged).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lenz_contract.mock import create_app
from lenz_contract.spec import SHIPPED_SPEC_PATH

from ..support.live import serve
from .node_tools import (
    NODE,
    REPO,
    TYPO_PROGRAMS,
    assert_compiled,
    assert_typo_refused,
    fresh,
    needs_node,
    node_bin,
    npm_ci,
    run,
    tsc,
)

CLIENTS = REPO / "tests" / "clients"
TOKEN = "lenz-mock-token"


def journey_env(base_url: str) -> dict[str, str]:
    return {"LENZ_BASE_URL": base_url, "LENZ_TOKEN": TOKEN}


# --- TypeScript generators --------------------------------------------------------------------


def _hey_api(folder: Path) -> None:
    fresh(folder / "generated")
    spec = str(SHIPPED_SPEC_PATH)
    run(
        [
            *node_bin(folder, "openapi-ts"),
            "-i",
            spec,
            "-o",
            "generated",
            "-c",
            "@hey-api/client-fetch",
        ],
        folder,
    )


def _orval(folder: Path) -> None:
    fresh(folder / "generated")
    config = ["--config", "orval.config.cjs"]
    run([*node_bin(folder, "orval"), *config], folder, env={"LENZ_SPEC": str(SHIPPED_SPEC_PATH)})


GENERATORS: dict[str, Callable[[Path], None]] = {"hey-api": _hey_api, "orval": _orval}


@pytest.fixture(scope="module", params=sorted(GENERATORS))
def ts_client(request: pytest.FixtureRequest) -> Path:
    """The generator's folder, its client generated and its journey compiled (`build/`)."""
    name: str = request.param
    folder = CLIENTS / name
    npm_ci(folder)
    GENERATORS[name](folder)
    fresh(folder / "build")
    tsc(folder, "-p", "tsconfig.json")
    return folder


@needs_node
def test_the_generated_client_runs_the_journey_against_the_mock(ts_client: Path) -> None:
    assert NODE
    with serve(create_app(self_check=True)) as base_url:
        done = run([NODE, "build/journey.js"], ts_client, env=journey_env(base_url))
    assert "journey ok:" in done.stdout, done.stdout


@needs_node
def test_the_typo_programs_compile_without_their_typos(ts_client: Path) -> None:
    assert_compiled(ts_client)


@needs_node
@pytest.mark.parametrize("program", sorted(TYPO_PROGRAMS))
def test_a_config_typo_does_not_compile(ts_client: Path, program: str) -> None:
    assert_typo_refused(ts_client, program)


# --- openapi-python-client --------------------------------------------------------------------

PYTHON_CLIENT = CLIENTS / "python"
PYTHON_BUILD = REPO / "build" / "clients" / "python"
GENERATED = PYTHON_BUILD / "generated"


def _venv_bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


@pytest.fixture(scope="module")
def python_venv() -> Path:
    """A virtualenv with `requirements.txt` installed (reused while it is unchanged)."""
    venv = PYTHON_BUILD / ".venv"
    requirements = PYTHON_CLIENT / "requirements.txt"
    stamp = venv / "requirements.sha256"
    wanted = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if not (stamp.is_file() and stamp.read_text() == wanted):
        shutil.rmtree(venv, ignore_errors=True)
        run([sys.executable, "-m", "venv", str(venv)], REPO)
        pip = [str(_venv_bin(venv, "python")), "-m", "pip", "install", "--quiet"]
        run([*pip, "-r", str(requirements)], REPO, timeout=600)
        stamp.write_text(wanted)
    return venv


@pytest.fixture(scope="module")
def python_client(python_venv: Path) -> Path:
    """The generated package (`lenz_client`) with the journey next to it; returns their folder."""
    fresh(GENERATED)
    tools = str(_venv_bin(python_venv, "openapi-python-client").parent)
    run(
        [
            str(_venv_bin(python_venv, "openapi-python-client")),
            "generate",
            "--path",
            str(SHIPPED_SPEC_PATH),
            "--meta",
            "none",
            "--config",
            str(PYTHON_CLIENT / "config.yaml"),
            "--output-path",
            str(GENERATED / "lenz_client"),
        ],
        PYTHON_BUILD,
        env={"PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"},  # its ruff
    )
    shutil.copy(PYTHON_CLIENT / "journey.py", GENERATED / "journey.py")
    return GENERATED


def test_the_python_client_types_node_configs(python_client: Path) -> None:
    source = (python_client / "lenz_client" / "models" / "workflow_input.py").read_text()
    assert "nodes: list[EventHistoryExportNodeInput | TelegramSendAttachmentNodeInput]" in source
    assert "trigger_node: ScheduleTriggerNodeInput" in source


def test_the_python_client_and_journey_pass_mypy_strict(
    python_venv: Path, python_client: Path
) -> None:
    mypy = [sys.executable, "-m", "mypy", "--config-file", str(PYTHON_CLIENT / "mypy.ini")]
    done = run(
        [
            *mypy,
            "--python-executable",
            str(_venv_bin(python_venv, "python")),
            "--cache-dir",
            str(PYTHON_BUILD / ".mypy_cache"),
            "lenz_client",
            "journey.py",
        ],
        python_client,
        check=False,
    )
    assert done.returncode == 0 and "Success: no issues found" in done.stdout, done.stdout


def test_the_python_client_runs_the_journey_against_the_mock(
    python_venv: Path, python_client: Path
) -> None:
    with serve(create_app(self_check=True)) as base_url:
        done = run(
            [str(_venv_bin(python_venv, "python")), "journey.py"],
            python_client,
            env=journey_env(base_url),
        )
    assert "journey ok:" in done.stdout, done.stdout

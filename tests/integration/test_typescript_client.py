"""A frontend developer's toolchain: types from the shipped spec, a typed client, a real mock.

openapi-typescript generates the types, `tsc --strict` compiles the journey against them, and
node runs it with openapi-fetch against a mock served by uvicorn: if the generated types do not
fit the code, or the mock's answers do not fit the journey's expectations, the test fails.
Runs wherever Node.js and npm are installed (CI machines have them).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lenz_contract.mock import create_app
from lenz_contract.spec import SHIPPED_SPEC_PATH

from ..support.live import serve

HERE = Path(__file__).resolve().parent.parent / "typescript"
NODE = shutil.which("node")
NPM = shutil.which("npm")

pytestmark = pytest.mark.skipif(not (NODE and NPM), reason="Node.js and npm are not installed")


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        args, cwd=HERE, capture_output=True, text=True, timeout=300, env={**os.environ, **env}
    )
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def compiled_journey() -> Path:
    assert NODE and NPM
    if not (HERE / "node_modules" / "openapi-fetch").is_dir():
        _run([NPM, "ci", "--no-audit", "--no-fund", "--loglevel=error"])
    (HERE / "generated").mkdir(exist_ok=True)
    cli = HERE / "node_modules" / "openapi-typescript" / "bin" / "cli.js"
    _run([NODE, str(cli), str(SHIPPED_SPEC_PATH), "-o", "generated/lenz.d.ts"])
    _run([NODE, str(HERE / "node_modules" / "typescript" / "bin" / "tsc"), "-p", "tsconfig.json"])
    return HERE / "build" / "journey.js"


def test_generated_types_are_usable(compiled_journey: Path) -> None:
    types = (HERE / "generated" / "lenz.d.ts").read_text()
    assert '"/api/workflows/{id}/execute"' in types
    empty = re.findall(r"^\s+[\w$]+\??: .*Record<string, never>.*$", types, re.M)
    assert empty == [], f"free-form objects generated as empty types: {empty}"
    assert compiled_journey.is_file()


def test_typed_client_runs_the_frontend_journey_against_the_mock(compiled_journey: Path) -> None:
    assert NODE
    with serve(create_app(self_check=True)) as base_url:
        done = _run(
            [NODE, str(compiled_journey)], LENZ_BASE_URL=base_url, LENZ_TOKEN="lenz-mock-token"
        )
    assert "journey ok:" in done.stdout

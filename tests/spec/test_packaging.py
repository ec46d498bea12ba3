"""The spec and fixtures ship inside the wheel, so the tool works outside the repository."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from ..conftest import REPO


def test_wheel_carries_spec_and_fixtures(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    wheel = next(tmp_path.glob("lenz_contract-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "lenz_contract/data/lenz-workflows.yaml" in names
    assert "lenz_contract/data/fixtures/docs/createWorkflow.request.json" in names
    assert "lenz_contract/data/fixtures/seed/workflows.json" in names
    shipped = zipfile.ZipFile(wheel).read("lenz_contract/data/lenz-workflows.yaml")
    assert shipped == (REPO / "openapi" / "lenz-workflows.yaml").read_bytes()

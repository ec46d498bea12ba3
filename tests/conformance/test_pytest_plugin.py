"""The pytest plugin: the same checks as pytest tests, and nothing at all without --lenz-base-url."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ..support.live import serve
from .support import TOKEN, state, target


def pytest_run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(tmp_path),
        *args,
    ]
    return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)


def test_without_a_base_url_the_plugin_does_nothing(tmp_path: Path) -> None:
    (tmp_path / "test_theirs.py").write_text("def test_theirs():\n    assert True\n")
    theirs = pytest_run(tmp_path, "-q", "test_theirs.py")
    assert theirs.returncode == 0 and "1 passed" in theirs.stdout and "skipped" not in theirs.stdout
    suite = pytest_run(tmp_path, "-q", "--pyargs", "lenz_contract.conformance")
    assert suite.returncode == 0 and "passed" not in suite.stdout and "skipped" in suite.stdout


def test_the_suite_runs_as_pytest_tests(tmp_path: Path) -> None:
    app = target()
    before = state(app)
    with serve(app) as url:
        done = pytest_run(
            tmp_path,
            "-q",
            "--pyargs",
            "lenz_contract.conformance",
            "--lenz-base-url",
            url,
            "--lenz-token",
            TOKEN,
            "--lenz-allow-execute",
            "--lenz-max-examples",
            "2",
            "--lenz-seed",
            "4",
        )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "failed" not in done.stdout and "passed" in done.stdout
    assert state(app) == before


def test_a_broken_deployment_fails_the_check_test(tmp_path: Path) -> None:
    with serve(target("search_exact")) as url:
        done = pytest_run(
            tmp_path,
            "-q",
            "--pyargs",
            "lenz_contract.conformance",
            "--lenz-no-generation",
            "--lenz-base-url",
            url,
            "--lenz-token",
            TOKEN,
        )
        refused = pytest_run(
            tmp_path,
            "-q",
            "--pyargs",
            "lenz_contract.conformance",
            "--lenz-no-generation",
            "--lenz-base-url",
            url,
            "--lenz-token",
            "wrong",
        )
    assert done.returncode == 1
    assert "test_lenz_check[search_partial]" in done.stdout and "curl -X GET" in done.stdout
    assert refused.returncode == 2 and "the token was refused" in refused.stdout + refused.stderr

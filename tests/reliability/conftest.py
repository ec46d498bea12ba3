"""Shared helpers of the reliability tests: the token, a valid body, the CLI as a subprocess.

These tests hit the mock the way production traffic would (real uvicorn, real sockets, real
processes); each one is bounded in requests and time and asserts outcomes, never durations.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ..conftest import load_fixture
from ..support.live import free_port

TOKEN = "lenz-mock-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CREATE: dict[str, Any] = load_fixture("docs/createWorkflow.request.json")
"""The docs' create body: a valid workflow every test can rename."""


@dataclass
class MockProcess:
    """`lenz-contract mock` running as a child process; its output goes to files."""

    proc: subprocess.Popen[bytes]
    base_url: str
    stdout: Path
    stderr: Path

    def output(self) -> str:
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")

    def kill_9(self) -> None:
        """SIGKILL the whole process group (uvicorn's workers too): no clean shutdown at all."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> int:
        """Ctrl-C, as a developer stops it; returns the exit code."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill_9()
        return self.proc.returncode


@contextmanager
def mock_process(
    *args: str, workdir: Path, host: str = "127.0.0.1", ready_path: str = "/openapi.json"
) -> Iterator[MockProcess]:
    """Start the CLI on a free port, wait until it answers, and always end it (and its workers)."""
    port = free_port()
    stdout, stderr = workdir / f"mock-{port}.out", workdir / f"mock-{port}.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lenz_contract",
                "mock",
                "--host",
                host,
                "--port",
                str(port),
                *args,
            ],
            stdout=out,
            stderr=err,
            start_new_session=True,  # its own process group: kill -9 reaches the workers
        )
    running = MockProcess(proc, f"http://127.0.0.1:{port}", stdout, stderr)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"the mock exited early:\n{running.output()}")
            try:
                if httpx.get(running.base_url + ready_path, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the mock did not start:\n{running.output()}")
            time.sleep(0.05)
        yield running
    finally:
        running.kill_9()

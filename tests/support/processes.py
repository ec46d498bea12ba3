"""The `lenz-contract` CLI as a child process, for tests that need the real entry point.

One way to start it (a free loopback port, wait until it answers, always end it and its
workers), one way to stop it as a person or a supervisor would (Ctrl-C, SIGTERM), and its
output in files, so a test can read it whether the process ended cleanly or was killed.
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

import httpx

from lenz_contract.mock.auth import DEFAULT_TOKEN

from .live import free_port

MOCK_TOKEN = DEFAULT_TOKEN
"""The token the mock accepts unless told otherwise."""
MOCK_AUTH = {"Authorization": f"Bearer {MOCK_TOKEN}"}
READY = {"mock": "/openapi.json", "proxy": "/__proxy/health"}


@dataclass
class CliProcess:
    """`lenz-contract <command>` running as a child, in its own process group."""

    proc: subprocess.Popen[bytes]
    base_url: str
    stdout_path: Path
    stderr_path: Path

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def output(self) -> str:
        return self.stdout + self.stderr

    def stop(self, sig: signal.Signals = signal.SIGINT, timeout: float = 20) -> int:
        """Stop it as Ctrl-C (SIGINT) or a supervisor (SIGTERM) would; returns the exit code.

        Ctrl-C reaches the whole group, as a terminal sends it (workers included); SIGTERM
        only the process itself, as `docker stop` or systemd send it.
        """
        if self.proc.poll() is None:
            if sig == signal.SIGINT:
                os.killpg(self.proc.pid, sig)
            else:
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill_9()
        return self.proc.returncode

    def kill_9(self) -> None:
        """SIGKILL the whole process group (uvicorn's workers too): no clean shutdown at all."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


@contextmanager
def cli_process(
    command: str,
    *args: str,
    workdir: Path,
    host: str = "127.0.0.1",
    ready_path: str | None = None,
    timeout: float = 30,
) -> Iterator[CliProcess]:
    """Start `lenz-contract <command> --host HOST --port <free> ARGS`, wait until
    `ready_path` answers 200, and always end it."""
    port = free_port()
    stdout, stderr = workdir / f"{command}-{port}.out", workdir / f"{command}-{port}.err"
    argv = [sys.executable, "-m", "lenz_contract", command, "--host", host, "--port", str(port)]
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen([*argv, *args], stdout=out, stderr=err, start_new_session=True)
    running = CliProcess(proc, f"http://127.0.0.1:{port}", stdout, stderr)
    ready = running.base_url + (ready_path or READY[command])
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"`{command}` exited early:\n{running.output()}")
            try:
                if httpx.get(ready, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"`{command}` did not start:\n{running.output()}")
            time.sleep(0.05)
        yield running
    finally:
        running.kill_9()

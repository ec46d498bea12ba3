"""`lenz-contract proxy --upstream URL ...` and `lenz-contract proxy report FILE.jsonl`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from lenz_contract.cli import main

from ..support.live import free_port
from .conftest import AUTH, ProxyFactory
from .upstreams import Upstream


def test_proxy_report_summarises_a_log(
    proxy: ProxyFactory, broken: tuple[str, Upstream], tmp_path: Path
) -> None:
    url, _ = broken
    log = tmp_path / "violations.jsonl"
    with proxy(url, log_path=log) as p:
        p.client.get("/api/workflows", headers=AUTH)
        p.client.get("/api/workflows/missing-id", headers=AUTH)
        p.client.get("/api/workflows/missing-id")
        p.flush()
    with log.open("a") as handle:
        handle.write("not json\n")
    result = CliRunner().invoke(main, ["proxy", "report", str(log)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "5 violation(s) in 3 exchange(s), 1 unreadable line(s) skipped" in out
    assert "Violations per operation and direction" in out
    for text in (
        "listWorkflows",
        "getWorkflow",
        "request",
        "response",
        "body.data.id",
        "header.Authorization",
    ):
        assert text in out


def test_proxy_report_of_an_empty_log(tmp_path: Path) -> None:
    log = tmp_path / "empty.jsonl"
    log.write_text("")
    result = CliRunner().invoke(main, ["proxy", "report", str(log)])
    assert result.exit_code == 0
    assert "no violations recorded" in result.output


def test_usage_errors_exit_2() -> None:
    runner = CliRunner()
    missing = runner.invoke(main, ["proxy"])
    assert missing.exit_code == 2 and "--upstream URL is required" in missing.output
    bad = runner.invoke(main, ["proxy", "--upstream", "ftp://example.com"])
    assert bad.exit_code == 2 and "must be an http(s) URL" in bad.output
    secret = runner.invoke(main, ["proxy", "--upstream", "http://user:pw@example.com"])
    assert secret.exit_code == 2 and "must not carry credentials" in secret.output
    no_file = runner.invoke(main, ["proxy", "report", "/no/such/file.jsonl"])
    assert no_file.exit_code == 2


@contextmanager
def proxy_process(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The real entry point in a subprocess, once it answers; killed if the test left it up."""
    port = free_port()
    command = [sys.executable, "-m", "lenz_contract", "proxy", "--port", str(port), *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/__proxy/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the proxy did not start"
                time.sleep(0.1)
        yield process, base
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def stop(process: subprocess.Popen[str], sig: signal.Signals) -> tuple[str, str]:
    """Stop it as `docker stop` (SIGTERM) or Ctrl-C (SIGINT) would: cleanly, exit 0."""
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
    assert stdout.splitlines()[-1] == "proxy stopped"
    assert "Traceback" not in stderr
    return stdout, stderr


def test_the_command_serves_a_proxy(mock_url: str, tmp_path: Path) -> None:
    """The real entry point in a subprocess: serves, logs, stops cleanly on SIGTERM."""
    log = tmp_path / "log.jsonl"
    args = ("--upstream", mock_url, "--log", str(log), "--reference-engine", "off")
    with proxy_process(*args) as (process, base):
        assert (
            httpx.get(f"{base}/api/workflows/wf-uuid-001", headers=AUTH).json()["data"]["id"]
            == "wf-uuid-001"
        )
        assert httpx.get(f"{base}/api/workflows?limit=abc", headers=AUTH).status_code == 400
        httpx.post(f"{base}/__proxy/flush")
        stdout, stderr = stop(process, signal.SIGTERM)
    assert f"Lenz contract proxy on {base} -> {mock_url}" in stdout
    assert "VIOLATION listWorkflows request query.limit" in stderr
    assert [json.loads(line)["path"] for line in log.read_text().splitlines()] == ["query.limit"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_stops_cleanly_with_the_default_reference_engine(
    mock_url: str, sig: signal.Signals
) -> None:
    """The default reference engine has worker processes of its own to stop as well."""
    with proxy_process("--upstream", mock_url) as (process, base):
        assert httpx.get(f"{base}/api/workflows", headers=AUTH).status_code == 200
        stop(process, sig)


def preflight(base_url: str, origin: str) -> httpx.Response:
    """What a browser sends before a cross-origin request."""
    headers = {"Origin": origin, "Access-Control-Request-Method": "GET"}
    return httpx.options(f"{base_url}/api/workflows", headers=headers)


def test_cors_origins_are_repeatable_and_comma_separated(mock_url: str) -> None:
    args = ("--cors-origin", "http://a.test,http://b.test", "--cors-origin", "http://c.test")
    with proxy_process("--upstream", mock_url, "--reference-engine", "off", *args) as (proc, base):
        for origin in ("http://a.test", "http://b.test", "http://c.test"):
            answer = preflight(base, origin)
            assert answer.status_code == 200, (origin, answer.text)
            assert answer.headers["access-control-allow-origin"] == origin
        assert "access-control-allow-origin" not in preflight(base, "http://d.test").headers
        stop(proc, signal.SIGTERM)

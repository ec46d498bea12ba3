"""`lenz-contract proxy --upstream URL ...` and `lenz-contract proxy report FILE.jsonl`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
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


def test_the_command_serves_a_proxy(mock_url: str, tmp_path: Path) -> None:
    """The real entry point in a subprocess: serves, logs, stops cleanly on SIGTERM."""
    port = free_port()
    log = tmp_path / "log.jsonl"
    command = [
        sys.executable, "-m", "lenz_contract", "proxy", "--upstream", mock_url, "--port", str(port),
        "--log", str(log), "--reference-engine", "off",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/__proxy/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the proxy did not start"
                time.sleep(0.1)
        assert (
            httpx.get(f"{base}/api/workflows/wf-uuid-001", headers=AUTH).json()["data"]["id"]
            == "wf-uuid-001"
        )
        assert httpx.get(f"{base}/api/workflows?limit=abc", headers=AUTH).status_code == 400
        httpx.post(f"{base}/__proxy/flush")
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=20)
    assert process.returncode in (0, -signal.SIGTERM), (
        stderr
    )  # uvicorn re-raises the signal it caught
    assert f"Lenz contract proxy on http://127.0.0.1:{port} -> {mock_url}" in stdout
    assert "VIOLATION listWorkflows request query.limit" in stderr
    assert [json.loads(line)["path"] for line in log.read_text().splitlines()] == ["query.limit"]

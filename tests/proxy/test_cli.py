"""`lenz-contract proxy --upstream URL ...` and `lenz-contract proxy report FILE.jsonl`."""

from __future__ import annotations

import json
import signal
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from lenz_contract.cli import main

from ..support.processes import CliProcess, cli_process
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


def proxy_process(workdir: Path, *args: str) -> AbstractContextManager[CliProcess]:
    """The real entry point in a subprocess, once it answers; killed if the test left it up."""
    return cli_process("proxy", *args, workdir=workdir)


def stop(proxy: CliProcess, sig: signal.Signals) -> tuple[str, str]:
    """Stop it as `docker stop` (SIGTERM) or Ctrl-C (SIGINT) would: cleanly, exit 0."""
    assert proxy.stop(sig, timeout=10) == 0, proxy.stderr
    assert proxy.stdout.splitlines()[-1] == "proxy stopped"
    assert "Traceback" not in proxy.stderr
    return proxy.stdout, proxy.stderr


def test_the_command_serves_a_proxy(mock_url: str, tmp_path: Path) -> None:
    """The real entry point in a subprocess: serves, logs, stops cleanly on SIGTERM."""
    log = tmp_path / "log.jsonl"
    args = ("--upstream", mock_url, "--log", str(log), "--reference-engine", "off")
    with proxy_process(tmp_path, *args) as process:
        base = process.base_url
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
    mock_url: str, sig: signal.Signals, tmp_path: Path
) -> None:
    """The default reference engine has worker processes of its own to stop as well."""
    with proxy_process(tmp_path, "--upstream", mock_url) as process:
        assert httpx.get(f"{process.base_url}/api/workflows", headers=AUTH).status_code == 200
        stop(process, sig)


def preflight(base_url: str, origin: str) -> httpx.Response:
    """What a browser sends before a cross-origin request."""
    headers = {"Origin": origin, "Access-Control-Request-Method": "GET"}
    return httpx.options(f"{base_url}/api/workflows", headers=headers)


def test_cors_origins_are_repeatable_and_comma_separated(mock_url: str, tmp_path: Path) -> None:
    args = ("--cors-origin", "http://a.test,http://b.test", "--cors-origin", "http://c.test")
    with proxy_process(
        tmp_path, "--upstream", mock_url, "--reference-engine", "off", *args
    ) as proc:
        base = proc.base_url
        for origin in ("http://a.test", "http://b.test", "http://c.test"):
            answer = preflight(base, origin)
            assert answer.status_code == 200, (origin, answer.text)
            assert answer.headers["access-control-allow-origin"] == origin
        assert "access-control-allow-origin" not in preflight(base, "http://d.test").headers
        stop(proc, signal.SIGTERM)

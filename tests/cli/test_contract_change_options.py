"""The commands and flags of contract changes: `--overlay` everywhere, the proxy's new logs."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from lenz_contract.cli import main
from lenz_contract.spec import Spec

from ..drift.upstreams import drifting_app
from ..support.live import serve
from ..support.processes import MOCK_AUTH, cli_process

OVERLAY = (
    "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n"
    "  - target: $.paths['/api/workflows'].post.responses\n"
    "    update: {'202': {description: Accepted., x-lenz-source: inferred, x-lenz-reason: seen,\n"
    "      content: {application/json: {schema: {$ref: '#/components/schemas/WorkflowResponse'}}}}}\n"
)


@pytest.fixture
def overlay(tmp_path: Path) -> Path:
    path = tmp_path / "overlay.yaml"
    path.write_text(OVERLAY)
    return path


def test_every_command_that_reads_the_contract_takes_an_overlay() -> None:
    for words in (["spec", "validate"], ["mock"], ["conform"], ["proxy"], ["drift"]):
        command: Any = main
        for word in words:
            command = command.get_command(None, word)
        options = {o for p in command.params for o in p.opts}
        assert ("--overlay" in options) or ("--spec-overlay" in options), words


def test_conform_checks_against_the_amended_contract(
    overlay: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lenz_contract.conformance import PreflightError, runner

    seen: list[Spec] = []

    def fake_run(*args: Any, spec: Spec | None = None, **kwargs: Any) -> Any:
        assert spec is not None
        seen.append(spec)
        raise PreflightError("stopped by the test")

    monkeypatch.setattr(runner, "run", fake_run)
    args = ["conform", "--base-url", "http://127.0.0.1:9", "--token", "t"]
    result = CliRunner().invoke(main, [*args, "--overlay", str(overlay)])
    assert result.exit_code == 2 and "stopped by the test" in result.output
    [spec] = seen
    assert "202" in spec.operations["createWorkflow"].responses


def test_conform_refuses_a_broken_overlay_before_connecting(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions: [{target: $..x}]\n")
    args = ["conform", "--base-url", "http://127.0.0.1:9", "--token", "t", "--overlay", str(broken)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "descendant segments" in result.output and "Traceback" not in result.output


def test_the_proxy_cannot_log_both_kinds_in_one_file(tmp_path: Path) -> None:
    log = str(tmp_path / "same.jsonl")
    args = ["proxy", "--upstream", "http://127.0.0.1:9", "--log", log, "--log-exchanges", log]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "must be two files" in result.output


def test_the_proxy_command_logs_exchanges_against_an_amended_contract(
    overlay: Path, tmp_path: Path
) -> None:
    """The real entry point: `--overlay` admits the 202, `--log-exchanges` keeps every answer."""
    exchanges, violations = tmp_path / "x.jsonl", tmp_path / "v.jsonl"
    create = json.loads(
        (Path(__file__).parents[2] / "fixtures/docs/createWorkflow.request.json").read_text()
    )
    with serve(drifting_app()) as upstream:
        args = ["--upstream", upstream, "--reference-engine", "off", "--overlay", str(overlay)]
        args += ["--log", str(violations), "--log-exchanges", str(exchanges)]
        with cli_process("proxy", *args, workdir=tmp_path) as proxy:
            answer = httpx.post(f"{proxy.base_url}/api/workflows", json=create, headers=MOCK_AUTH)
            assert answer.status_code == 202
            httpx.post(f"{proxy.base_url}/__proxy/flush")
            assert proxy.stop(signal.SIGTERM, timeout=10) == 0, proxy.stderr
    assert violations.read_text() == ""  # the amended contract lists 202
    [record] = [json.loads(line) for line in exchanges.read_text().splitlines()]
    assert (record["kind"], record["operation"], record["status"]) == (
        "exchange",
        "createWorkflow",
        202,
    )
    assert record["response"]["data"]["owner"] == {"id": "user-7", "name": "Alfin"}
    assert record["response"]["data"]["webhook_secret"] == "[REDACTED]"
    assert "Bearer" not in exchanges.read_text()
    assert f"overlay: {overlay} applied to the contract" in proxy.stdout

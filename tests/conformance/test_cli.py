"""`lenz-contract conform` end to end, over real HTTP: exit codes, outputs, reports, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis.configuration import set_hypothesis_home_dir

from lenz_contract.cli import main
from lenz_contract.cli.conform_cmd import parse_rate

from ..support.live import free_port, serve
from .support import TOKEN, state, target


@pytest.fixture(autouse=True)
def _hypothesis_home() -> Iterator[None]:
    """`conform` moves Hypothesis's storage out of the working directory; undo it for the suite."""
    yield
    set_hypothesis_home_dir(None)


@pytest.fixture
def live() -> Iterator[tuple[str, Any]]:
    app = target()
    with serve(app) as url:
        yield url, app


def conform(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["conform", *args], env=env, catch_exceptions=False)


def test_a_conforming_deployment_exits_0_with_reports(
    live: tuple[str, Any], tmp_path: Path
) -> None:
    url, app = live
    before = state(app)
    junit, report = tmp_path / "junit.xml", tmp_path / "report.md"
    args = ["--base-url", url, "--token", TOKEN, "--max-examples", "5", "--seed", "5"]
    result = conform(*args, "--junit-xml", str(junit), "--report", str(report))
    assert result.exit_code == 0, result.output
    assert "CONFORMS" in result.output and "Cleanup: every workflow" in result.output
    assert state(app) == before
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    cells = {(c.get("classname"), c.get("name")) for c in cases}
    assert len(cells) == len(cases) > 50  # one testcase per operation × check
    assert ("lenz.listWorkflows", "pagination_walk") in cells
    assert ("lenz.createWorkflow", "not_a_server_error") in cells
    assert suite.find("testcase/failure") is None
    assert report.read_text().startswith("# Lenz conformance: CONFORMS")


def test_strict_profile_over_http_with_execution(live: tuple[str, Any]) -> None:
    url, _ = live
    args = ["--base-url", url, "--token", TOKEN, "--profile", "strict", "--allow-execute"]
    result = conform(*args, "--max-examples", "3", "--seed", "9")
    assert result.exit_code == 0, result.output


def test_a_failure_exits_1_naming_the_check_with_a_curl(tmp_path: Path) -> None:
    app = target("search_exact")
    html, junit = tmp_path / "report.html", tmp_path / "junit.xml"
    with serve(app) as url:
        result = conform(
            "--base-url",
            url,
            "--token",
            TOKEN,
            "--only",
            "listWorkflows",
            "--max-examples",
            "3",
            "--report",
            str(html),
            "--junit-xml",
            str(junit),
        )
    assert result.exit_code == 1, result.output
    assert "search_partial on listWorkflows" in result.output
    assert "reproduce: curl -X GET" in result.output and TOKEN not in result.output
    page = html.read_text()
    failures = page.count("class='failure'")
    assert failures >= 1 and page.count("class='curl'") >= failures
    assert "$LENZ_TOKEN" in page and TOKEN not in page
    failed = ET.parse(junit).getroot().findall("testsuite/testcase[failure]")
    assert {c.get("name") for c in failed} >= {"search_partial"}


def test_markdown_report_has_a_curl_per_failure(tmp_path: Path) -> None:
    report = tmp_path / "qa.md"
    with serve(target("total_page_rounded_down")) as url:
        result = conform(
            "--base-url",
            url,
            "--token",
            TOKEN,
            "--only",
            "listWorkflows",
            "--max-examples",
            "3",
            "--exclude-check",
            "schemathesis",
            "--report",
            str(report),
        )
    assert result.exit_code == 1
    text = report.read_text()
    sections = text.split("\n### ")[1:]
    assert sections and all("```sh\ncurl -X " in s for s in sections)
    assert "pagination_total_page" in text and "documented" in text


def test_a_refused_token_exits_2_with_one_line(live: tuple[str, Any]) -> None:
    url, app = live
    result = CliRunner().invoke(main, ["conform", "--base-url", url, "--token", "wrong"])
    assert result.exit_code == 2
    assert "the token was refused" in result.output and "Traceback" not in result.output
    assert all(r.method == "GET" for r in app.state.request_log)


def test_an_unreachable_target_exits_2() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(main, ["conform", "--base-url", url, "--token", TOKEN])
    assert result.exit_code == 2 and "cannot reach" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["--rate-limit", "fast"],
        ["--report", "out.pdf"],
        ["--exclude-check", "no_such_check"],
        ["--only", "deleteEverything"],
        ["--profile", "lenient"],
        ["--base-url", "ftp://x"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    base = ["--base-url", "http://127.0.0.1:9", "--token", TOKEN]
    result = CliRunner().invoke(main, ["conform", *base, *args])
    assert result.exit_code == 2, result.output


def test_url_and_token_come_from_the_environment(live: tuple[str, Any]) -> None:
    url, _ = live
    env = {"LENZ_BASE_URL": url, "LENZ_TOKEN": TOKEN}
    result = conform(
        "--only", "getWorkflow", "--max-examples", "2", "--exclude-check", "schemathesis", env=env
    )
    assert result.exit_code == 0, result.output
    missing = CliRunner().invoke(main, ["conform", "--base-url", url], env={"LENZ_TOKEN": ""})
    assert missing.exit_code == 2


def test_rate_limits_parse() -> None:
    assert parse_rate("10/s") == 10.0 and parse_rate("30/m") == 0.5 and parse_rate(None) is None


def test_ctrl_c_cleans_up_what_the_run_created() -> None:
    """SIGINT in the middle of the generated phases: exit 130, the target as it was."""
    app = target()
    before = state(app)
    with serve(app) as url:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lenz_contract",
                "conform",
                "--base-url",
                url,
                "--token",
                TOKEN,
                "--max-examples",
                "50",
                "--seed",
                "1",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + 60
        # wait until the run has created more than the Lenz checks create (generation has begun)
        while len(app.state.workflows) < len(before["workflows"]) + 12:
            assert process.poll() is None and time.monotonic() < deadline, (
                "the run did not get going"
            )
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=120)
        assert state(app) == before, output.decode()[-2000:]
    text = output.decode()
    assert process.returncode == 130, text[-2000:]
    assert "generation: " in text  # it was interrupted in the generated phases
    assert "Traceback" not in text and "Cleanup: every workflow" in text and "INTERRUPTED" in text

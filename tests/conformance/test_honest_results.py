"""Honest results: the summary adds up like the tables, a lost target is exit 2, skips are
skips (and fail the run with --fail-on-skip), and failure texts print JSON as JSON."""

from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner
from hypothesis.configuration import set_hypothesis_home_dir
from starlette.types import Receive, Scope, Send

from lenz_contract.cli import main
from lenz_contract.conformance import Profile, Status
from lenz_contract.conformance.report.junit import render_junit
from lenz_contract.conformance.report.markdown import render_markdown
from lenz_contract.conformance.report.text import summary_line

from .support import TOKEN, checks_only, target


@pytest.fixture(autouse=True)
def _hypothesis_home() -> Iterator[None]:
    yield
    set_hypothesis_home_dir(None)


def test_the_summary_counts_what_the_tables_and_junit_count() -> None:
    result = checks_only(target(), Profile.DOCS, allow_execute=False)
    counts = result.counts()
    assert counts[Status.SKIPPED] > 0 and counts[Status.FAILED] == 0
    line = summary_line(result)
    assert line.startswith("CONFORMS: 0 failed, 0 errors, ")
    assert f"{counts[Status.SKIPPED]} skipped, {counts[Status.PASSED]} passed" in line
    suite = ET.fromstring(render_junit(result)).find("testsuite")
    assert suite is not None
    assert suite.get("skipped") == str(counts[Status.SKIPPED])
    assert suite.get("tests") == str(sum(counts.values()))
    assert suite.get("failures") == "0" and suite.get("errors") == "0"


def test_junit_marks_skipped_checks_skipped_with_the_reason() -> None:
    result = checks_only(target(), Profile.DOCS, allow_execute=False)
    suite = ET.fromstring(render_junit(result)).find("testsuite")
    assert suite is not None
    case = next(c for c in suite.iter("testcase") if c.get("name") == "execution_completes")
    skipped = case.find("skipped")
    assert skipped is not None and "--allow-execute" in (skipped.get("message") or "")


def test_the_summary_states_coverage() -> None:
    result = checks_only(target(), Profile.DOCS, allow_execute=False)
    lines = result.coverage()
    assert lines[0] == "7/7 operations exercised"
    assert any(
        line.startswith("skipped: execution_completes") and "--allow-execute" in line
        for line in lines
    ), lines
    assert "7/7 operations exercised" in render_markdown(result)


def test_fail_on_skip_fails_a_run_that_proved_less_than_asked() -> None:
    result = checks_only(target(), Profile.DOCS, allow_execute=False, fail_on_skip=True)
    assert result.exit_code == 1
    assert summary_line(result).startswith("INCOMPLETE (skipped checks, --fail-on-skip)")
    proved = checks_only(target(), Profile.DOCS, fail_on_skip=True)
    assert proved.exit_code == 0, proved.coverage()


def test_failure_texts_print_json_values_as_json() -> None:
    result = checks_only(target("description_null"), Profile.STRICT)
    messages = [f.message for f in result.failures if f.check == "crud_description_default"]
    assert messages and "as null" in messages[0] and "None" not in messages[0]


def test_a_failures_headline_says_what_was_wrong() -> None:
    result = checks_only(target("auth_ignored"), Profile.DOCS)
    failure = next(f for f in result.failures if f.check == "auth_missing_token")
    assert failure.message.startswith("a request without an Authorization header was not refused")
    assert failure.rule.reason and "Semua endpoint memerlukan" in failure.rule.reason


class StopsAfter:
    """An ASGI app that shuts its own uvicorn server down after `limit` requests."""

    def __init__(self, inner: Any, limit: int) -> None:
        self.inner, self.limit, self.count = inner, limit, 0
        self.server: uvicorn.Server | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.count += 1
            if self.count >= self.limit and self.server is not None:
                self.server.should_exit = True
        await self.inner(scope, receive, send)


@contextmanager
def stopping_server(app: StopsAfter) -> Iterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    app.server = server
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.mark.parametrize("limit", [25, 200])  # during the checks; during the generated phases
def test_a_target_that_stops_answering_mid_run_ends_with_exit_2(limit: int, tmp_path: Path) -> None:
    app = StopsAfter(target(), limit)
    junit = tmp_path / "junit.xml"
    with stopping_server(app) as url:
        result = CliRunner().invoke(
            main,
            [
                "conform",
                "--base-url",
                url,
                "--token",
                TOKEN,
                "--max-examples",
                "5",
                "--seed",
                "1",
                "--junit-xml",
                str(junit),
            ],
            catch_exceptions=False,
        )
    assert result.exit_code == 2, result.output
    assert "TARGET STOPPED ANSWERING" in result.output
    assert "the target stopped answering" in result.output
    assert "CONFORMS" not in result.output
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert any(c.get("name") == "target" for c in suite.iter("testcase"))

"""The reports: JUnit XML that parses whatever the server said, Markdown/HTML with a curl per
failure, the token never written anywhere."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lenz_contract.conformance import Exchange, Failure, Rule, RunResult, Source, Status
from lenz_contract.conformance.report import (
    render_html,
    render_junit,
    render_markdown,
    write_report,
)

RULE = Rule(
    "pagination_walk", "pagination", "docs", Source.DOCUMENTED, "each item once", None, "#/x"
)


def exchange(body: bytes) -> Exchange:
    return Exchange(
        index=3,
        phase="semantic",
        method="GET",
        url="http://lenz.test/api/workflows?page=2&limit=2",
        path="/api/workflows",
        request_headers=(("authorization", "Bearer $LENZ_TOKEN"), ("accept", "application/json")),
        request_body=b"",
        status=200,
        response_headers=(("content-type", "application/json"),),
        response_body=body,
        elapsed=0.01,
    )


def result() -> RunResult:
    out = RunResult(
        "abcd1234", "http://lenz.test", "docs", 42, replay="lenz-contract conform --seed 42"
    )
    failing = out.outcome("listWorkflows", "pagination_walk", RULE)
    failing.runs = 1
    failing.add_failure(
        Failure(
            "pagination_walk",
            "listWorkflows",
            RULE,
            "item 'wf-1' is on page 1 and again on page 2 <&> \x00\x1b",
            expected="each item on one page only",
            actual="200 ...",
            exchange=exchange(b'{"ok": true, "data": [{"id": "wf-1"}], "bad": "\x00\x07"}'),
            seed=42,
        )
    )
    passing = out.outcome("getWorkflow", "auth_missing_token", RULE)
    passing.runs = 1
    skipped = out.outcome("executeWorkflow", "execution_finished", RULE)
    skipped.status, skipped.detail = Status.SKIPPED, "execution is not allowed"
    return out


def test_junit_parses_with_one_testcase_per_cell() -> None:
    root = ET.fromstring(render_junit(result()))
    cases = root.findall("testsuite/testcase")
    assert len(cases) == 3
    failure = root.find("testsuite/testcase[@name='pagination_walk']/failure")
    assert failure is not None and failure.get("message", "").startswith("item 'wf-1'")
    assert "curl -X GET" in (failure.text or "") and "--seed" in (failure.text or "")
    assert root.find("testsuite/testcase[@name='execution_finished']/skipped") is not None
    assert root.get("failures") == "1" and root.get("skipped") == "1"


@pytest.mark.parametrize("render", [render_markdown, render_html])
def test_reports_show_a_curl_and_the_rule(render: object) -> None:
    text = render(result())  # type: ignore[operator]
    assert "curl -X GET" in text and "$LENZ_TOKEN" in text
    assert "pagination_walk" in text and "documented" in text and "42" in text


def test_the_report_format_follows_the_extension(tmp_path: Path) -> None:
    write_report(result(), tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text().startswith("<!doctype html>")
    with pytest.raises(ValueError):
        write_report(result(), tmp_path / "r.pdf")

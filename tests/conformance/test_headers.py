"""`--header`: a header sent with every request of a run (a gateway's key, the mock's namespace).

Risk covered: a deployment behind a gateway that wants its own key cannot be tested at all, a
key given on the command line ends up in a report, or a run against a team's shared mock writes
into everybody's namespace.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.types import Receive, Scope, Send

from lenz_contract import mock
from lenz_contract.cli import main
from lenz_contract.conformance import PreflightError, RunOptions, Target, run
from lenz_contract.conformance.headers import HeaderError, is_secret, parse_header
from lenz_contract.mock.auth import DEFAULT_TOKEN
from lenz_contract.mock.namespaces import NAMESPACE_HEADER

from ..support.live import serve
from .support import TOKEN, Wrapped, checks_only, target

KEY = "gw-key-7f3a9c2e"


class Gateway:
    """A gateway in front of a correct server: without `X-Api-Key: KEY`, a 403 of its own."""

    def __init__(self, *breaks: str) -> None:
        self.inner = target(*breaks)
        self.seen: list[str | None] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            key = dict(scope["headers"]).get(b"x-api-key")
            self.seen.append(key.decode() if key else None)
            if key != KEY.encode():
                body = json.dumps({"message": "missing or wrong API key"}).encode()
                headers = [(b"content-type", b"application/json")]
                await send({"type": "http.response.start", "status": 403, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.inner(scope, receive, send)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("X-Api-Key: abc123", ("X-Api-Key", "abc123")),
        ("  X-Lenz-Mock-Namespace:qa-1 ", ("X-Lenz-Mock-Namespace", "qa-1")),
        ("X-Empty:", ("X-Empty", "")),
        ("X-Url: https://a.example/b?c=d:e", ("X-Url", "https://a.example/b?c=d:e")),
    ],
)
def test_a_header_is_name_colon_value(text: str, parsed: tuple[str, str]) -> None:
    assert parse_header(text) == parsed


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("X-Api-Key abc", "is not NAME: VALUE"),
        (": abc", "is not NAME: VALUE"),
        ("X Api: abc", "is not a header name"),
        ("X-Api-Key: a\r\nX-Evil: 1", "line break"),
        ("Authorization: Bearer abc", "pass the token with --token"),
        ("host: evil.example", "Host comes from --base-url"),
        ("Content-Length: 5", "set by the run"),
    ],
)
def test_a_header_the_run_cannot_send_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(HeaderError, match=reason):
        parse_header(text)


def test_secret_looking_names() -> None:
    assert all(map(is_secret, ["X-Api-Key", "Cookie", "X-Auth-Token", "X-Session-Id"]))
    assert not any(map(is_secret, [NAMESPACE_HEADER, "X-Request-Id", "X-Tenant"]))


def test_every_request_of_a_run_carries_the_header() -> None:
    gateway = Gateway()
    app = Wrapped(gateway.inner, gateway)
    result = checks_only(app, headers=(("X-Api-Key", KEY),))
    assert result.exit_code == 0, [
        o for o in result.outcomes.values() if o.status.value != "passed"
    ]
    assert len(gateway.seen) > 50 and set(gateway.seen) == {KEY}


def test_without_the_gateways_key_the_run_stops_at_the_preflight() -> None:
    gateway = Gateway()
    with pytest.raises(PreflightError, match=r"answered 403 \(missing or wrong API key\)"):
        checks_only(Wrapped(gateway.inner, gateway))
    assert gateway.seen == [None]  # one request, then nothing


@pytest.mark.parametrize("kind", ["md", "html"])
def test_the_key_never_reaches_a_report_and_the_cli_refuses_a_header_it_cannot_send(
    tmp_path: Path, kind: str
) -> None:
    """A failing run (search ignores case) prints its requests for `curl`: with the header
    named and its value as `***`, the namespace-like headers as they are."""
    gateway = Gateway("search_case_sensitive")
    junit, report = tmp_path / "junit.xml", tmp_path / f"report.{kind}"
    with serve(gateway) as url:
        args = ["conform", "--base-url", url, "--token", TOKEN, "--max-examples", "3"]
        args += ["--seed", "3", "--junit-xml", str(junit), "--report", str(report)]
        done = CliRunner().invoke(
            main, [*args, "-H", f"X-Api-Key: {KEY}", "-H", "X-Tenant: tenant-42"]
        )
        refused = CliRunner().invoke(main, [*args, "-H", f"Authorization: Bearer {KEY}"])
    assert done.exit_code == 1, done.output
    written = done.output + junit.read_text() + report.read_text()
    assert KEY not in written
    shown = report.read_text().lower()  # headers as the client sends them: lower case
    assert "curl" in shown and "x-api-key: ***" in shown and "x-tenant: tenant-42" in shown
    assert refused.exit_code == 2 and "pass the token with --token" in refused.output


def test_a_run_against_a_shared_mock_stays_in_its_namespace() -> None:
    app = mock.create_app(self_check=True)
    state_ = app.state.mock
    default_before = [
        w["id"] for w in state_.namespaces.get("default").store.list_workflows("", 0, 100).items
    ]
    options = RunOptions(
        generation=False, allow_execute=True, headers=((NAMESPACE_HEADER, "qa-1"),)
    )
    result = run(Target.in_process(app), DEFAULT_TOKEN, options)
    assert result.exit_code == 0, [
        o for o in result.outcomes.values() if o.status.value != "passed"
    ]
    qa = state_.namespaces.known("qa-1")
    assert qa is not None and len(qa.recorder.last(200)) > 50
    default = state_.namespaces.get("default")
    assert [w["id"] for w in default.store.list_workflows("", 0, 100).items] == default_before
    assert default.recorder.last(200) == []


def test_the_pytest_plugin_takes_headers_too(tmp_path: Path) -> None:
    gateway = Gateway()
    with serve(gateway) as url:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
             "-q", "--pyargs", "lenz_contract.conformance", "--lenz-base-url", url,
             "--lenz-token", TOKEN, "--lenz-no-generation", "--lenz-only", "listWorkflows",
             "--lenz-header", f"X-Api-Key: {KEY}"],
            cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    assert "passed" in done.stdout and KEY not in done.stdout
    assert set(gateway.seen) == {KEY}

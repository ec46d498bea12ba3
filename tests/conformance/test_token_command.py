"""Short-lived tokens: `--token-command` runs at the start and again after a 401 mid-run.

The test server here hands out tokens that expire: every few requests the valid token changes
and the old one answers 401, as a deployment with short-lived JWTs does. The token command
prints the currently valid one. The run must pass, refresh, and never write a token anywhere.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis.configuration import set_hypothesis_home_dir
from starlette.types import Receive, Scope, Send

from lenz_contract.cli import main
from lenz_contract.conformance import Profile, RunOptions, Target, run

from ..support.live import serve
from .servers import make_app
from .support import foreign_workflows

TOKENS = [f"short-lived-{n:03d}-secret" for n in range(1, 200)]


class Expiring:
    """A Lenz server whose valid token changes every `every` requests (the old one: 401)."""

    def __init__(self, folder: Path, every: int = 25) -> None:
        self.inner = make_app(tokens=dict.fromkeys(TOKENS, "user-qa"), seed=foreign_workflows())
        self.state = self.inner.state
        self.every = every
        self.count = 0
        self.file = folder / "current-token"
        self.file.write_text(TOKENS[0])
        self.refused = 0

    @property
    def current(self) -> str:
        return TOKENS[min(self.count // self.every, len(TOKENS) - 1)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.count += 1
            self.file.write_text(self.current)
            sent = dict(scope["headers"]).get(b"authorization", b"").decode()
            token = sent.removeprefix("Bearer ")
            if token in TOKENS and token != self.current:
                self.refused += 1
                body = b'{"ok": false, "message": "token expired"}'
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.inner(scope, receive, send)


def command_printing(path: Path) -> str:
    return f'{shlex.quote(sys.executable)} -c "print(open({str(path)!r}).read())"'


@pytest.fixture(autouse=True)
def _hypothesis_home() -> Iterator[None]:
    yield
    set_hypothesis_home_dir(None)


def test_expired_tokens_are_renewed_mid_run_and_never_written(tmp_path: Path) -> None:
    server = Expiring(tmp_path)
    junit, report = tmp_path / "junit.xml", tmp_path / "report.md"
    with serve(server) as url:
        result = CliRunner().invoke(
            main,
            [
                "conform",
                "--base-url",
                url,
                "--token-command",
                command_printing(server.file),
                "--allow-execute",
                "--max-examples",
                "3",
                "--seed",
                "3",
                "--junit-xml",
                str(junit),
                "--report",
                str(report),
            ],
            catch_exceptions=False,
        )
    assert result.exit_code == 0, result.output
    assert server.refused > 0  # tokens really expired during the run
    for text in (result.output, junit.read_text(), report.read_text()):
        assert "short-lived-" not in text
        assert "secret" not in text


def test_renewals_are_counted_and_the_exchanges_keep_the_placeholder(tmp_path: Path) -> None:
    server = Expiring(tmp_path, every=15)
    options = RunOptions(
        profile=Profile.DOCS,
        generation=False,
        allow_execute=True,
        token_command=command_printing(server.file),
    )
    with serve(server) as url:
        found = run(Target.http(url), "", options)
    assert found.exit_code == 0, [f.summary() for f in found.failures]
    assert found.token_refreshes >= 2
    assert server.refused >= found.token_refreshes


def test_a_static_token_that_expires_is_a_failure_of_the_run_not_a_crash(tmp_path: Path) -> None:
    server = Expiring(tmp_path, every=30)
    options = RunOptions(profile=Profile.DOCS, generation=False, allow_execute=True)
    with serve(server) as url:
        found = run(Target.http(url), TOKENS[0], options)
    assert found.exit_code == 1
    assert found.token_refreshes == 0


@pytest.mark.parametrize(
    ("command", "said"),
    [
        ("exit 3", "the token command exited 3"),
        ("echo 'nope' >&2; exit 1", "nope"),
        ("true", "printed no token"),
        ("echo two words", "not one token"),
    ],
)
def test_a_failing_token_command_stops_the_run_with_exit_2(
    tmp_path: Path, command: str, said: str
) -> None:
    server: Any = make_app()
    with serve(server) as url:
        result = CliRunner().invoke(
            main,
            ["conform", "--base-url", url, "--token-command", command],
            catch_exceptions=False,
        )
    assert result.exit_code == 2, result.output
    assert said in result.output
    assert server.state.request_log == []  # nothing was sent without a token


def test_no_token_and_no_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(
        main, ["conform", "--base-url", "http://127.0.0.1:9"], env={"LENZ_TOKEN": ""}
    )
    assert result.exit_code == 2
    assert "--token-command" in result.output

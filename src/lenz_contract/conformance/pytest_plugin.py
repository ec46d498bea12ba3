"""The conformance suite as a pytest plugin, for teams that want it in their own test runs.

    pytest --pyargs lenz_contract.conformance --lenz-base-url URL --lenz-token TOKEN

It is registered under `pytest11`, so it loads in every pytest run of an environment that has
lenz-contract installed (this project's own included): it only adds options and fixtures, and
does nothing until `--lenz-base-url` is given. The tests live in `test_conformance.py` beside it:
one per Lenz check, one per operation for the generated phases, one for the exchange checks.
Cleanup runs at the end of the session; anything it could not delete fails the session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .checks import Check
    from .context import RunContext
    from .results import Outcome, RunResult
    from .session import Session


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lenz", "Lenz Workflows API conformance (lenz-contract)")
    group.addoption(
        "--lenz-base-url", default=None, help="The Lenz deployment to test (enables the suite)."
    )
    group.addoption("--lenz-token", default=None, help="Bearer token (default: env LENZ_TOKEN).")
    group.addoption(
        "--lenz-token-command",
        default=None,
        help="A command that prints a bearer token, run at start and after a 401 "
        "(default: env LENZ_TOKEN_COMMAND).",
    )
    group.addoption(
        "--lenz-profile", choices=("docs", "strict"), default="docs", help="Profile (docs)."
    )
    group.addoption("--lenz-read-only", action="store_true", help="GET requests only.")
    group.addoption("--lenz-allow-execute", action="store_true", help="Run the execution checks.")
    group.addoption(
        "--lenz-max-examples", type=int, default=50, help="Generated cases per operation."
    )
    group.addoption("--lenz-seed", type=int, default=None, help="Seed to replay a run.")
    group.addoption(
        "--lenz-only", action="append", default=[], help="Only this operationId (repeatable)."
    )
    group.addoption(
        "--lenz-header",
        action="append",
        default=[],
        metavar="NAME: VALUE",
        help="Send this header with every request (repeatable), as conform's --header.",
    )
    group.addoption(
        "--lenz-no-generation",
        action="store_true",
        help="Run the Lenz checks only (no schemathesis).",
    )


def enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("--lenz-base-url", default=None))


def build_context(config: pytest.Config) -> RunContext:
    """The run the options describe (no request is sent here)."""
    from .context import Profile, RunContext, RunOptions, Target
    from .headers import HeaderError, parse_header

    try:
        headers = tuple(parse_header(h) for h in config.getoption("--lenz-header"))
    except HeaderError as exc:
        raise pytest.UsageError(f"--lenz-header: {exc}") from None
    options = RunOptions(
        headers=headers,
        profile=Profile(config.getoption("--lenz-profile")),
        read_only=config.getoption("--lenz-read-only"),
        allow_execute=config.getoption("--lenz-allow-execute"),
        max_examples=config.getoption("--lenz-max-examples"),
        seed=config.getoption("--lenz-seed"),
        only=tuple(config.getoption("--lenz-only")),
        generation=not config.getoption("--lenz-no-generation"),
        token_command=config.getoption("--lenz-token-command")
        or os.environ.get("LENZ_TOKEN_COMMAND")
        or None,
    )
    token = config.getoption("--lenz-token") or os.environ.get("LENZ_TOKEN", "")
    return RunContext(Target.http(config.getoption("--lenz-base-url")), token, options)


class PluginRun:
    """One conformance run spread over a pytest session."""

    def __init__(self, ctx: RunContext) -> None:
        from .results import RunResult
        from .session import Session

        self.ctx = ctx
        self.session: Session = Session(ctx)
        self.result: RunResult = RunResult(
            ctx.run_id, ctx.target.describe(), ctx.profile.value, ctx.seed
        )
        self._generated = False

    def check(self, check: Check) -> list[Outcome]:
        from .runner import run_check

        return run_check(self.session, check, self.result)

    def generated(self) -> RunResult:
        if not self._generated:
            from .generation import run_generation
            from .runner import NullReporter

            self._generated = True
            run_generation(self.session, self.result, NullReporter(), self.ctx.options.time_budget)
        return self.result

    def audit(self) -> RunResult:
        from .runner import audit_exchanges, report_safety_events

        audit_exchanges(self.session, self.result)
        if self.ctx.may_write:
            report_safety_events(self.session, self.result)
        return self.result


@pytest.fixture(scope="session")
def lenz_run(pytestconfig: pytest.Config) -> Iterator[PluginRun]:
    """The session's conformance run (preflight on first use, cleanup at the end)."""
    if not enabled(pytestconfig):
        pytest.skip("the Lenz conformance suite needs --lenz-base-url")
    from .session import PreflightError

    run = PluginRun(build_context(pytestconfig))
    try:
        run.session.preflight()
    except PreflightError as exc:
        run.session.close()
        pytest.exit(f"lenz-contract: {exc}", returncode=2)
    run.result.is_mock, run.result.execute_allowed = run.ctx.is_mock, run.ctx.execute_allowed
    try:
        yield run
    finally:
        report = run.session.cleanup()
        run.session.close()
        if report.leftovers:
            pytest.fail(
                "lenz-contract could not delete what it created: " + ", ".join(report.leftovers),
                pytrace=False,
            )


def describe(result: RunResult, outcomes: list[Outcome]) -> str:
    from .report.text import failure_text

    return "\n\n".join(failure_text(result, f) for o in outcomes for f in o.failures)


def verdict(result: RunResult, outcomes: list[Outcome]) -> None:
    """Fail, skip or pass a test from the outcomes it stands for."""
    from .results import Status

    failed = [o for o in outcomes if o.status is Status.FAILED]
    if failed:
        pytest.fail(describe(result, failed), pytrace=False)
    errors = [o for o in outcomes if o.status is Status.ERROR]
    if errors:
        pytest.fail("; ".join(f"{o.operation}: {o.detail}" for o in errors), pytrace=False)
    if outcomes and all(o.status is Status.SKIPPED for o in outcomes):
        pytest.skip(outcomes[0].detail or "not exercised")


def session_of(run: PluginRun) -> Session:
    return run.session

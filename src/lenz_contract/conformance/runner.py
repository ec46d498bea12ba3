"""A whole run: preflight, the Lenz checks, the generated phases, the exchange audit, cleanup.

The order is chosen for the person waiting: the preflight fails fast (unreachable target, refused
token), the Lenz checks are few and deterministic so their verdicts come first, and the generated
phases take whatever time budget is left. Cleanup runs however the run ends (a failure, an
exception, Ctrl-C).
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from ..spec import Source, Spec
from .checks import (
    Check,
    CheckAborted,
    CheckRun,
    CheckSkipped,
    SetupFailed,
    exchange_checks,
    semantic_checks,
)
from .client import TransportProblem
from .context import RunContext, RunOptions, Target
from .guard import GuardRefused
from .profiles import excluded
from .results import Failure, Outcome, Rule, RunResult, Status
from .session import PreflightError, Session

__all__ = ["PreflightError", "Reporter", "run", "run_check", "run_checks", "selected_checks"]

TRANSPORT = TransportProblem.__name__


class Reporter(Protocol):
    """Progress of a run, as it happens (the console shows it live)."""

    def phase(self, name: str) -> None: ...

    def outcome(self, outcome: Outcome, result: RunResult) -> None: ...

    def scenario(self, phase: str, label: str, result: RunResult) -> None: ...


class NullReporter:
    def phase(self, name: str) -> None:
        pass

    def outcome(self, outcome: Outcome, result: RunResult) -> None:
        pass

    def scenario(self, phase: str, label: str, result: RunResult) -> None:
        pass


def selected_checks(ctx: RunContext) -> list[Check]:
    """The Lenz checks this run asserts: its profile, minus `--exclude-check`, within `--only`."""
    wanted = set(ctx.options.checks)
    only = set(ctx.operations())
    return [
        check
        for check in semantic_checks().values()
        if ctx.profile.includes(check.profile)
        and not excluded(ctx, check.name, check.family)
        and (not wanted or check.name in wanted or check.family in wanted)
        and only.intersection(check.covers(ctx.spec))
    ]


def run_checks(session: Session, result: RunResult, reporter: Reporter | None = None) -> None:
    """Run the Lenz checks of the profile, recording one outcome per check and operation.

    A check that could not reach the target makes the run ask once more; if the target is gone,
    the run stops there (exit 2) instead of erroring every check that is left.
    """
    for check in selected_checks(session.ctx):
        outcomes = run_check(session, check, result, reporter)
        lost = any(o.status is Status.ERROR and TRANSPORT in o.detail for o in outcomes)
        if lost and (why := session.unreachable()):
            result.target_lost = why
            return


def run_check(
    session: Session, check: Check, result: RunResult, reporter: Reporter | None = None
) -> list[Outcome]:
    """Run one Lenz check; its outcomes (one per operation it speaks about) go into `result`."""
    reporter = reporter or NullReporter()
    ctx = session.ctx
    only = ctx.operations()
    rule = check.rule_for(ctx.spec)
    operations = [op for op in check.covers(ctx.spec) if op in only]
    skip = _cannot_run(ctx, check)
    run = CheckRun(session, check, rule)
    status, detail = Status.PASSED, ""
    if skip:
        status, detail = Status.SKIPPED, skip
    else:
        reporter.phase(f"checks: {check.name}")
        try:
            assert check.run is not None
            check.run(run)
        except CheckSkipped as exc:
            status, detail = Status.SKIPPED, str(exc)
        except CheckAborted:
            pass
        except SetupFailed as exc:
            status, detail = Status.SKIPPED, f"its setup failed earlier ({exc})"
        except (TransportProblem, GuardRefused) as exc:
            status, detail = Status.ERROR, f"{type(exc).__name__}: {exc}"
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # a check must not stop the run; say what broke
            status, detail = Status.ERROR, f"the check crashed: {type(exc).__name__}: {exc}"
    outcomes = []
    for operation in operations:
        outcome = result.outcome(operation, check.name, rule)
        outcome.runs += 1
        for failure in run.failures:
            if failure.operation == operation:
                outcome.add_failure(failure)
        if outcome.status is not Status.FAILED:
            if status is not Status.PASSED:
                outcome.status, outcome.detail = status, detail
            elif operation not in run.touched:
                outcome.status, outcome.detail = Status.SKIPPED, "not exercised in this run"
        outcomes.append(outcome)
    for failure in run.failures:  # a failure on an operation the check does not name (its setup)
        if failure.operation not in operations:
            outcome = result.outcome(failure.operation, check.name, rule)
            outcome.runs += 1
            outcome.add_failure(failure)
            outcomes.append(outcome)
    for outcome in outcomes:
        reporter.outcome(outcome, result)
    return outcomes


def _cannot_run(ctx: RunContext, check: Check) -> str:
    if ctx.options.read_only and "write" in check.needs and not check.read_only:
        return "read-only run: the check needs to create workflows"
    if "execute" in check.needs and not ctx.execute_allowed:
        return "execution is not allowed: pass --allow-execute (the mock is detected by itself)"
    return ""


def audit_exchanges(session: Session, result: RunResult) -> None:
    """Apply the exchange checks to every answer of the run (see `checks.responses`)."""
    ctx = session.ctx
    only = set(ctx.operations())
    checks = [
        c
        for c in exchange_checks().values()
        if ctx.profile.includes(c.profile) and not excluded(ctx, c.name, c.family)
    ]
    rules = {c.name: c.rule_for(ctx.spec) for c in checks}
    for exchange in list(session.transport.exchanges):
        for check in checks:
            if exchange.phase not in check.phases:
                continue
            # a rule means the same in every run: a docs rule judges with the DOCS view
            view = ctx.spec.as_view(check.profile.view)
            op, _, _ = view.match(exchange.method, exchange.path)
            if op is None or op.operation_id not in only:
                continue
            outcome = result.outcome(op.operation_id, check.name, rules[check.name])
            outcome.runs += 1
            assert check.judge is not None
            why = check.judge(view, op, exchange)
            if why:
                outcome.add_failure(
                    Failure(
                        check=check.name,
                        operation=op.operation_id,
                        rule=rules[check.name],
                        message=why,
                        expected=rules[check.name].text,
                        actual=f"{exchange.status} {exchange.body_excerpt(200)}",
                        exchange=exchange,
                        phase=exchange.phase,
                        seed=ctx.seed,
                    )
                )


SAFETY_RULE = Rule(
    check="created_inactive",
    family="safety",
    profile="docs",
    source=Source.DOCUMENTED,
    text="a workflow created or updated with is_active false is stored and answered inactive",
    reason="the docs: `is_active` is a documented field (the create and update examples send it)",
    pointer="#/components/schemas/WorkflowInput/properties/is_active",
)


def report_safety_events(session: Session, result: RunResult) -> None:
    """Every workflow of the run that a deployment answered active, and what was done about it.

    Checked on every answer; the guard switched each one off at once. One outcome per run (the
    rule holds for the whole API), failed by each event.
    """
    outcome = result.outcome("createWorkflow", SAFETY_RULE.check, SAFETY_RULE)
    outcome.runs += 1
    for event in session.guard.safety_events:
        exchange = session.transport.exchange(event.exchange)
        operation = "createWorkflow"
        if exchange is not None:
            op, _, _ = session.ctx.spec.match(exchange.method, exchange.path)
            operation = op.operation_id if op is not None else operation
        result.safety.append(f"{event.workflow_id}: answered active; {event.action}")
        outcome.add_failure(
            Failure(
                check=SAFETY_RULE.check,
                operation="createWorkflow",
                rule=SAFETY_RULE,
                message=f"SAFETY: workflow {event.workflow_id!r} of this run was answered active "
                f"(by {operation}) although the run sent is_active false; it was "
                f"{event.action}",
                expected="is_active false",
                actual=f"{exchange.status} {exchange.body_excerpt(200)}" if exchange else "",
                exchange=exchange,
                phase=exchange.phase if exchange else "semantic",
                seed=session.ctx.seed,
            )
        )


def exercised(session: Session) -> set[str]:
    """The operations that answered some request of the checks or of the generated phases."""
    found = set()
    for exchange in session.transport.exchanges:
        if exchange.phase in ("semantic", "generation") and exchange.status is not None:
            op, _, _ = session.ctx.spec.match(exchange.method, exchange.path)
            if op is not None:
                found.add(op.operation_id)
    return found


def replay_command(ctx: RunContext) -> str:
    """`lenz-contract conform ...` with the options and the seed of this run."""
    options = ctx.options
    parts = [
        "lenz-contract conform",
        f"--base-url {ctx.target.base_url}",
        f"--profile {ctx.profile.value}",
    ]
    parts.append(f"--seed {ctx.seed}")
    parts.append(f"--max-examples {options.max_examples}")
    if options.read_only:
        parts.append("--read-only")
    if options.allow_execute:
        parts.append("--allow-execute")
    if options.fail_on_skip:
        parts.append("--fail-on-skip")
    return " ".join(parts)


def run(
    target: Target,
    token: str,
    options: RunOptions | None = None,
    *,
    reporter: Reporter | None = None,
    run_id: str | None = None,
    inner: Any = None,
    spec: Spec | None = None,
) -> RunResult:
    """One conformance run; raises `PreflightError` when it cannot start (exit 2).

    `spec`: the contract to check against (default: the shipped one), e.g. one amended by an
    overlay (`Spec.load(overlay=...)`) to try it before editing the shipped contract.
    """
    from .generation import run_generation

    reporter = reporter or NullReporter()
    options = options or RunOptions()
    ctx = (
        RunContext(target=target, token=token, options=options, spec=spec)
        if spec is not None
        else RunContext(target=target, token=token, options=options)
    )
    if run_id is not None:
        ctx.run_id = run_id
    session = Session(ctx, inner)
    watch = getattr(reporter, "watch", None)
    if watch is not None:  # live request counts for the console
        watch(lambda: len(session.transport.exchanges))
    result = RunResult(ctx.run_id, target.describe(), ctx.profile.value, ctx.seed)
    started = time.monotonic()
    try:
        reporter.phase("preflight")
        session.preflight()
    except BaseException:
        session.close()
        raise
    result.is_mock, result.execute_allowed = ctx.is_mock, ctx.execute_allowed
    result.replay = replay_command(ctx)
    result.fail_on_skip = ctx.options.fail_on_skip
    result.operations_asked = ctx.operations()
    try:
        if ctx.options.semantic:
            run_checks(session, result, reporter)
        if ctx.options.generation and not result.interrupted and not result.target_lost:
            budget = ctx.options.time_budget
            if budget is not None:
                budget = max(1.0, budget - (time.monotonic() - started))
            run_generation(session, result, reporter, budget)
    except KeyboardInterrupt:
        result.interrupted = True
    finally:
        try:
            reporter.phase("cleanup")
            report = session.cleanup()
            result.interrupted = result.interrupted or report.interrupted
            result.leftovers = report.leftovers
        finally:
            audit_exchanges(session, result)
            if ctx.may_write:
                report_safety_events(session, result)
            result.operations_exercised = exercised(session)
            result.errors += [f"token refresh: {e}" for e in session.transport.token_errors]
            result.created = list(session.guard.owned)
            result.requests = len(session.transport.exchanges)
            result.requests_by_phase = dict(session.transport.by_phase)
            if session.guard.unparsed_creates:
                result.notes.append(
                    f"{session.guard.unparsed_creates} create(s) answered 2xx without data.id: "
                    "the cleanup looked for them by the run's name"
                )
            result.guard_rewrites = session.guard.rewrites
            result.guard_refusals = session.guard.refusals
            result.rate_limit_waits = session.transport.rate_limit_waits
            result.token_refreshes = ctx.tokens.refreshes
            result.duration = time.monotonic() - started
            session.close()
    return result
